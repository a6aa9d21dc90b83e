//! `charge-lnd-proportional`: charge-lnd's `proportional` strategy, as a revops fee policy.
//!
//! `fee_ppm = int(min_fee_ppm + (1 − ratio) · (max_fee_ppm − min_fee_ppm))`, at least 0, where
//! `ratio = local / (local + remote)` — of this channel, or with `sum-peer-chans` of all active
//! channels with the peer (all of them when none is active). charge-lnd then changes a fee only
//! when it differs from the current one by at least `min_fee_ppm_delta` (10 unless set for
//! this strategy), or when the base fee differs.
//!
//! Written from, as facts (no code copied): accumulator/charge-lnd `charge_lnd/strategy.py`
//! (`strategy_proportional`, `get_ratio`), `charge_lnd/charge_lnd.py` (the delta test before an
//! update), `examples/all-channels-proportional.config` (base 1000 msat, 100–300 ppm, delta
//! 10) and its README (run from cron, about hourly).
//!
//! Approximated: charge-lnd has no defaults for `min_fee_ppm`/`max_fee_ppm` (it refuses to run
//! without them), so the example config's values are the defaults here. Like charge-lnd it
//! keeps no state: each call looks only at the balances and the fee in force. A channel on a
//! host probe is left alone.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::{format, string::String, vec::Vec};
use guest_support::{
    schema::{BoolParam, IntParam, Schema},
    types::{Channel, FeeProposal, Param, PricingMode},
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

const MIN_FEE_PPM: IntParam = IntParam::new(
    "min-fee-ppm",
    "Fee when all liquidity is ours, ppm (charge-lnd min_fee_ppm).",
    100,
)
.range(0, 100_000);
const MAX_FEE_PPM: IntParam = IntParam::new(
    "max-fee-ppm",
    "Fee when no liquidity is ours, ppm (charge-lnd max_fee_ppm).",
    300,
)
.range(0, 100_000);
const BASE_FEE_MSAT: IntParam = IntParam::new(
    "base-fee-msat",
    "Base fee, msat (charge-lnd base_fee_msat).",
    1_000,
)
.range(0, 100_000);
const MIN_FEE_PPM_DELTA: IntParam = IntParam::new(
    "min-fee-ppm-delta",
    "Leave a fee alone unless it moves by at least this much, ppm (charge-lnd min_fee_ppm_delta).",
    10,
)
.range(0, 100_000);
const SUM_PEER_CHANS: BoolParam = BoolParam::new(
    "sum-peer-chans",
    "Take the ratio over all channels with the peer (charge-lnd sum_peer_chans).",
    false,
);
const SCHEMA: Schema = Schema::new(&[
    &MIN_FEE_PPM,
    &MAX_FEE_PPM,
    &BASE_FEE_MSAT,
    &MIN_FEE_PPM_DELTA,
    &SUM_PEER_CHANS,
]);

struct Settings {
    min_ppm: u32,
    max_ppm: u32,
    base_msat: u32,
    delta_ppm: u32,
    sum_peer_chans: bool,
}

impl Settings {
    fn read(params: &[Param]) -> Self {
        Self {
            min_ppm: MIN_FEE_PPM.get_u32(params),
            max_ppm: MAX_FEE_PPM.get_u32(params),
            base_msat: BASE_FEE_MSAT.get_u32(params),
            delta_ppm: MIN_FEE_PPM_DELTA.get_u32(params),
            sum_peer_chans: SUM_PEER_CHANS.get(params),
        }
    }
}

/// Local and remote balance behind the ratio of `channel`: its own, or summed over the peer's
/// active channels (its inactive ones when none is active, so a peer coming back online finds
/// its fees unchanged).
fn balances(channel: &Channel, all: &[Channel], sum_peer_chans: bool) -> (u64, u64) {
    if !sum_peer_chans {
        return (channel.local_msat, channel.remote_msat);
    }
    let sum = |active: bool| {
        all.iter()
            .filter(|c| c.peer == channel.peer && c.active == active)
            .fold((0u64, 0u64), |(l, r), c| {
                (
                    l.saturating_add(c.local_msat),
                    r.saturating_add(c.remote_msat),
                )
            })
    };
    match sum(true) {
        (0, 0) => sum(false),
        active => active,
    }
}

/// The proportional fee: linear between `max_ppm` (nothing ours) and `min_ppm` (all ours),
/// truncated as Python's `int()` does, never below 0. An empty channel counts as all theirs.
fn proportional_ppm(local_msat: u64, remote_msat: u64, min_ppm: u32, max_ppm: u32) -> u32 {
    let total = local_msat.saturating_add(remote_msat);
    let ratio = if total == 0 {
        0.0
    } else {
        local_msat as f64 / total as f64
    };
    let span = f64::from(max_ppm) - f64::from(min_ppm);
    let ppm = f64::from(min_ppm) + (1.0 - ratio) * span;
    // `as` truncates towards zero like `int()` and saturates a negative value at 0.
    ppm as u32
}

/// charge-lnd's update test: a fee change of at least `delta`, or a new base fee.
fn worth_updating(channel: &Channel, fee_ppm: u32, base_msat: u32, delta_ppm: u32) -> bool {
    let fee_changed = fee_ppm != channel.fee_ppm && fee_ppm.abs_diff(channel.fee_ppm) >= delta_ppm;
    fee_changed || base_msat != channel.fee_base_msat
}

struct Proportional;

impl Guest for Proportional {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "charge-lnd-proportional".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "charge-lnd's proportional strategy: fee linear in the liquidity ratio."
                .into(),
            params: SCHEMA.specs(),
        }
    }

    fn propose_fees(ctx: Context, snapshot: Snapshot) -> Result<FeeDecision, String> {
        let s = Settings::read(&ctx.params);
        let proposals = snapshot
            .channels
            .iter()
            .filter(|c| !c.probe_active)
            .filter_map(|channel| {
                let (local, remote) = balances(channel, &snapshot.channels, s.sum_peer_chans);
                let fee_ppm = proportional_ppm(local, remote, s.min_ppm, s.max_ppm);
                worth_updating(channel, fee_ppm, s.base_msat, s.delta_ppm).then(|| FeeProposal {
                    channel: channel.id,
                    fee_ppm,
                    fee_base_msat: s.base_msat,
                    mode: PricingMode::Normal,
                    reason: format!(
                        "charge-lnd proportional: {} of {} sat ours",
                        local / 1_000,
                        local.saturating_add(remote) / 1_000
                    ),
                })
            })
            .collect();
        Ok(FeeDecision {
            proposals,
            node_state: Vec::new(),
            channel_states: Vec::new(),
        })
    }
}

export!(Proportional);

#[cfg(test)]
mod tests {
    use super::*;
    use guest_support::fixtures;

    fn channel(id: u64, peer: u32, local: u64, remote: u64, active: bool) -> Channel {
        Channel {
            active,
            ..fixtures::channel(id, peer, local + remote, local, 200)
        }
    }

    #[test]
    fn schema_is_consistent() {
        assert_eq!(SCHEMA.check(), Ok(()));
        let s = Settings::read(&[]);
        assert_eq!(
            (s.min_ppm, s.max_ppm, s.base_msat, s.delta_ppm),
            (100, 300, 1_000, 10)
        );
    }

    #[test]
    fn the_fee_is_linear_in_the_ratio() {
        assert_eq!(proportional_ppm(100, 0, 100, 300), 100, "all ours: min");
        assert_eq!(proportional_ppm(0, 100, 100, 300), 300, "none ours: max");
        assert_eq!(proportional_ppm(50, 50, 100, 300), 200, "half: the middle");
        assert_eq!(proportional_ppm(1, 2, 100, 300), 233, "233.33 truncated");
        assert_eq!(
            proportional_ppm(0, 0, 100, 300),
            300,
            "empty counts as theirs"
        );
        // min above max inverts the slope, and the result never goes below 0.
        assert_eq!(proportional_ppm(0, 100, 300, 100), 100);
    }

    #[test]
    fn small_changes_wait_for_the_delta() {
        let c = channel(1, 0, 50, 50, true);
        assert!(!worth_updating(&c, 205, 1_000, 10), "5 ppm off: left alone");
        assert!(worth_updating(&c, 210, 1_000, 10));
        assert!(!worth_updating(&c, 200, 1_000, 0), "the same fee never");
        assert!(worth_updating(&c, 200, 0, 10), "a new base fee always");
    }

    #[test]
    fn peer_channels_are_summed_when_asked() {
        let all = [
            channel(1, 0, 100, 0, true),
            channel(2, 0, 0, 300, true),
            channel(3, 0, 900, 0, false),
            channel(4, 1, 5, 5, true),
        ];
        assert_eq!(balances(&all[0], &all, false), (100, 0));
        assert_eq!(balances(&all[0], &all, true), (100, 300), "active only");
        let offline = [channel(1, 0, 100, 0, false), channel(2, 0, 0, 300, false)];
        assert_eq!(
            balances(&offline[0], &offline, true),
            (100, 300),
            "all inactive: summed"
        );
    }
}
