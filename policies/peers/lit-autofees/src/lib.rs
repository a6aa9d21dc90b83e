//! `lit-autofees`: Lightning Terminal's Autofees, as a revops fee policy.
//!
//! Lightning Labs documents the algorithm, not its code (it runs on their server):
//! - the forwarded traffic of the node's top five earning peers is the reference for a target
//!   throughput per peer;
//! - a channel forwarding less than the target gets a lower fee, more than it a higher one;
//! - each change is a small step, made at most once every three days (to limit gossip);
//! - once 7/8 of a channel's liquidity is depleted its fee is mildly raised again, to signal
//!   scarcity and keep liquidity for busier times;
//! - it keeps no state of its own: forwarding history, balances and the fees in force.
//!
//! Written from, as facts: docs.lightning.engineering `lightning-terminal/autofees.md` (the
//! algorithm above; bounds come from the litd firewall's `channel-policy-bounds` rule, the
//! history from its 60-day `history-limit`; suggested starting fee 2,500 ppm), and
//! lightninglabs/lightning-terminal `rules/` (those rule names).
//!
//! Approximated, the unpublished parts marked *ours*:
//! - throughput is the 7-day outflow (the snapshot has no 60-day history), ranked by 7-day fees;
//! - the target scales the top earners' turnover (outflow per capacity) to each channel's
//!   capacity, so big and small channels are held to the same standard (*ours*);
//! - within `tolerance-pct` of the target the fee holds (*ours*: "stabilize traffic");
//! - a step is `step-pct` (10 %) of the fee, at least `min-step-ppm` (*ours*: "small
//!   increments", just past the 5 % within which revops's guard does not broadcast);
//! - `min-ppm`/`max-ppm` stand in for the operator's firewall bounds (*ours*);
//! - per channel rather than per peer; the three-day clock is the later of the host's last
//!   broadcast and this policy's last change (kept in channel state, since the host may hold
//!   back a broadcast); a channel on a host probe is left alone.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::{format, string::String, vec::Vec};
use guest_support::{
    money::ratio_permille,
    schema::{IntParam, Schema},
    state::{self, Reader, Restore, Versioned, Writer},
    types::{Channel, ChannelState, FeeProposal, Param, PricingMode},
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

const INTERVAL_HOURS: IntParam = IntParam::new(
    "interval-hours",
    "Least time between two changes of a channel's fee, hours (Autofees: three days).",
    72,
)
.range(1, 720);
const TOP_PEERS: IntParam = IntParam::new(
    "top-peers",
    "How many top earners set the reference throughput (Autofees: five).",
    5,
)
.range(1, 100);
// 10 %, not smaller: revops's fee guard holds back changes within 5 % of the last broadcast.
const STEP_PCT: IntParam =
    IntParam::new("step-pct", "One step, % of the current fee.", 10).range(1, 50);
const MIN_STEP_PPM: IntParam =
    IntParam::new("min-step-ppm", "Smallest step, ppm.", 5).range(1, 1_000);
const TOLERANCE_PCT: IntParam = IntParam::new(
    "tolerance-pct",
    "Throughput within this % of the target holds the fee.",
    10,
)
.range(0, 100);
const DEPLETED_PERMILLE: IntParam = IntParam::new(
    "depleted-permille",
    "Local share at or below which a channel counts as depleted, ‰ (Autofees: 1/8).",
    125,
)
.range(0, 500);
const MIN_PPM: IntParam = IntParam::new("min-ppm", "Lowest fee, ppm.", 1).range(0, 100_000);
const MAX_PPM: IntParam = IntParam::new("max-ppm", "Highest fee, ppm.", 5_000).range(0, 100_000);
const SCHEMA: Schema = Schema::new(&[
    &INTERVAL_HOURS,
    &TOP_PEERS,
    &STEP_PCT,
    &MIN_STEP_PPM,
    &TOLERANCE_PCT,
    &DEPLETED_PERMILLE,
    &MIN_PPM,
    &MAX_PPM,
]);

struct Settings {
    interval_secs: u64,
    top_peers: usize,
    step_pct: u32,
    min_step_ppm: u32,
    tolerance_pct: u64,
    depleted_permille: u64,
    min_ppm: u32,
    max_ppm: u32,
}

impl Settings {
    fn read(params: &[Param]) -> Self {
        Self {
            interval_secs: INTERVAL_HOURS.get_u64(params) * 3_600,
            top_peers: TOP_PEERS.get_usize(params),
            step_pct: STEP_PCT.get_u32(params),
            min_step_ppm: MIN_STEP_PPM.get_u32(params),
            tolerance_pct: TOLERANCE_PCT.get_u64(params),
            depleted_permille: DEPLETED_PERMILLE.get_u64(params),
            min_ppm: MIN_PPM.get_u32(params),
            max_ppm: MAX_PPM.get_u32(params),
        }
    }
}

/// The top earners' turnover: 7-day outflow per unit of capacity, over the `top` channels that
/// earned most in 7 days (ties by id). `None` when nothing earned: no reference yet.
fn reference_turnover(channels: &[Channel], top: usize) -> Option<f64> {
    let mut earners: Vec<&Channel> = channels
        .iter()
        .filter(|c| c.flow.fees_earned_msat_7d > 0)
        .collect();
    earners.sort_by_key(|c| (core::cmp::Reverse(c.flow.fees_earned_msat_7d), c.id));
    earners.truncate(top);
    let (out, capacity) = earners.iter().fold((0u128, 0u128), |(o, k), c| {
        (
            o + u128::from(c.flow.out_msat_7d),
            k + u128::from(c.capacity_msat),
        )
    });
    (capacity > 0 && !earners.is_empty()).then(|| out as f64 / capacity as f64)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Move {
    Up(&'static str),
    Down(&'static str),
}

/// Which way a channel's fee goes, if any. Depletion wins over a throughput below target.
fn direction(
    out_msat: u64,
    target_msat: Option<u64>,
    depleted: bool,
    tolerance_pct: u64,
) -> Option<Move> {
    if depleted {
        return Some(Move::Up("7/8 depleted: scarcity"));
    }
    let target = u128::from(target_msat?);
    let out = u128::from(out_msat) * 100;
    if out < target * u128::from(100 - tolerance_pct.min(100)) {
        Some(Move::Down("below the top earners' throughput"))
    } else if out > target * u128::from(100 + tolerance_pct) {
        Some(Move::Up("above the top earners' throughput"))
    } else {
        None
    }
}

/// The fee one small step up or down, inside the bounds.
fn step(fee_ppm: u32, up: bool, s: &Settings) -> u32 {
    let size = (u64::from(fee_ppm) * u64::from(s.step_pct) / 100).max(u64::from(s.min_step_ppm));
    let size = u32::try_from(size).unwrap_or(u32::MAX);
    let fee = if up {
        fee_ppm.saturating_add(size)
    } else {
        fee_ppm.saturating_sub(size)
    };
    fee.min(s.max_ppm).max(s.min_ppm)
}

/// When this policy last changed a channel's fee.
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

struct LitAutofees;

impl Guest for LitAutofees {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "lit-autofees".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Lightning Terminal's Autofees: throughput against the top earners, small steps every three days, up at 7/8 depletion.".into(),
            params: SCHEMA.specs(),
        }
    }

    fn propose_fees(ctx: Context, snapshot: Snapshot) -> Result<FeeDecision, String> {
        let s = Settings::read(&ctx.params);
        let turnover = reference_turnover(&snapshot.channels, s.top_peers);
        let mut restore = Restore::new("channel state");
        let mut proposals = Vec::new();
        let mut channel_states = Vec::new();
        for channel in &snapshot.channels {
            let blob = state::channel_blob(&snapshot.channel_states, channel.id);
            let mut memory: Memory = restore.load(blob);
            let last = memory.last_change_secs.max(channel.last_broadcast_secs);
            if channel.probe_active
                || last.is_some_and(|at| ctx.now_secs.saturating_sub(at) < s.interval_secs)
            {
                continue;
            }
            let capacity = channel.capacity_msat.max(1);
            let depleted =
                ratio_permille(channel.local_msat, capacity).unwrap_or(0) <= s.depleted_permille;
            let target = turnover.map(|t| (t * capacity as f64) as u64);
            let Some(movement) =
                direction(channel.flow.out_msat_7d, target, depleted, s.tolerance_pct)
            else {
                continue;
            };
            let (up, why) = match movement {
                Move::Up(why) => (true, why),
                Move::Down(why) => (false, why),
            };
            let fee_ppm = step(channel.fee_ppm, up, &s);
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
                reason: format!(
                    "lit autofees: {why} ({} of {} sat in 7 d)",
                    channel.flow.out_msat_7d / 1_000,
                    target.unwrap_or(0) / 1_000
                ),
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

export!(LitAutofees);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_consistent() {
        assert_eq!(SCHEMA.check(), Ok(()));
        let s = Settings::read(&[]);
        assert_eq!((s.interval_secs, s.top_peers), (3 * 86_400, 5));
        assert_eq!(s.depleted_permille, 125, "7/8 depleted");
    }

    #[test]
    fn below_target_goes_down_above_goes_up_near_it_holds() {
        let target = Some(1_000);
        assert_eq!(
            direction(800, target, false, 10),
            Some(Move::Down("below the top earners' throughput"))
        );
        assert_eq!(direction(950, target, false, 10), None);
        assert_eq!(
            direction(1_100, target, false, 10),
            None,
            "at the edge: holds"
        );
        assert!(matches!(
            direction(1_101, target, false, 10),
            Some(Move::Up(_))
        ));
        assert_eq!(direction(0, None, false, 10), None, "no reference yet");
    }

    #[test]
    fn a_depleted_channel_goes_up_whatever_its_throughput() {
        assert!(matches!(
            direction(0, Some(1_000), true, 10),
            Some(Move::Up(_))
        ));
        assert!(matches!(direction(0, None, true, 10), Some(Move::Up(_))));
    }

    #[test]
    fn steps_are_small_and_bounded() {
        let s = Settings::read(&[]);
        assert_eq!(step(1_000, true, &s), 1_100, "10 %");
        assert_eq!(step(1_000, false, &s), 900);
        assert_eq!(step(20, false, &s), 15, "at least 5 ppm");
        assert_eq!(step(3, false, &s), 1, "min-ppm");
        assert_eq!(step(4_800, true, &s), 5_000, "max-ppm");
    }

    #[test]
    fn the_reference_is_the_top_earners_turnover() {
        let channel = |id: u64, fees: u64, out: u64| {
            let mut channel = Channel {
                fee_base_msat: 0,
                ..guest_support::fixtures::channel(id, 0, 1_000, 500, 100)
            };
            channel.flow.out_msat_7d = out;
            channel.flow.fees_earned_msat_7d = fees;
            channel
        };
        let channels = [
            channel(1, 50, 4_000),
            channel(2, 40, 2_000),
            channel(3, 1, 100_000),
            channel(4, 0, 9),
        ];
        assert_eq!(
            reference_turnover(&channels, 2),
            Some(3.0),
            "(4,000 + 2,000) / 2,000"
        );
        assert_eq!(reference_turnover(&channels[3..], 5), None, "nobody earned");
    }
}
