//! The rebalance cycle: unresolved payments are reconciled, the policy proposes, the guards
//! judge each proposal, the budget is reserved atomically, the executor pays, the ledger books
//! the fee actually paid.

use super::{CycleDeps, CycleError, gather};
use crate::{
    analytics::defibrillator::{DIAGNOSTIC_WINDOW_SECS, DiagnosticHistory, PROBE_SECS},
    config::ConfigSnapshot,
    guards::rebalance::{RebalanceFacts, RebalanceVerdict, SlotLoad, budget_cap, judge},
    model::{
        CallContext, PolicyKind, ProfitabilityClass, RebalanceBudget, RebalanceKind,
        RebalanceProposal, Snapshot,
    },
    money::Msat,
    rebalance::{RebalanceOrder, RebalanceOutcome, execute, in_flight, reconcile},
    store::CycleRecord,
};
use serde::Serialize;
use std::time::Instant;

const DAY_SECS: u64 = 86_400;

#[derive(Clone, Debug, Serialize)]
pub struct RebalanceDecisionOutcome {
    pub proposal: RebalanceProposal,
    #[serde(flatten)]
    pub verdict: RebalanceVerdict,
    /// What the executor made of it (none when refused or in a dry run).
    pub outcome: Option<RebalanceOutcome>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RebalanceCycleReport {
    pub cycle_id: u64,
    pub started_at: u64,
    pub policy: String,
    pub dry_run: bool,
    pub budget_cap: Msat,
    pub budget_spent: Msat,
    pub policy_error: Option<String>,
    pub decisions: Vec<RebalanceDecisionOutcome>,
    pub duration_us: u64,
}

fn load_of(snapshot: &Snapshot, index: usize) -> SlotLoad {
    SlotLoad {
        pending: snapshot
            .htlcs
            .iter()
            .filter(|h| h.channel as usize == index)
            .map(|h| h.amount)
            .collect(),
        max_accepted_htlcs: snapshot.channels[index].max_accepted_htlcs,
    }
}

/// One rebalance cycle with the rebalance policy in registry slot `slot`.
pub fn run_rebalance_cycle(
    deps: &mut CycleDeps<'_>,
    config: &ConfigSnapshot,
    slot: &str,
    seed: u64,
    force_dry_run: bool,
) -> Result<RebalanceCycleReport, CycleError> {
    let started = Instant::now();
    let dry_run = force_dry_run || config.dry_run;
    // Payments left unresolved (a restart, a payment in flight) are booked first, and the
    // reservations of moves interrupted before sending are released: the budget is then true.
    reconcile(deps.node, deps.store)?;
    let now = deps.node.now_secs();
    let gathered = gather::gather_from_node(deps, now)?;
    let snapshot = &gathered.snapshot;
    let limits = &config.rebalance;
    let revenue_24h = Msat::checked_sum(snapshot.channels.iter().map(|c| c.flow.fees_earned_1d))
        .unwrap_or(Msat::MAX);
    let since = now.saturating_sub(DAY_SECS);
    let cap = budget_cap(limits.daily_budget, revenue_24h);
    let spent = deps.store.rebalance_spent_since(since)?;
    let budget = RebalanceBudget {
        remaining: cap.saturating_sub(spent),
        max_fee_ppm: limits.max_fee_ppm,
        max_concurrent: limits.max_concurrent,
        in_flight: in_flight(deps.store)?,
        diagnostic_max_fee: limits.diagnostic_max_fee,
        spent_7d: deps
            .store
            .rebalance_spent_since(now.saturating_sub(7 * DAY_SECS))?,
    };
    let ctx = CallContext {
        now_secs: now,
        previous_call_secs: deps
            .store
            .last_successful_cycle(PolicyKind::Rebalance.as_str())?
            .map(|(_, c)| c.started_at),
        seed,
        state: deps.store.policy_state(PolicyKind::Rebalance, slot)?,
    };
    let mut report = RebalanceCycleReport {
        cycle_id: 0,
        started_at: now,
        policy: deps
            .registry
            .active(PolicyKind::Rebalance, slot)
            .map(|p| p.label())
            .unwrap_or_else(|e| e.to_string()),
        dry_run,
        budget_cap: cap,
        budget_spent: spent,
        policy_error: None,
        decisions: Vec::new(),
        duration_us: 0,
    };
    match deps
        .registry
        .propose_rebalances(slot, &ctx, snapshot, &budget)
    {
        Ok(called) => {
            deps.store
                .save_policy_state(PolicyKind::Rebalance, slot, &called.value.state)?;
            for (index, proposal) in called.value.proposals.into_iter().enumerate() {
                let decision = decide_one(
                    deps,
                    seed.wrapping_add(index as u64),
                    snapshot,
                    config,
                    &proposal,
                    revenue_24h,
                    cap,
                    dry_run,
                    now,
                )?;
                report.decisions.push(decision);
            }
        }
        Err(error) => {
            tracing::warn!(slot = %slot, %error, "rebalance policy produced no decision; nothing moves this cycle");
            report.policy_error = Some(error.to_string());
        }
    }
    report.duration_us = started.elapsed().as_micros() as u64;
    report.cycle_id = record(deps, &report, seed, config.generation)?;
    Ok(report)
}

#[allow(clippy::too_many_arguments, reason = "the facts of one decision")]
fn decide_one(
    deps: &mut CycleDeps<'_>,
    label_tag: u64,
    snapshot: &Snapshot,
    config: &ConfigSnapshot,
    proposal: &RebalanceProposal,
    revenue_24h: Msat,
    cap: Msat,
    dry_run: bool,
    now: u64,
) -> Result<RebalanceDecisionOutcome, CycleError> {
    let index = |id| snapshot.channels.iter().position(|c| c.id == id);
    // Validated by the runtime: both name snapshot channels.
    let (source, destination) = (
        index(proposal.source).expect("validated"),
        index(proposal.destination).expect("validated"),
    );
    let (failures_in_a_row, last_failure) = deps
        .store
        .rebalance_failures(proposal.source, proposal.destination)?;
    let diagnostic = proposal.kind == RebalanceKind::Diagnostic;
    let destination_view = &snapshot.channels[destination];
    let facts = RebalanceFacts {
        source_load: load_of(snapshot, source),
        destination_load: load_of(snapshot, destination),
        spent_24h: deps
            .store
            .rebalance_spent_since(now.saturating_sub(DAY_SECS))?,
        revenue_24h,
        in_flight: in_flight(deps.store)?,
        last_into_destination: deps
            .store
            .last_rebalance(None, Some(proposal.destination))?,
        failures_in_a_row,
        last_failure,
        last_reverse: deps
            .store
            .last_rebalance(Some(proposal.destination), Some(proposal.source))?,
        destination_stagnant: destination_view.class == ProfitabilityClass::StagnantCandidate,
        destination_probing: destination_view.probe_active,
        destination_diagnostics: if diagnostic {
            deps.store
                .diagnostic_histories(now.saturating_sub(DIAGNOSTIC_WINDOW_SECS))?
                .remove(&proposal.destination)
                .unwrap_or_default()
        } else {
            DiagnosticHistory::default()
        },
    };
    let verdict = judge(proposal, &facts, &config.rebalance, now);
    let RebalanceVerdict::Go { max_fee } = verdict else {
        return Ok(RebalanceDecisionOutcome {
            proposal: proposal.clone(),
            verdict,
            outcome: None,
        });
    };
    if dry_run {
        return Ok(RebalanceDecisionOutcome {
            proposal: proposal.clone(),
            verdict,
            outcome: None,
        });
    }
    let since = now.saturating_sub(DAY_SECS);
    let Some(reservation) = deps.store.reserve_rebalance_fee(max_fee, cap, since, now)? else {
        return Ok(RebalanceDecisionOutcome {
            proposal: proposal.clone(),
            verdict: RebalanceVerdict::Refuse {
                reason: "budget: spent by a concurrent move".into(),
            },
            outcome: None,
        });
    };
    let order = RebalanceOrder {
        source: proposal.source,
        destination: proposal.destination,
        amount: proposal.amount,
        max_fee,
        // Unique even for the same move in the same second (a restart right after a crash):
        // the tag comes from the cycle's seed.
        label: format!(
            "revops-{}-{now}-{}-{}-{label_tag:016x}",
            proposal.kind.as_str(),
            proposal.source,
            proposal.destination
        ),
        kind: proposal.kind,
        reservation: Some(reservation),
    };
    if diagnostic {
        // The zero-fee probe covers the attempt and the 48 h after it (spec: defibrillator).
        deps.store
            .open_probe(proposal.destination, now, now.saturating_add(PROBE_SECS))?;
        deps.flows.profit.invalidate();
        tracing::info!(channel = %proposal.destination, "diagnostic rebalance and zero-fee probe");
    }
    let outcome = execute(deps.node, deps.store, &order, config.rebalance.wait_secs);
    // Kept while its payment is unresolved (pending, or sendpay unanswered): the payment's
    // settlement releases it then, here or in `reconcile`.
    deps.store.release_rebalance_reservation(reservation)?;
    let outcome = outcome?;
    tracing::info!(source = %order.source, destination = %order.destination, amount = %order.amount, ?outcome, "rebalance");
    Ok(RebalanceDecisionOutcome {
        proposal: proposal.clone(),
        verdict,
        outcome: Some(outcome),
    })
}

fn record(
    deps: &mut CycleDeps<'_>,
    report: &RebalanceCycleReport,
    seed: u64,
    generation: u64,
) -> Result<u64, CycleError> {
    let count = |f: fn(&RebalanceDecisionOutcome) -> bool| {
        report.decisions.iter().filter(|d| f(d)).count() as u32
    };
    let cycle = CycleRecord {
        kind: PolicyKind::Rebalance.as_str().to_owned(),
        started_at: report.started_at,
        duration_us: report.duration_us,
        policy: report.policy.clone(),
        config_generation: generation,
        dry_run: report.dry_run,
        seed,
        applied: count(|d| matches!(d.outcome, Some(RebalanceOutcome::Completed { .. }))),
        clamped: 0,
        suppressed: count(|d| matches!(d.verdict, RebalanceVerdict::Refuse { .. })),
        unchanged: 0,
        failed: count(|d| {
            matches!(
                d.outcome,
                Some(
                    RebalanceOutcome::Failed { .. }
                        | RebalanceOutcome::NoRoute { .. }
                        | RebalanceOutcome::Refused { .. }
                )
            )
        }),
        error: report.policy_error.clone(),
    };
    Ok(deps.store.record_cycle(&cycle, &[])?)
}
