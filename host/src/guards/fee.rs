//! Guards on every fee proposal (spec: fee cycle, host guards): bounds, max step, strict
//! idempotency, gossip hysteresis and the per-channel update rate limit.

use crate::{
    config::{Bounds, FeeConfig},
    model::{FeeProposal, PricingMode},
    money::{Msat, Ppm},
    store::FeeRecord,
};
use serde::Serialize;

/// What the host knows about one channel when judging its proposal.
#[derive(Clone, Debug)]
pub struct ChannelFacts<'a> {
    /// The fee on chain now (`listpeerchannels` `updates.local`).
    pub chain_ppm: Ppm,
    pub chain_base: Msat,
    /// The record after price truth: it agrees with the chain.
    pub record: &'a FeeRecord,
    pub broadcasts_last_day: u32,
    pub probe_active: bool,
    pub bounds: Bounds,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum FeeVerdict {
    /// Broadcast this fee. `adjustments` lists what the guards changed (empty: as proposed).
    Apply {
        fee_ppm: Ppm,
        fee_base: Msat,
        adjustments: Vec<String>,
    },
    /// Send nothing, for `reason`.
    Suppress { reason: String },
    /// The chain already shows the target: nothing to do (no `setchannel` that changes nothing).
    Unchanged,
}

impl FeeVerdict {
    pub fn label(&self) -> &'static str {
        match self {
            FeeVerdict::Apply { adjustments, .. } if adjustments.is_empty() => "applied",
            FeeVerdict::Apply { .. } => "clamped",
            FeeVerdict::Suppress { .. } => "suppressed",
            FeeVerdict::Unchanged => "unchanged",
        }
    }
}

/// Judges one proposal. `now` is unix seconds.
pub fn judge(
    proposal: &FeeProposal,
    facts: &ChannelFacts<'_>,
    config: &FeeConfig,
    now: u64,
) -> FeeVerdict {
    if proposal.mode == PricingMode::Hold {
        return FeeVerdict::Suppress {
            reason: "the policy holds this channel".into(),
        };
    }
    let mut adjustments = Vec::new();
    let probing = proposal.mode == PricingMode::Probe && facts.probe_active;
    let mode = if proposal.mode == PricingMode::Probe && !probing {
        adjustments.push("probe proposed without an active probe: priced as normal".to_owned());
        PricingMode::Normal
    } else {
        proposal.mode
    };
    let state_changed = facts.record.mode != mode;
    let correcting = chain_breaks_bounds(facts.chain_ppm, facts.bounds, probing);

    let mut ppm = clamp_to_bounds(proposal.fee_ppm, facts.bounds, probing, &mut adjustments);
    if mode == PricingMode::Normal && !state_changed {
        ppm = limit_step(ppm, facts.record.fee_ppm, config, &mut adjustments);
        ppm = clamp_to_bounds(ppm, facts.bounds, probing, &mut adjustments);
    }
    let mut base = proposal.fee_base;
    // A base fee the operator already has stays; only raising one above the ceiling is capped.
    if base > config.max_base && base != facts.chain_base {
        adjustments.push(format!(
            "base {base} lowered to the ceiling {}",
            config.max_base
        ));
        base = config.max_base;
    }

    if ppm == facts.chain_ppm && base == facts.chain_base {
        return FeeVerdict::Unchanged;
    }
    if correcting {
        // Hysteresis and the rate limits exist against gossip noise, not against bounds.
        adjustments.push(format!(
            "the fee on chain {} is outside the bounds {}..{}: corrected at once",
            facts.chain_ppm,
            floor_of(facts.bounds, probing),
            facts.bounds.max
        ));
    } else if let Some(reason) = gossip_limit(ppm, base, state_changed, facts, config, now) {
        return FeeVerdict::Suppress { reason };
    }
    FeeVerdict::Apply {
        fee_ppm: ppm,
        fee_base: base,
        adjustments,
    }
}

/// Why hysteresis or a rate limit holds this change back, if one does.
fn gossip_limit(
    ppm: Ppm,
    base: Msat,
    state_changed: bool,
    facts: &ChannelFacts<'_>,
    config: &FeeConfig,
    now: u64,
) -> Option<String> {
    if !state_changed
        && base == facts.chain_base
        && within_hysteresis(facts.record.fee_ppm, ppm, config.hysteresis_pct)
    {
        return Some(format!(
            "{ppm} is within {} % of the last broadcast {} (gossip hysteresis)",
            config.hysteresis_pct, facts.record.fee_ppm
        ));
    }
    if facts.broadcasts_last_day >= config.max_broadcasts_per_day {
        return Some(format!(
            "rate limit: {} broadcasts in the last 24 h (max {})",
            facts.broadcasts_last_day, config.max_broadcasts_per_day
        ));
    }
    if !state_changed
        && let Some(at) = facts.record.broadcast_at
        && now.saturating_sub(at) < config.min_broadcast_interval_secs
    {
        return Some(format!(
            "rate limit: last broadcast {} s ago (min interval {} s)",
            now.saturating_sub(at),
            config.min_broadcast_interval_secs
        ));
    }
    None
}

/// The floor a fee may not go under: 0 only for an active zero-fee probe, else at least 1,
/// and never above the ceiling (the ceiling wins when scopes meet badly).
fn floor_of(bounds: Bounds, probing: bool) -> Ppm {
    if probing {
        Ppm::ZERO
    } else {
        bounds.min.max(Ppm::new(1)).min(bounds.max)
    }
}

/// Bounds: the ceiling always applies, then the floor under it.
fn clamp_to_bounds(ppm: Ppm, bounds: Bounds, probing: bool, adjustments: &mut Vec<String>) -> Ppm {
    if ppm > bounds.max {
        adjustments.push(format!("{ppm} lowered to the ceiling {}", bounds.max));
        return bounds.max;
    }
    let floor = floor_of(bounds, probing);
    if ppm < floor {
        adjustments.push(format!("{ppm} raised to the floor {floor}"));
        return floor;
    }
    ppm
}

/// The fee on chain breaks a bound (the operator tightened one): the correction goes out now,
/// past hysteresis and the rate limits, which exist against gossip noise, not against bounds.
fn chain_breaks_bounds(chain: Ppm, bounds: Bounds, probing: bool) -> bool {
    chain > bounds.max || chain < floor_of(bounds, probing)
}

/// In normal pricing a broadcast moves at most `max-step-pct` of the last fee, or
/// `max-step-floor-ppm`, whichever is larger.
fn limit_step(ppm: Ppm, last: Ppm, config: &FeeConfig, adjustments: &mut Vec<String>) -> Ppm {
    let relative = u64::from(last.ppm()) * u64::from(config.max_step_pct) / 100;
    let step = relative.max(u64::from(config.max_step_floor_ppm));
    let low = u64::from(last.ppm()).saturating_sub(step);
    let high = u64::from(last.ppm()).saturating_add(step);
    let wanted = u64::from(ppm.ppm());
    let limited = wanted.clamp(low, high);
    if limited != wanted {
        adjustments.push(format!("{ppm} limited to a step of {step} ppm from {last}"));
    }
    Ppm::new(u32::try_from(limited).unwrap_or(u32::MAX))
}

/// Spec: broadcast only if |new − last| > hysteresis % of last, or last ≤ 1.
fn within_hysteresis(last: Ppm, new: Ppm, pct: u32) -> bool {
    if last.ppm() <= 1 {
        return false;
    }
    let delta = u64::from(last.ppm().abs_diff(new.ppm())) * 100;
    delta <= u64::from(last.ppm()) * u64::from(pct)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::ConfigSnapshot, scid::ShortChannelId};

    const NOW: u64 = 1_000_000;

    fn record(ppm: u32, mode: PricingMode, at: Option<u64>) -> FeeRecord {
        FeeRecord {
            channel: ShortChannelId::from_u64(1),
            fee_ppm: Ppm::new(ppm),
            fee_base: Msat::new(1000),
            broadcast_at: at,
            mode,
            reason: String::new(),
        }
    }

    fn proposal(ppm: u32, mode: PricingMode) -> FeeProposal {
        FeeProposal {
            channel: ShortChannelId::from_u64(1),
            fee_ppm: Ppm::new(ppm),
            fee_base: Msat::new(1000),
            mode,
            reason: String::new(),
        }
    }

    fn facts(record: &FeeRecord) -> ChannelFacts<'_> {
        ChannelFacts {
            chain_ppm: record.fee_ppm,
            chain_base: record.fee_base,
            record,
            broadcasts_last_day: 0,
            probe_active: false,
            bounds: Bounds {
                min: Ppm::new(10),
                max: Ppm::new(2000),
            },
        }
    }

    fn config() -> FeeConfig {
        ConfigSnapshot::default().fee
    }

    fn judge_normal(last: u32, wanted: u32) -> FeeVerdict {
        let r = record(last, PricingMode::Normal, Some(NOW - 86_400));
        judge(
            &proposal(wanted, PricingMode::Normal),
            &facts(&r),
            &config(),
            NOW,
        )
    }

    fn applied_ppm(verdict: &FeeVerdict) -> u32 {
        match verdict {
            FeeVerdict::Apply { fee_ppm, .. } => fee_ppm.ppm(),
            other => panic!("expected apply, got {other:?}"),
        }
    }

    #[test]
    fn hysteresis_edge_is_five_percent_exclusive() {
        assert!(matches!(
            judge_normal(1000, 1050),
            FeeVerdict::Suppress { .. }
        ));
        assert!(matches!(
            judge_normal(1000, 950),
            FeeVerdict::Suppress { .. }
        ));
        assert_eq!(applied_ppm(&judge_normal(1000, 1051)), 1051);
        assert_eq!(applied_ppm(&judge_normal(1000, 949)), 949);
    }

    #[test]
    fn hysteresis_does_not_trap_tiny_fees() {
        // last ≤ 1: any change goes out (1 → 2 would otherwise be "100 %"-gated forever).
        let r = record(1, PricingMode::Normal, Some(NOW - 86_400));
        let mut f = facts(&r);
        f.bounds.min = Ppm::new(1);
        assert_eq!(
            applied_ppm(&judge(
                &proposal(2, PricingMode::Normal),
                &f,
                &config(),
                NOW
            )),
            2
        );
    }

    #[test]
    fn same_fee_is_never_sent() {
        assert_eq!(judge_normal(100, 100), FeeVerdict::Unchanged);
        // Clamped to what is already there: still nothing to send (no 1 → 1).
        let r = record(10, PricingMode::Normal, Some(NOW - 86_400));
        assert_eq!(
            judge(
                &proposal(0, PricingMode::Normal),
                &facts(&r),
                &config(),
                NOW
            ),
            FeeVerdict::Unchanged
        );
    }

    #[test]
    fn bounds_clamp_and_say_so() {
        let verdict = judge_normal(2000, 5_000);
        assert_eq!(
            verdict,
            FeeVerdict::Unchanged,
            "ceiling 2000 is already on chain"
        );
        let verdict = judge_normal(1900, 1_000_000);
        assert_eq!(applied_ppm(&verdict), 2000);
        assert_eq!(verdict.label(), "clamped");
        let verdict = judge_normal(60, 0);
        assert_eq!(applied_ppm(&verdict), 10, "floor, and 0 is only for probes");
    }

    #[test]
    fn zero_only_for_an_active_probe() {
        let r = record(100, PricingMode::Normal, Some(NOW - 86_400));
        let mut f = facts(&r);
        let inactive = judge(&proposal(0, PricingMode::Probe), &f, &config(), NOW);
        assert_ne!(applied_ppm(&inactive), 0);
        f.probe_active = true;
        let active = judge(&proposal(0, PricingMode::Probe), &f, &config(), NOW);
        assert_eq!(applied_ppm(&active), 0);
        assert_eq!(active.label(), "applied");
    }

    #[test]
    fn max_step_limits_normal_moves_only() {
        // 50 % of 1000 = 500.
        assert_eq!(applied_ppm(&judge_normal(1000, 1900)), 1500);
        assert_eq!(applied_ppm(&judge_normal(1000, 100)), 500);
        // From a low fee the absolute floor of 50 ppm applies.
        assert_eq!(applied_ppm(&judge_normal(20, 500)), 70);
        // Entering congestion is not stepped.
        let r = record(100, PricingMode::Normal, Some(NOW - 86_400));
        let verdict = judge(
            &proposal(2000, PricingMode::Congestion),
            &facts(&r),
            &config(),
            NOW,
        );
        assert_eq!(applied_ppm(&verdict), 2000);
    }

    #[test]
    fn rate_limits() {
        let r = record(100, PricingMode::Normal, Some(NOW - 600));
        let f = facts(&r);
        let verdict = judge(&proposal(140, PricingMode::Normal), &f, &config(), NOW);
        assert!(
            matches!(verdict, FeeVerdict::Suppress { ref reason } if reason.contains("min interval"))
        );
        // A state change is exempt from the interval...
        let verdict = judge(&proposal(2000, PricingMode::Congestion), &f, &config(), NOW);
        assert_eq!(applied_ppm(&verdict), 2000);
        // ...but not from the daily cap.
        let mut capped = f.clone();
        capped.broadcasts_last_day = 4;
        let verdict = judge(
            &proposal(2000, PricingMode::Congestion),
            &capped,
            &config(),
            NOW,
        );
        assert!(matches!(verdict, FeeVerdict::Suppress { ref reason } if reason.contains("24 h")));
        capped.broadcasts_last_day = 3;
        let verdict = judge(
            &proposal(2000, PricingMode::Congestion),
            &capped,
            &config(),
            NOW,
        );
        assert_eq!(applied_ppm(&verdict), 2000);
    }

    #[test]
    fn leaving_a_state_bypasses_hysteresis() {
        let r = record(2000, PricingMode::Congestion, Some(NOW - 600));
        let verdict = judge(
            &proposal(1950, PricingMode::Normal),
            &facts(&r),
            &config(),
            NOW,
        );
        assert_eq!(applied_ppm(&verdict), 1950);
    }

    #[test]
    fn base_fee_changes_are_broadcast_and_capped() {
        let mut r = record(100, PricingMode::Normal, Some(NOW - 86_400));
        r.fee_base = Msat::new(500);
        let mut p = proposal(100, PricingMode::Normal);
        p.fee_base = Msat::new(5_000_000);
        let verdict = judge(&p, &facts(&r), &config(), NOW);
        match verdict {
            FeeVerdict::Apply { fee_base, .. } => assert_eq!(fee_base, config().max_base),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_existing_base_fee_above_the_ceiling_is_left_alone() {
        let mut r = record(100, PricingMode::Normal, Some(NOW - 86_400));
        r.fee_base = Msat::new(5000);
        let mut p = proposal(100, PricingMode::Normal);
        p.fee_base = Msat::new(5000);
        assert_eq!(judge(&p, &facts(&r), &config(), NOW), FeeVerdict::Unchanged);
    }

    #[test]
    fn hold_sends_nothing() {
        let r = record(100, PricingMode::Normal, None);
        let verdict = judge(
            &proposal(500, PricingMode::Hold),
            &facts(&r),
            &config(),
            NOW,
        );
        assert!(matches!(verdict, FeeVerdict::Suppress { .. }));
    }

    #[test]
    fn the_ceiling_applies_even_below_the_floor() {
        // A floor of 100 meets a ceiling of 50 (scopes met badly): the ceiling wins, never
        // skipped (a real node reached 5000 ppm under a 2500 ceiling this way).
        let r = record(40, PricingMode::Normal, Some(NOW - 86_400));
        let mut f = facts(&r);
        f.bounds = Bounds {
            min: Ppm::new(100),
            max: Ppm::new(50),
        };
        let verdict = judge(&proposal(5000, PricingMode::Normal), &f, &config(), NOW);
        assert_eq!(applied_ppm(&verdict), 50);
        let verdict = judge(&proposal(1, PricingMode::Normal), &f, &config(), NOW);
        assert_eq!(
            applied_ppm(&verdict),
            50,
            "the floor, capped by the ceiling"
        );
    }

    #[test]
    fn a_tightened_bound_applies_at_once() {
        // On chain 2000 ppm, broadcast a minute ago, the day's broadcasts used up; the operator
        // lowers the ceiling to 1950 (within hysteresis of 2000).
        let r = record(2000, PricingMode::Normal, Some(NOW - 60));
        let mut f = facts(&r);
        f.broadcasts_last_day = 99;
        f.bounds.max = Ppm::new(1950);
        let verdict = judge(&proposal(2000, PricingMode::Normal), &f, &config(), NOW);
        assert_eq!(applied_ppm(&verdict), 1950);
        // A raised floor too.
        let r = record(20, PricingMode::Normal, Some(NOW - 60));
        let mut f = facts(&r);
        f.broadcasts_last_day = 99;
        f.bounds.min = Ppm::new(21);
        let verdict = judge(&proposal(20, PricingMode::Normal), &f, &config(), NOW);
        assert_eq!(applied_ppm(&verdict), 21);
        // Within the bounds the limits stay.
        let r = record(1000, PricingMode::Normal, Some(NOW - 60));
        let mut f = facts(&r);
        f.broadcasts_last_day = 99;
        let verdict = judge(&proposal(1500, PricingMode::Normal), &f, &config(), NOW);
        assert!(
            matches!(verdict, FeeVerdict::Suppress { .. }),
            "{verdict:?}"
        );
    }
}
