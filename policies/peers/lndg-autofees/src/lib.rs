//! `lndg-autofees`: LNDg's Auto-Fees (`af.py`), as a revops fee policy.
//!
//! LNDg sorts channels into three liquidity bands by outbound share (pending HTLCs included)
//! and nudges each fee by a multiple of `AF-Multiplier`:
//!
//! | band | rule | step |
//! |---|---|---|
//! | low (≤ `AF-LowLiqLimit` %) | more failed HTLCs out than `AF-FailedHTLCs` today and nothing in today | +5 × m |
//! | balanced | 7-day net outflow above one capacity | +2 × m × (1 + net/capacity) |
//! | balanced | no flow in 7 days | −3 × m |
//! | excess (≥ `AF-ExcessLimit` %) | net inflow and the fees it helped earn elsewhere > 10 × its own | −5 × m |
//! | excess | no flow in 7 days | −5 × m |
//!
//! The result is rounded to a multiple of `AF-Increment` (Python's half-to-even `round`) and
//! clamped into `AF-MinRate..=AF-MaxRate`. A fee changes only when it moves and at least
//! `AF-UpdateHours` have passed since the channel's fee last changed.
//!
//! Written from, as facts (no code copied): cryptosharks131/lndg `af.py` and `gui/af.py`
//! (the rules, the 1-day/7-day windows, the ≥ 1,000 sat forward filter, the failed-HTLC
//! filter: temporary channel failure for insufficient balance), the defaults there and in its
//! settings form (MaxRate 2500, MinRate 0, Increment 5, Multiplier 5, FailedHTLCs 25,
//! UpdateHours 24, LowLiqLimit 15, ExcessLimit 95), and the README's Auto-Fees notes.
//!
//! Approximated:
//! - "failed HTLCs" are the host's `failed-out-1d`: every local failure with this channel
//!   outgoing, not only the insufficient-balance ones LNDg counts;
//! - flows include forwards under 1,000 sat, which LNDg leaves out;
//! - the fees a channel "assisted" (earned on other channels by traffic it brought in) are
//!   not in the snapshot: its 7-day inflow priced at the node's 7-day average outgoing rate;
//! - LNDg's balanced-band increase divides the already normalised net flow by the capacity
//!   again, which makes its scaling negligible; reproduced as is (the step is about 2 × m);
//! - the clock of `AF-UpdateHours` is the later of this policy's last change and the host's
//!   last broadcast; a channel on a host probe is left alone.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::{format, string::String, vec::Vec};
use guest_support::{
    schema::{IntParam, Schema},
    state::{self, Reader, Restore, Versioned, Writer},
    types::{Channel, ChannelState, FeeProposal, Param, PendingHtlc, PricingMode},
};

wit_bindgen::generate!({
    world: "fee-policy",
    path: "../../../wit",
    with: {
        "revops:policy/types@0.1.0": guest_support::types,
        "revops:policy/logging@0.1.0": guest_support::logging,
    },
});

guest_support::panic_handler!();

const MAX_RATE: IntParam = IntParam::new(
    "max-rate",
    "Highest fee Auto-Fees sets, ppm (AF-MaxRate).",
    2_500,
)
.range(0, 100_000);
const MIN_RATE: IntParam = IntParam::new(
    "min-rate",
    "Lowest fee Auto-Fees sets, ppm (AF-MinRate).",
    0,
)
.range(0, 100_000);
const INCREMENT: IntParam = IntParam::new(
    "increment",
    "Fees are rounded to multiples of this, ppm (AF-Increment).",
    5,
)
.range(1, 1_000);
const MULTIPLIER: IntParam =
    IntParam::new("multiplier", "Scales every step (AF-Multiplier).", 5).range(1, 100);
const FAILED_HTLCS: IntParam = IntParam::new(
    "failed-htlcs",
    "Failed HTLCs out in a day above which a low channel's fee rises (AF-FailedHTLCs).",
    25,
)
.range(0, 10_000);
const UPDATE_HOURS: IntParam = IntParam::new(
    "update-hours",
    "Hours since the fee last changed before Auto-Fees may change it (AF-UpdateHours).",
    24,
)
.range(1, 100);
const LOWLIQ_LIMIT: IntParam = IntParam::new(
    "lowliq-limit",
    "Outbound % at or below which the low-liquidity rules run (AF-LowLiqLimit).",
    15,
)
.range(0, 100);
const EXCESS_LIMIT: IntParam = IntParam::new(
    "excess-limit",
    "Outbound % at or above which the excess-liquidity rules run (AF-ExcessLimit).",
    95,
)
.range(0, 100);
const SCHEMA: Schema = Schema::new(&[
    &MAX_RATE,
    &MIN_RATE,
    &INCREMENT,
    &MULTIPLIER,
    &FAILED_HTLCS,
    &UPDATE_HOURS,
    &LOWLIQ_LIMIT,
    &EXCESS_LIMIT,
]);

struct Settings {
    max_rate: u32,
    min_rate: u32,
    increment: u32,
    multiplier: f64,
    failed_htlcs: u32,
    update_secs: u64,
    lowliq_limit: u64,
    excess_limit: u64,
}

impl Settings {
    fn read(params: &[Param]) -> Self {
        let (mut lowliq_limit, mut excess_limit) =
            (LOWLIQ_LIMIT.get_u64(params), EXCESS_LIMIT.get_u64(params));
        // LNDg: "Invalid thresholds detected, using defaults".
        if lowliq_limit >= excess_limit {
            (lowliq_limit, excess_limit) = (5, 95);
        }
        Self {
            max_rate: MAX_RATE.get_u32(params),
            min_rate: MIN_RATE.get_u32(params),
            increment: INCREMENT.get_u32(params),
            multiplier: f64::from(MULTIPLIER.get_u32(params)),
            failed_htlcs: FAILED_HTLCS.get_u32(params),
            update_secs: UPDATE_HOURS.get_u64(params) * 3_600,
            lowliq_limit,
            excess_limit,
        }
    }
}

/// What the rules read about one channel, in LNDg's units (sat; fees in msat, only compared).
#[derive(Clone, Copy, Debug, Default)]
struct Facts {
    fee_ppm: u32,
    capacity_sat: u64,
    out_percent: u64,
    in_1d_sat: u64,
    in_7d_sat: u64,
    out_7d_sat: u64,
    failed_out_1d: u32,
    revenue_7d_msat: u64,
    assisted_7d_msat: u64,
}

/// `n / d` rounded half to even, as Python's `round` does; `d` > 0.
fn div_round_even(n: i128, d: i128) -> i128 {
    let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
    match (2 * r).cmp(&d) {
        core::cmp::Ordering::Less => q,
        core::cmp::Ordering::Greater => q + 1,
        core::cmp::Ordering::Equal => q + (q & 1),
    }
}

/// The rate LNDg proposes before rounding, and the rule that moved it (if any).
fn raw_rate(f: &Facts, s: &Settings) -> (f64, &'static str) {
    let current = f64::from(f.fee_ppm);
    let m = s.multiplier;
    let no_flow = f.in_7d_sat + f.out_7d_sat == 0;
    let capacity = f.capacity_sat.max(1);
    // (out − in) / capacity to one decimal, in tenths.
    let net_tenths = div_round_even(
        (i128::from(f.out_7d_sat) - i128::from(f.in_7d_sat)) * 10,
        i128::from(capacity),
    );
    if f.out_percent <= s.lowliq_limit {
        if f.failed_out_1d > s.failed_htlcs && f.in_1d_sat == 0 {
            return (current + 5.0 * m, "low liquidity, failed HTLCs, nothing in");
        }
        (current, "low liquidity")
    } else if f.out_percent < s.excess_limit {
        if no_flow {
            return (current - 3.0 * m, "balanced, no flow in 7 days");
        }
        if net_tenths > 10 {
            let net = net_tenths as f64 / 10.0;
            return (
                current + 2.0 * m * (1.0 + net / capacity as f64),
                "balanced, net outflow over a capacity",
            );
        }
        (current, "balanced")
    } else {
        if no_flow {
            return (current - 5.0 * m, "excess, no flow in 7 days");
        }
        if net_tenths < 0 && f.assisted_7d_msat > f.revenue_7d_msat.saturating_mul(10) {
            return (current - 5.0 * m, "excess, assisting other channels");
        }
        (current, "excess liquidity")
    }
}

/// The rate rounded to a multiple of the increment (half to even) and clamped into bounds.
fn settle(rate: f64, s: &Settings) -> u32 {
    let steps = rate / f64::from(s.increment);
    // Half to even on the float, as Python's round(x, 0).
    let floor = libm::floor(steps);
    let fraction = steps - floor;
    let rounded = if fraction > 0.5 || (fraction == 0.5 && floor % 2.0 != 0.0) {
        floor + 1.0
    } else {
        floor
    } as i64;
    let rate = rounded.saturating_mul(i64::from(s.increment));
    // Python clamps max first, then min: min wins when they cross.
    let rate = rate.min(i64::from(s.max_rate)).max(i64::from(s.min_rate));
    rate.clamp(0, i64::from(u32::MAX)) as u32
}

/// Outbound share in %, rounded half to even, counting HTLCs pending out as ours.
fn out_percent(channel: &Channel, index: usize, htlcs: &[PendingHtlc]) -> u64 {
    let pending_out: u64 = htlcs
        .iter()
        .filter(|h| h.channel as usize == index && h.outgoing)
        .fold(0, |sum, h| sum.saturating_add(h.amount_msat));
    // Capped at the capacity: a balance that already counts its HTLCs must not pass 100 %.
    let local = channel
        .local_msat
        .saturating_add(pending_out)
        .min(channel.capacity_msat);
    div_round_even(
        i128::from(local) * 100,
        i128::from(channel.capacity_msat.max(1)),
    ) as u64
}

/// When a channel's fee last changed, as far as this policy knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Memory {
    last_change_secs: Option<u64>,
}

impl Versioned for Memory {
    const VERSION: u8 = 1;

    fn write(&self, w: &mut Writer) {
        w.opt_u64(self.last_change_secs);
    }

    fn read(_version: u8, r: &mut Reader<'_>) -> Option<Self> {
        Some(Self {
            last_change_secs: r.opt_u64()?,
        })
    }
}

fn eligible(memory: &Memory, channel: &Channel, now: u64, update_secs: u64) -> bool {
    match memory.last_change_secs.max(channel.last_broadcast_secs) {
        Some(at) => now.saturating_sub(at) > update_secs,
        None => true,
    }
}

struct LndgAutoFees;

impl Guest for LndgAutoFees {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "lndg-autofees".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "LNDg's Auto-Fees: per liquidity band, flow and failed-HTLC steps once per AF-UpdateHours.".into(),
            params: SCHEMA.specs(),
        }
    }

    fn propose_fees(ctx: Context, snapshot: Snapshot) -> Result<FeeDecision, String> {
        let s = Settings::read(&ctx.params);
        // The node's average outgoing rate prices the traffic a channel brings in.
        let (fees, volume) = snapshot.channels.iter().fold((0u128, 0u128), |(f, v), c| {
            (
                f + u128::from(c.flow.fees_earned_msat_7d),
                v + u128::from(c.flow.out_msat_7d),
            )
        });
        let mut restore = Restore::new("channel state");
        let mut proposals = Vec::new();
        let mut channel_states = Vec::new();
        for (index, channel) in snapshot.channels.iter().enumerate() {
            let blob = state::channel_blob(&snapshot.channel_states, channel.id);
            let mut memory: Memory = restore.load(blob);
            if channel.probe_active || !eligible(&memory, channel, ctx.now_secs, s.update_secs) {
                continue;
            }
            let flow = &channel.flow;
            let assisted = u128::from(flow.in_msat_7d)
                .saturating_mul(fees)
                .checked_div(volume)
                .map_or(0, |a| a.min(u128::from(u64::MAX)) as u64);
            let facts = Facts {
                fee_ppm: channel.fee_ppm,
                capacity_sat: channel.capacity_msat / 1_000,
                out_percent: out_percent(channel, index, &snapshot.htlcs),
                in_1d_sat: flow.in_msat_1d / 1_000,
                in_7d_sat: flow.in_msat_7d / 1_000,
                out_7d_sat: flow.out_msat_7d / 1_000,
                failed_out_1d: flow.failed_out_1d,
                revenue_7d_msat: flow.fees_earned_msat_7d,
                assisted_7d_msat: assisted,
            };
            let (rate, why) = raw_rate(&facts, &s);
            let fee_ppm = settle(rate, &s);
            if fee_ppm == channel.fee_ppm {
                continue;
            }
            memory.last_change_secs = Some(ctx.now_secs);
            channel_states.push(ChannelState {
                id: channel.id,
                state: state::save(&memory),
            });
            proposals.push(FeeProposal {
                channel: channel.id,
                fee_ppm,
                fee_base_msat: channel.fee_base_msat,
                mode: PricingMode::Normal,
                reason: format!("lndg af: {why} ({}% out)", facts.out_percent),
            });
        }
        restore.finish();
        Ok(FeeDecision {
            proposals,
            node_state: Vec::new(),
            channel_states,
        })
    }
}

export!(LndgAutoFees);

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Settings {
        Settings::read(&[])
    }

    fn facts(out_percent: u64) -> Facts {
        Facts {
            fee_ppm: 500,
            capacity_sat: 1_000_000,
            out_percent,
            in_7d_sat: 100_000,
            out_7d_sat: 100_000,
            ..Facts::default()
        }
    }

    #[test]
    fn schema_is_consistent() {
        assert_eq!(SCHEMA.check(), Ok(()));
        let s = defaults();
        assert_eq!((s.max_rate, s.min_rate, s.increment), (2_500, 0, 5));
        assert_eq!(
            (s.multiplier, s.failed_htlcs, s.update_secs),
            (5.0, 25, 24 * 3_600)
        );
        assert_eq!((s.lowliq_limit, s.excess_limit), (15, 95));
    }

    #[test]
    fn low_liquidity_rises_only_on_failed_htlcs_without_inflow() {
        let s = defaults();
        let mut f = facts(10);
        f.failed_out_1d = 26;
        assert_eq!(settle(raw_rate(&f, &s).0, &s), 525, "+5 × 5");
        f.in_1d_sat = 1;
        assert_eq!(settle(raw_rate(&f, &s).0, &s), 500, "something came in");
        f.in_1d_sat = 0;
        f.failed_out_1d = 25;
        assert_eq!(
            settle(raw_rate(&f, &s).0, &s),
            500,
            "not more than the limit"
        );
    }

    #[test]
    fn balanced_rises_on_net_outflow_and_falls_without_flow() {
        let s = defaults();
        let mut f = facts(50);
        f.out_7d_sat = 1_200_000;
        f.in_7d_sat = 100_000; // net 1.1 capacities
        assert_eq!(settle(raw_rate(&f, &s).0, &s), 510, "about +2 × 5");
        f.out_7d_sat = 1_100_000; // net exactly 1.0: not above 1
        assert_eq!(settle(raw_rate(&f, &s).0, &s), 500);
        let idle = Facts {
            in_7d_sat: 0,
            out_7d_sat: 0,
            ..facts(50)
        };
        assert_eq!(settle(raw_rate(&idle, &s).0, &s), 485, "−3 × 5");
    }

    #[test]
    fn excess_falls_when_idle_or_assisting() {
        let s = defaults();
        let idle = Facts {
            in_7d_sat: 0,
            out_7d_sat: 0,
            ..facts(97)
        };
        assert_eq!(settle(raw_rate(&idle, &s).0, &s), 475, "−5 × 5");
        let mut assisting = facts(97);
        assisting.in_7d_sat = 300_000; // net inflow
        assisting.revenue_7d_msat = 10;
        assisting.assisted_7d_msat = 101;
        assert_eq!(settle(raw_rate(&assisting, &s).0, &s), 475);
        assisting.assisted_7d_msat = 100;
        assert_eq!(
            settle(raw_rate(&assisting, &s).0, &s),
            500,
            "not above 10 ×"
        );
    }

    #[test]
    fn rates_round_to_the_increment_half_to_even_and_stay_in_bounds() {
        let s = defaults();
        assert_eq!(settle(512.5, &s), 510, "102.5 steps → 102");
        assert_eq!(settle(517.5, &s), 520, "103.5 steps → 104");
        assert_eq!(settle(-15.0, &s), 0, "min-rate 0");
        assert_eq!(settle(9_000.0, &s), 2_500, "max-rate");
        assert_eq!(div_round_even(25, 10), 2);
        assert_eq!(div_round_even(35, 10), 4);
        assert_eq!(div_round_even(-15, 10), -2);
    }

    #[test]
    fn a_fee_changes_at_most_once_per_update_hours() {
        let memory = Memory {
            last_change_secs: Some(1_000),
        };
        let mut c = test_channel();
        assert!(
            !eligible(&memory, &c, 1_000 + 24 * 3_600, 24 * 3_600),
            "strictly more"
        );
        assert!(eligible(&memory, &c, 1_001 + 24 * 3_600, 24 * 3_600));
        c.last_broadcast_secs = Some(50_000);
        assert!(
            !eligible(&memory, &c, 1_001 + 24 * 3_600, 24 * 3_600),
            "a later broadcast"
        );
        assert!(eligible(&Memory::default(), &test_channel(), 0, 3_600));
    }

    fn test_channel() -> Channel {
        guest_support::fixtures::channel(1, 0, 1_000_000_000, 500_000_000, 500)
    }
}
