//! The fee cycle.

use super::{
    CycleDeps, CycleError,
    fee_intents::{ACTION, FeeIntent},
    gather,
    partition::{self, Assignments},
    shadow,
};
use crate::{
    config::ConfigSnapshot,
    guards::fee::{ChannelFacts, FeeVerdict, judge},
    model::{CallContext, FeeProposal, FeerateSample, PolicyKind},
    node::SetChannelFee,
    store::{BudgetUse, CycleRecord, DecisionRecord, IntentStatus},
};
use serde::Serialize;
use std::{collections::HashMap, time::Instant};

const DAY_SECS: u64 = 86_400;

/// What the guards judge a cycle's proposals against: the facts gathered before anything was
/// executed, so the active policy and a shadow are judged alike.
pub(super) struct Judging<'a> {
    pub gathered: &'a gather::Gathered,
    pub broadcasts: &'a HashMap<crate::scid::ShortChannelId, BudgetUse>,
    pub config: &'a ConfigSnapshot,
    pub now: u64,
}

impl Judging<'_> {
    pub fn judge_all(&self, proposals: Vec<FeeProposal>) -> Vec<(FeeProposal, FeeVerdict)> {
        let channels = &self.gathered.snapshot.channels;
        let index_of: HashMap<_, _> = channels
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect();
        proposals
            .into_iter()
            .map(|proposal| {
                // Validated by the runtime: proposals name snapshot channels.
                let index = index_of[&proposal.channel];
                let channel = &channels[index];
                let budget = self
                    .broadcasts
                    .get(&channel.id)
                    .copied()
                    .unwrap_or_default();
                let facts = ChannelFacts {
                    chain_ppm: channel.fee_ppm,
                    chain_base: channel.fee_base,
                    record: &self.gathered.records[index],
                    broadcasts_last_day: budget.regular,
                    mode_exits_last_day: budget.mode_exits,
                    probe_active: channel.probe_active,
                    bounds: self
                        .config
                        .fee
                        .bounds_for(channel.id, &self.gathered.peer_ids[index]),
                };
                let verdict = judge(&proposal, &facts, &self.config.fee, self.now);
                (proposal, verdict)
            })
            .collect()
    }
}

/// What happened to one proposal.
#[derive(Clone, Debug, Serialize)]
pub struct FeeOutcome {
    pub proposal: FeeProposal,
    #[serde(flatten)]
    pub verdict: FeeVerdict,
    /// For applied verdicts outside dry-run: the `setchannel` error, if it failed.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerdictCounts {
    pub applied: u32,
    pub clamped: u32,
    pub suppressed: u32,
    pub unchanged: u32,
    pub failed: u32,
}

/// One slot's part of a cycle.
#[derive(Clone, Debug, Serialize)]
pub struct SlotRun {
    pub slot: String,
    pub policy: String,
    pub channels: usize,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FeeCycleReport {
    pub cycle_id: u64,
    pub started_at: u64,
    pub policy: String,
    pub config_generation: u64,
    pub dry_run: bool,
    pub channels: usize,
    pub counts: VerdictCounts,
    /// Fee records repaired from the chain (price truth).
    pub repaired: usize,
    /// Why the policy produced no decision (the cycle then changed nothing).
    pub policy_error: Option<String>,
    pub fuel_used: u64,
    pub duration_us: u64,
    pub outcomes: Vec<FeeOutcome>,
    /// Every slot that decided some channels (more than one when policies are assigned).
    pub slots: Vec<SlotRun>,
    /// A shadow policy's decisions on the same snapshot, compared; never executed.
    pub shadow: Option<shadow::ShadowReport>,
}

/// One fee cycle: channels assigned to a slot are decided by that slot's policy, all others
/// by the policy in `slot` (the default), under `config`. `seed` is the only
/// randomness the policy gets; `force_dry_run` previews without touching the node.
pub fn run_fee_cycle(
    deps: &mut CycleDeps<'_>,
    config: &ConfigSnapshot,
    slot: &str,
    seed: u64,
    force_dry_run: bool,
) -> Result<FeeCycleReport, CycleError> {
    let started = Instant::now();
    let dry_run = force_dry_run || config.dry_run;
    let now = deps.node.now_secs();
    let opening = deps.node.opening_feerate_perkb()?;
    deps.store.record_feerate(FeerateSample {
        at_secs: now,
        opening_perkb: opening,
    })?;
    deps.store
        .prune_feerates(now.saturating_sub(2 * super::FEERATE_HISTORY_SECS))?;
    let gathered = gather::gather_from_node(deps, now)?;

    let previous = deps.store.last_successful_cycle(PolicyKind::Fee.as_str())?;
    let ctx = CallContext {
        now_secs: now,
        previous_call_secs: previous.map(|(_, cycle)| cycle.started_at),
        seed,
        state: Default::default(),
    };
    let label_of = |slot: &str| {
        deps.registry
            .active(PolicyKind::Fee, slot)
            .map(|p| p.label())
            .unwrap_or_else(|e| e.to_string())
    };
    let mut report = FeeCycleReport {
        cycle_id: 0,
        started_at: now,
        policy: label_of(slot),
        config_generation: config.generation,
        dry_run,
        channels: gathered.snapshot.channels.len(),
        counts: VerdictCounts::default(),
        repaired: gathered.repaired,
        policy_error: None,
        fuel_used: 0,
        duration_us: 0,
        outcomes: Vec::new(),
        slots: Vec::new(),
        shadow: None,
    };

    let broadcasts = deps
        .store
        .gossip_budget_use_since(now.saturating_sub(DAY_SECS))?;
    let judging = Judging {
        gathered: &gathered,
        broadcasts: &broadcasts,
        config,
        now,
    };
    let assignments = Assignments::from_pairs(&deps.store.policy_assignments(PolicyKind::Fee)?);
    let groups = assignments.partition(&gathered.snapshot, &gathered.peer_ids, slot);
    let mut errors = Vec::new();
    for (group, indexes) in groups {
        let mut run = SlotRun {
            slot: group.to_owned(),
            policy: label_of(group),
            channels: indexes.len(),
            error: None,
        };
        let slot_ctx = CallContext {
            state: deps.store.policy_state(PolicyKind::Fee, group)?,
            ..ctx.clone()
        };
        let part = partition::subset(&gathered.snapshot, &indexes);
        match deps.registry.propose_fees(group, &slot_ctx, &part) {
            Ok(called) => {
                report.fuel_used += called.fuel_used;
                deps.store
                    .save_policy_state(PolicyKind::Fee, group, &called.value.state)?;
                for (proposal, verdict) in judging.judge_all(called.value.proposals) {
                    let error = if dry_run {
                        None
                    } else {
                        execute(deps, &proposal, &verdict, now)?
                    };
                    report.outcomes.push(FeeOutcome {
                        proposal,
                        verdict,
                        error,
                    });
                }
            }
            Err(error) => {
                tracing::warn!(slot = %group, %error, "fee policy produced no decision; its channels keep their fees this cycle");
                errors.push(format!("{group}: {error}"));
                run.error = Some(error.to_string());
            }
        }
        report.slots.push(run);
    }
    report.policy_error = (!errors.is_empty()).then(|| errors.join("; "));
    report.shadow = shadow::compare(deps, &ctx, &judging, &report.outcomes)?;
    report.counts = count(&report.outcomes);
    report.duration_us = started.elapsed().as_micros() as u64;
    report.cycle_id = record(deps, &report, seed)?;
    tracing::info!(
        cycle = report.cycle_id,
        policy = %report.policy,
        applied = report.counts.applied,
        clamped = report.counts.clamped,
        suppressed = report.counts.suppressed,
        unchanged = report.counts.unchanged,
        failed = report.counts.failed,
        dry_run,
        "fee cycle done"
    );
    Ok(report)
}

/// Performs an applied verdict: intent first, then `setchannel`, then the outcome.
fn execute(
    deps: &mut CycleDeps<'_>,
    proposal: &FeeProposal,
    verdict: &FeeVerdict,
    now: u64,
) -> Result<Option<String>, CycleError> {
    let FeeVerdict::Apply {
        fee_ppm, fee_base, ..
    } = verdict
    else {
        return Ok(None);
    };
    let request = SetChannelFee {
        channel: proposal.channel,
        fee_base: *fee_base,
        fee_ppm: *fee_ppm,
    };
    let intent_payload = FeeIntent {
        channel: proposal.channel,
        fee_base: *fee_base,
        fee_ppm: *fee_ppm,
        mode: Some(proposal.mode.as_str().to_owned()),
        reason: Some(proposal.reason.clone()),
    };
    let payload = serde_json::to_string(&intent_payload).expect("plain struct serializes");
    let subject = proposal.channel.to_string();
    let intent = deps.store.begin_intent(ACTION, &subject, &payload, now)?;
    match deps.node.set_channel_fee(&request) {
        Ok(()) => {
            crate::failpoint::hit("fee-after-setchannel");
            deps.store.record_broadcast_settling(
                &intent_payload.broadcast_at(now),
                intent,
                "ok",
                now,
            )?;
            tracing::info!(channel = %proposal.channel, fee_ppm = %fee_ppm, fee_base = %fee_base, mode = proposal.mode.as_str(), "fee broadcast");
            Ok(None)
        }
        Err(error) => {
            let message = error.to_string();
            deps.store
                .settle_intent(intent, IntentStatus::Failed, &message, now)?;
            tracing::warn!(channel = %proposal.channel, %error, "setchannel failed");
            Ok(Some(message))
        }
    }
}

fn count(outcomes: &[FeeOutcome]) -> VerdictCounts {
    let mut counts = VerdictCounts::default();
    for outcome in outcomes {
        if outcome.error.is_some() {
            counts.failed += 1;
            continue;
        }
        match outcome.verdict.label() {
            "applied" => counts.applied += 1,
            "clamped" => counts.clamped += 1,
            "suppressed" => counts.suppressed += 1,
            _ => counts.unchanged += 1,
        }
    }
    counts
}

fn record(deps: &mut CycleDeps<'_>, report: &FeeCycleReport, seed: u64) -> Result<u64, CycleError> {
    let decisions: Vec<DecisionRecord> = report
        .outcomes
        .iter()
        .filter(|o| o.verdict != FeeVerdict::Unchanged)
        .map(|o| {
            let (final_ppm, final_base_msat, reason) = match &o.verdict {
                FeeVerdict::Apply {
                    fee_ppm,
                    fee_base,
                    adjustments,
                } => (
                    Some(fee_ppm.ppm()),
                    Some(fee_base.msat()),
                    match (&o.error, adjustments.is_empty()) {
                        (Some(error), _) => format!("setchannel failed: {error}"),
                        (None, true) => o.proposal.reason.clone(),
                        (None, false) => adjustments.join("; "),
                    },
                ),
                FeeVerdict::Suppress { reason } => (None, None, reason.clone()),
                FeeVerdict::Unchanged => unreachable!("filtered out above"),
            };
            DecisionRecord {
                channel: o.proposal.channel,
                proposed_ppm: o.proposal.fee_ppm.ppm(),
                proposed_base_msat: o.proposal.fee_base.msat(),
                final_ppm,
                final_base_msat,
                mode: o.proposal.mode.as_str().to_owned(),
                verdict: if o.error.is_some() {
                    "failed"
                } else {
                    o.verdict.label()
                },
                reason,
            }
        })
        .collect();
    let cycle = CycleRecord {
        kind: PolicyKind::Fee.as_str().to_owned(),
        started_at: report.started_at,
        duration_us: report.duration_us,
        policy: report.policy.clone(),
        config_generation: report.config_generation,
        dry_run: report.dry_run,
        seed,
        applied: report.counts.applied,
        clamped: report.counts.clamped,
        suppressed: report.counts.suppressed,
        unchanged: report.counts.unchanged,
        failed: report.counts.failed,
        error: report.policy_error.clone(),
    };
    let cycle_id = deps.store.record_cycle(&cycle, &decisions)?;
    if let Some(shadow) = &report.shadow {
        shadow::record(deps, cycle_id, shadow)?;
    }
    Ok(cycle_id)
}
