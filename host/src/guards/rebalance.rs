//! Guards on every rebalance proposal (spec: rebalance): the rolling budget, the per-move fee
//! ceiling, the concurrency cap, cooldowns with exponential backoff, no ping-pong between two
//! channels, and the scarcity-safe forecast on HTLC slots. Pure: facts in, a verdict out.

use crate::{
    analytics::defibrillator::{DIAGNOSTIC_AMOUNT_SAT, DiagnosticHistory, diagnostic_refusal},
    config::RebalanceConfig,
    model::{RebalanceKind, RebalanceProposal},
    money::Msat,
};
use serde::Serialize;

/// 100,000 sat in msat: one slot's worth of value (spec: value-weighted utilisation).
const SLOT_VALUE_MSAT: f64 = 100_000_000.0;
/// Refuse when either channel's weighted utilisation would go above this.
const SCARCITY_LIMIT: f64 = 0.6;
/// Share of the last 24 h revenue the budget may grow to.
const REVENUE_SHARE_PCT: u64 = 30;

/// HTLC load of one channel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotLoad {
    pub pending: Vec<Msat>,
    pub max_accepted_htlcs: u16,
}

/// What the host knows when judging one proposal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RebalanceFacts {
    pub source_load: SlotLoad,
    pub destination_load: SlotLoad,
    /// Fees paid plus reserved for moves in flight, over the last 24 h.
    pub spent_24h: Msat,
    pub revenue_24h: Msat,
    pub in_flight: u32,
    /// Last move into this destination.
    pub last_into_destination: Option<u64>,
    /// Failures in a row for this pair, and when the last one was.
    pub failures_in_a_row: u32,
    pub last_failure: Option<u64>,
    /// Last move in the opposite direction (destination → source).
    pub last_reverse: Option<u64>,
    /// For diagnostic proposals: whether the destination is a stagnant candidate, is on a
    /// zero-fee probe, and its diagnostic attempts in the last 14 days.
    pub destination_stagnant: bool,
    pub destination_probing: bool,
    pub destination_diagnostics: DiagnosticHistory,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum RebalanceVerdict {
    /// Go ahead, paying at most `max_fee` (the proposal's cap, lowered to the limits).
    Go {
        max_fee: Msat,
    },
    Refuse {
        reason: String,
    },
}

fn refuse(reason: impl Into<String>) -> RebalanceVerdict {
    RebalanceVerdict::Refuse {
        reason: reason.into(),
    }
}

/// The rolling 24 h budget: the daily budget, or 30 % of the last 24 h revenue if larger.
pub fn budget_cap(daily_budget: Msat, revenue_24h: Msat) -> Msat {
    let share = Msat::new(revenue_24h.msat() / 100 * REVENUE_SHARE_PCT);
    daily_budget.max(share)
}

/// Why a diagnostic proposal is out of bounds, if it is (spec: defibrillator).
fn diagnostic_limits(
    proposal: &RebalanceProposal,
    facts: &RebalanceFacts,
    limits: &RebalanceConfig,
) -> Option<String> {
    if limits.diagnostic_max_fee == Msat::ZERO {
        return Some("diagnostic: turned off (rebalance.diagnostic-max-fee-sat is 0)".into());
    }
    let most = Msat::from_sat(DIAGNOSTIC_AMOUNT_SAT).expect("small");
    if proposal.amount > most {
        return Some(format!(
            "diagnostic: {} is more than {most}",
            proposal.amount
        ));
    }
    diagnostic_refusal(
        &facts.destination_diagnostics,
        facts.destination_probing,
        facts.destination_stagnant,
    )
}

/// `min(1, Σ clamp(amount / 100k sat, 0.01, 10) / max_accepted_htlcs)`.
pub fn weighted_utilisation(load: &SlotLoad, extra: Option<Msat>) -> f64 {
    if load.max_accepted_htlcs == 0 {
        return 1.0;
    }
    let weight: f64 = load
        .pending
        .iter()
        .chain(extra.as_ref())
        .map(|amount| (amount.msat() as f64 / SLOT_VALUE_MSAT).clamp(0.01, 10.0))
        .sum();
    (weight / f64::from(load.max_accepted_htlcs)).min(1.0)
}

pub fn judge(
    proposal: &RebalanceProposal,
    facts: &RebalanceFacts,
    limits: &RebalanceConfig,
    now: u64,
) -> RebalanceVerdict {
    if facts.in_flight >= limits.max_concurrent {
        return refuse(format!(
            "{} rebalances already in flight (max {})",
            facts.in_flight, limits.max_concurrent
        ));
    }
    let max_fee = match proposal.kind {
        RebalanceKind::Normal => proposal
            .max_fee
            .min(limits.max_fee_ppm.fee_on(proposal.amount)),
        RebalanceKind::Diagnostic => {
            if let Some(reason) = diagnostic_limits(proposal, facts, limits) {
                return refuse(reason);
            }
            // A deliberate small loss: the diagnostic cap replaces the ppm ceiling.
            proposal.max_fee.min(limits.diagnostic_max_fee)
        }
    };
    let cap = budget_cap(limits.daily_budget, facts.revenue_24h);
    let left = cap.saturating_sub(facts.spent_24h);
    if max_fee > left {
        return refuse(format!(
            "budget: {left} left of {cap} for 24 h, the move may cost {max_fee}"
        ));
    }
    if let Some(at) = facts.last_reverse
        && now.saturating_sub(at) < limits.ping_pong_secs
    {
        return refuse("ping-pong: the opposite move happened recently");
    }
    if let Some(at) = facts.last_into_destination
        && now.saturating_sub(at) < limits.cooldown_secs
    {
        return refuse(format!(
            "cooldown: last move into this channel {} s ago",
            now.saturating_sub(at)
        ));
    }
    if facts.failures_in_a_row > 0
        && let Some(at) = facts.last_failure
    {
        let exponent = (facts.failures_in_a_row - 1).min(16);
        let wait = limits.backoff_secs.saturating_mul(1 << exponent);
        if now.saturating_sub(at) < wait {
            return refuse(format!(
                "backoff: {} failures in a row, waiting {wait} s",
                facts.failures_in_a_row
            ));
        }
    }
    // The rebalance HTLC itself occupies a slot on both channels (spec: no "trap & trap").
    for (name, load) in [
        ("source", &facts.source_load),
        ("destination", &facts.destination_load),
    ] {
        let forecast = weighted_utilisation(load, Some(proposal.amount));
        if forecast > SCARCITY_LIMIT {
            return refuse(format!(
                "HTLC slots: the {name} would be {forecast:.2} utilised (limit {SCARCITY_LIMIT})"
            ));
        }
    }
    RebalanceVerdict::Go { max_fee }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scid::ShortChannelId;

    const NOW: u64 = 1_000_000;

    fn proposal(sat: u64, max_fee_sat: u64) -> RebalanceProposal {
        RebalanceProposal {
            source: ShortChannelId::from_u64(1),
            destination: ShortChannelId::from_u64(2),
            amount: Msat::from_sat(sat).unwrap(),
            max_fee: Msat::from_sat(max_fee_sat).unwrap(),
            kind: RebalanceKind::Normal,
            reason: String::new(),
        }
    }

    fn limits() -> RebalanceConfig {
        RebalanceConfig {
            max_concurrent: 2,
            ..crate::config::ConfigSnapshot::default().rebalance
        }
    }

    fn facts() -> RebalanceFacts {
        RebalanceFacts {
            source_load: SlotLoad {
                pending: vec![],
                max_accepted_htlcs: 483,
            },
            destination_load: SlotLoad {
                pending: vec![],
                max_accepted_htlcs: 483,
            },
            ..RebalanceFacts::default()
        }
    }

    fn go(verdict: RebalanceVerdict) -> Msat {
        match verdict {
            RebalanceVerdict::Go { max_fee } => max_fee,
            other => panic!("expected go, got {other:?}"),
        }
    }

    fn refused(verdict: RebalanceVerdict, words: &str) {
        match verdict {
            RebalanceVerdict::Refuse { reason } => assert!(reason.contains(words), "{reason}"),
            other => panic!("expected a refusal ({words}), got {other:?}"),
        }
    }

    #[test]
    fn budget_is_the_larger_of_daily_and_thirty_percent_of_revenue() {
        assert_eq!(
            budget_cap(Msat::new(5_000), Msat::new(100_000)),
            Msat::new(30_000)
        );
        assert_eq!(
            budget_cap(Msat::new(50_000), Msat::new(100_000)),
            Msat::new(50_000)
        );
    }

    #[test]
    fn fee_cap_is_lowered_to_the_ppm_ceiling() {
        // 1,000 ppm of 1M sat = 1,000 sat, below the proposal's 3,000 sat.
        assert_eq!(
            go(judge(&proposal(1_000_000, 3_000), &facts(), &limits(), NOW)),
            Msat::from_sat(1_000).unwrap()
        );
    }

    #[test]
    fn spending_stops_at_the_budget() {
        let mut f = facts();
        f.spent_24h = Msat::from_sat(4_500).unwrap();
        refused(
            judge(&proposal(1_000_000, 1_000), &f, &limits(), NOW),
            "budget",
        );
        // Revenue raises the cap: 30 % of 100k sat = 30k sat.
        f.revenue_24h = Msat::from_sat(100_000).unwrap();
        go(judge(&proposal(1_000_000, 1_000), &f, &limits(), NOW));
    }

    #[test]
    fn concurrency_cooldown_backoff_and_ping_pong() {
        let mut f = facts();
        f.in_flight = 2;
        refused(
            judge(&proposal(100_000, 100), &f, &limits(), NOW),
            "in flight",
        );
        let mut f = facts();
        f.last_into_destination = Some(NOW - 100);
        refused(
            judge(&proposal(100_000, 100), &f, &limits(), NOW),
            "cooldown",
        );
        let mut f = facts();
        f.last_reverse = Some(NOW - 3_600);
        refused(
            judge(&proposal(100_000, 100), &f, &limits(), NOW),
            "ping-pong",
        );
        let mut f = facts();
        f.failures_in_a_row = 3;
        f.last_failure = Some(NOW - 2_000);
        // 600 s × 2² = 2,400 s: still waiting at 2,000 s, free at 2,400 s.
        refused(
            judge(&proposal(100_000, 100), &f, &limits(), NOW),
            "backoff",
        );
        go(judge(&proposal(100_000, 100), &f, &limits(), NOW + 400));
    }

    #[test]
    fn scarcity_safe_forecast_counts_the_rebalance_htlc() {
        let mut f = facts();
        // 27 pending 1M-sat HTLCs weigh 270 of 483 slots; with the 1M-sat rebalance HTLC,
        // 280 (0.58): allowed. One more pending makes 290 (0.6004): refused.
        f.destination_load.pending = vec![Msat::from_sat(1_000_000).unwrap(); 27];
        go(judge(&proposal(1_000_000, 1_000), &f, &limits(), NOW));
        f.destination_load
            .pending
            .push(Msat::from_sat(1_000_000).unwrap());
        refused(
            judge(&proposal(1_000_000, 1_000), &f, &limits(), NOW),
            "destination",
        );
        // Dust does not count for much: 400 HTLCs of 1k sat weigh 4 slots.
        let mut dusty = facts();
        dusty.source_load.pending = vec![Msat::from_sat(1_000).unwrap(); 400];
        go(judge(&proposal(1_000_000, 1_000), &dusty, &limits(), NOW));
    }

    #[test]
    fn diagnostics_pay_up_to_their_own_cap_into_stagnant_channels_only() {
        let diagnostic = |sat, fee_sat| RebalanceProposal {
            kind: RebalanceKind::Diagnostic,
            ..proposal(sat, fee_sat)
        };
        let mut f = facts();
        refused(
            judge(&diagnostic(50_000, 100), &f, &limits(), NOW),
            "not a stagnant candidate",
        );
        f.destination_stagnant = true;
        // 100 sat on 50,000 sat is 2,000 ppm, above the 1,000 ppm ceiling: allowed here.
        assert_eq!(
            go(judge(&diagnostic(50_000, 500), &f, &limits(), NOW)),
            Msat::from_sat(100).unwrap(),
            "lowered to rebalance.diagnostic-max-fee-sat"
        );
        refused(
            judge(&diagnostic(60_000, 100), &f, &limits(), NOW),
            "more than",
        );
        f.destination_probing = true;
        refused(judge(&diagnostic(50_000, 100), &f, &limits(), NOW), "probe");
        f.destination_probing = false;
        f.destination_diagnostics.attempts = 2;
        refused(
            judge(&diagnostic(50_000, 100), &f, &limits(), NOW),
            "2 attempts",
        );
        f.destination_diagnostics.attempts = 0;
        let off = RebalanceConfig {
            diagnostic_max_fee: Msat::ZERO,
            ..limits()
        };
        refused(judge(&diagnostic(50_000, 100), &f, &off, NOW), "turned off");
    }
}
