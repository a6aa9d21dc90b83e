//! A built-in, deterministic sample of a routing node, for `revops policy check`, for the
//! canary call when no live snapshot exists yet, and for benchmarks.

use super::{
    ChannelView, CompetitorFees, FeerateSample, FlowStats, Opener, PeerView, PendingHtlc,
    ProfitabilityClass, Snapshot,
};
use crate::{
    money::{Msat, Ppm},
    rng::SplitMix64,
    scid::ShortChannelId,
};

/// 2026-01-01T00:00:00Z: the sample's clock.
pub const SAMPLE_NOW_SECS: u64 = 1_767_225_600;
const DAY_SECS: u64 = 86_400;

/// `channels` channels to `channels / 2 + 1` peers, with varied balances, some pending HTLCs
/// and 24 h of hourly feerates. The same `seed` always gives the same sample.
pub fn sample_snapshot(channels: usize, seed: u64) -> Snapshot {
    let mut rng = SplitMix64::new(seed);
    let peer_count = channels / 2 + 1;
    let peers = (0..peer_count)
        .map(|i| PeerView {
            node_id: format!("02{:064x}", (i as u64 + 1).wrapping_mul(0x9E37_79B9))[..66].into(),
            connected: rng.below(20) != 0,
            // Derived from the index, not drawn, so the rest of the sample stays as it was.
            competitors: (i % 3 != 2).then(|| {
                let median = 150 + (i as u32 * 37) % 900;
                CompetitorFees {
                    channels: 2 + (i as u32 % 40),
                    p25: Ppm::new(median / 2),
                    median: Ppm::new(median),
                    p75: Ppm::new(median * 2),
                }
            }),
        })
        .collect();
    let channels: Vec<ChannelView> = (0..channels)
        .map(|i| sample_channel(i, peer_count, &mut rng))
        .collect();
    let mut htlcs = Vec::new();
    for index in 0..channels.len() {
        if rng.below(4) != 0 {
            continue;
        }
        for _ in 0..rng.between(1, 5) {
            htlcs.push(PendingHtlc {
                channel: index as u32,
                amount: Msat::new(rng.between(1_000_000, 2_000_000_000)),
                outgoing: rng.below(2) == 0,
            });
        }
    }
    let feerates = (0..24)
        .map(|hour| FeerateSample {
            at_secs: SAMPLE_NOW_SECS - (23 - hour) * 3600,
            opening_perkb: 2000 + rng.below(3000) as u32,
        })
        .collect();
    Snapshot {
        channels,
        peers,
        htlcs,
        feerates,
    }
}

fn sample_channel(index: usize, peer_count: usize, rng: &mut SplitMix64) -> ChannelView {
    let capacity_sat = [1_000_000u64, 2_000_000, 5_000_000, 10_000_000][rng.below(4) as usize];
    let capacity = Msat::from_sat(capacity_sat).expect("sample capacities are small");
    let local = Msat::new(rng.below(capacity.msat() + 1));
    let fee_ppm = Ppm::new(rng.between(1, 2000) as u32);
    let block = 800_000 + index as u64 / 1000;
    let flow_out = Msat::new(rng.below(capacity.msat() / 2));
    let flow_in = Msat::new(rng.below(capacity.msat() / 2));
    let forwards_out = rng.below(200) as u32;
    ChannelView {
        id: ShortChannelId::new(block, index as u64 % 1000, 0).expect("in range"),
        peer: (index % peer_count) as u32,
        capacity,
        local,
        remote: capacity.saturating_sub(local),
        fee_base: Msat::new(1000),
        fee_ppm,
        htlc_min: Msat::new(1),
        htlc_max: capacity,
        max_accepted_htlcs: 483,
        opener: if rng.below(2) == 0 {
            Opener::Local
        } else {
            Opener::Remote
        },
        age_secs: rng.between(DAY_SECS, 400 * DAY_SECS),
        active: rng.below(10) != 0,
        last_broadcast_ppm: Some(fee_ppm),
        last_broadcast_secs: Some(SAMPLE_NOW_SECS - rng.below(7 * DAY_SECS)),
        probe_active: false,
        class: ProfitabilityClass::Unknown,
        profit: None,
        flow: FlowStats {
            in_1d: Msat::new(flow_in.msat() / 7),
            out_1d: Msat::new(flow_out.msat() / 7),
            fees_earned_1d: fee_ppm.fee_on(Msat::new(flow_out.msat() / 7)),
            forwards_out_1d: forwards_out / 7,
            in_7d: flow_in,
            out_7d: flow_out,
            fees_earned_7d: fee_ppm.fee_on(flow_out),
            forwards_out_7d: forwards_out,
            forwards_in_7d: rng.below(200) as u32,
            out_total: Msat::new(flow_out.msat() * 4),
            fees_earned_total: fee_ppm.fee_on(Msat::new(flow_out.msat() * 4)),
            forwards_out_total: u64::from(forwards_out) * 4,
            last_forward_age_secs: Some(rng.below(7 * DAY_SECS)),
            // Derived, not drawn (see the peers): a few channels turn senders away.
            failed_out_1d: forwards_out % 4 / 2,
            failed_out_amount_1d: Msat::new(u64::from(forwards_out % 4 / 2) * 250_000_000),
            failed_out_7d: forwards_out % 4,
            failed_out_amount_7d: Msat::new(u64::from(forwards_out % 4) * 250_000_000),
        },
    }
}

/// What `revops policy check` lets a sample rebalance policy spend: 50,000 sat of budget at
/// most 1,000 ppm a move, one move at a time, diagnostics up to 100 sat.
pub fn sample_budget() -> super::RebalanceBudget {
    super::RebalanceBudget {
        remaining: Msat::from_sat(50_000).expect("small"),
        max_fee_ppm: Ppm::new(1_000),
        max_concurrent: 1,
        in_flight: 0,
        diagnostic_max_fee: Msat::from_sat(100).expect("small"),
        spent_7d: Msat::from_sat(1_200).expect("small"),
    }
}

/// A sample payout period: 1,000,000 sat to distribute over 50 M sat of the node's own capital
/// and three investors, one per lock tier.
pub fn sample_payout_input() -> super::PayoutInput {
    let investor = |id: &str, tier, sat: u64| super::Investor {
        id: id.into(),
        tier,
        twab: Msat::from_sat(sat).expect("small"),
        balance: Msat::from_sat(sat).expect("small"),
    };
    super::PayoutInput {
        period_id: "sample".into(),
        distributable: Msat::from_sat(1_000_000).expect("small"),
        native_capital: Msat::from_sat(50_000_000).expect("small"),
        investors: vec![
            investor("alice", super::LockTier::Liquid, 4_000_000),
            investor("bob", super::LockTier::Days30, 2_500_000),
            investor("carol", super::LockTier::Days90, 1_234_567),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_consistent() {
        let a = sample_snapshot(50, 3);
        assert_eq!(a, sample_snapshot(50, 3));
        assert_ne!(a, sample_snapshot(50, 4));
        assert_eq!(a.channels.len(), 50);
        for channel in &a.channels {
            assert_eq!(
                channel.local.checked_add(channel.remote),
                Some(channel.capacity)
            );
            assert!((channel.peer as usize) < a.peers.len());
        }
        let mut ids: Vec<_> = a.channels.iter().map(|c| c.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 50);
        assert!(a.htlcs.iter().all(|h| (h.channel as usize) < 50));
        assert_eq!(a.feerates.len(), 24);
    }
}
