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
    /// Broadcasts in the last 24 h that count against the daily limit.
    pub broadcasts_last_day: u32,
    /// Exits from a protective mode in the last 24 h (their own allowance).
    pub mode_exits_last_day: u32,
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
    let leaving = facts.record.mode.is_protective() && !mode.is_protective();
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
    // A zero-fee probe is free to the sender: 0 ppm with a base fee is not (1 sat is 100 ppm
    // on a 10,000 sat payment), so it would not find out whether the channel can route.
    if probing && ppm == Ppm::ZERO && base != Msat::ZERO {
        adjustments.push(format!("base {base} set to 0: a zero-fee probe is 0/0"));
        base = Msat::ZERO;
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
    } else if let Some(reason) = gossip_limit(ppm, base, state_changed, leaving, facts, config, now)
    {
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
    leaving: bool,
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
    // Leaving congestion, probe or fire sale goes out within the cycle its cause ends: a
    // jammer must not hold our price at a protective level by exhausting the daily limit.
    // Exits have an allowance of their own, so toggling stays bounded: each exit follows an
    // entry, and entries count against the daily limit.
    if leaving && facts.mode_exits_last_day < config.max_mode_exits_per_day {
        return None;
    }
    // Exits beyond their allowance were paid from the daily limit.
    let regular = facts.broadcasts_last_day.saturating_add(
        facts
            .mode_exits_last_day
            .saturating_sub(config.max_mode_exits_per_day),
    );
    if regular >= config.max_broadcasts_per_day {
        return Some(format!(
            "rate limit: {regular} broadcasts in the last 24 h (max {})",
            config.max_broadcasts_per_day
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
            mode_exits_last_day: 0,
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
        let mut zero = proposal(0, PricingMode::Probe);
        zero.fee_base = Msat::ZERO;
        let active = judge(&zero, &f, &config(), NOW);
        assert_eq!(applied_ppm(&active), 0);
        assert_eq!(active.label(), "applied");
    }

    /// Issue 14: the probe kept a 1 sat base fee (100 ppm on a 10,000 sat payment).
    #[test]
    fn a_zero_fee_probe_is_zero_base_too() {
        let r = record(100, PricingMode::Normal, Some(NOW - 86_400));
        let mut f = facts(&r);
        f.probe_active = true;
        let verdict = judge(&proposal(0, PricingMode::Probe), &f, &config(), NOW);
        let FeeVerdict::Apply {
            fee_ppm, fee_base, ..
        } = verdict
        else {
            panic!("{verdict:?}");
        };
        assert_eq!((fee_ppm, fee_base), (Ppm::ZERO, Msat::ZERO));
        // A priced probe keeps its base.
        let verdict = judge(&proposal(5, PricingMode::Probe), &f, &config(), NOW);
        assert!(
            matches!(verdict, FeeVerdict::Apply { fee_base, .. } if fee_base == Msat::new(1000))
        );
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

    /// Issue 14: after a jam the daily cap held a channel at its congestion price for hours.
    #[test]
    fn leaving_a_protective_mode_goes_out_past_the_daily_cap() {
        for mode in [
            PricingMode::Congestion,
            PricingMode::FireSale,
            PricingMode::Probe,
        ] {
            let r = record(1800, mode, Some(NOW - 60));
            let mut f = facts(&r);
            f.broadcasts_last_day = 4;
            let verdict = judge(&proposal(300, PricingMode::Normal), &f, &config(), NOW);
            assert_eq!(applied_ppm(&verdict), 300, "{mode:?}: {verdict:?}");
            // The exit allowance is finite: a third exit in a day waits for the daily cap.
            f.mode_exits_last_day = 2;
            let verdict = judge(&proposal(300, PricingMode::Normal), &f, &config(), NOW);
            assert!(
                matches!(verdict, FeeVerdict::Suppress { ref reason } if reason.contains("24 h")),
                "{mode:?}: {verdict:?}"
            );
        }
        // Switching between protective modes is not an exit.
        let r = record(1800, PricingMode::Congestion, Some(NOW - 60));
        let mut f = facts(&r);
        f.broadcasts_last_day = 4;
        let verdict = judge(&proposal(40, PricingMode::FireSale), &f, &config(), NOW);
        assert!(
            matches!(verdict, FeeVerdict::Suppress { .. }),
            "{verdict:?}"
        );
    }

    /// A jammer toggling congestion every cycle still cannot spam gossip: entries count
    /// against the daily cap, exits against their own allowance.
    #[test]
    fn toggling_every_cycle_stays_bounded() {
        let config = config();
        let mut r = record(100, PricingMode::Normal, Some(NOW - 86_400));
        let (mut regular, mut exits) = (Vec::<u64>::new(), Vec::<u64>::new());
        let mut sent = 0;
        for cycle in 0..(3 * 144u64) {
            let now = NOW + cycle * 600;
            let in_day = |at: &&u64| now - **at < 86_400;
            let mut f = facts(&r);
            f.broadcasts_last_day = regular.iter().filter(in_day).count() as u32;
            f.mode_exits_last_day = exits.iter().filter(in_day).count() as u32;
            let (ppm, mode) = if cycle % 2 == 0 {
                (1800, PricingMode::Congestion)
            } else {
                (100, PricingMode::Normal)
            };
            if let FeeVerdict::Apply { fee_ppm, .. } = judge(&proposal(ppm, mode), &f, &config, now)
            {
                sent += 1;
                if r.mode.is_protective() && !mode.is_protective() {
                    exits.push(now);
                } else {
                    regular.push(now);
                }
                r = record(fee_ppm.ppm(), mode, Some(now));
            }
        }
        let per_day = config.max_broadcasts_per_day + config.max_mode_exits_per_day;
        assert!(sent <= 3 * per_day, "{sent} broadcasts in 3 days");
        assert!(sent >= 3 * config.max_broadcasts_per_day, "{sent}");
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
