//! Per-channel forwarding flow over the last day and week, kept as hourly buckets with running
//! sums, so that a cycle reads 1,000 channels' stats in microseconds.

use crate::{
    model::FlowStats,
    money::Msat,
    node::{Forward, ForwardStatus, UNKNOWN_NEXT_PEER},
    scid::ShortChannelId,
};
use std::collections::{HashMap, VecDeque};

const HOUR_MS: u64 = 3_600_000;
const DAY_HOURS: u64 = 24;
const WEEK_HOURS: u64 = 7 * 24;

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct Bucket {
    in_msat: u64,
    out_msat: u64,
    fees_out_msat: u64,
    forwards_in: u32,
    forwards_out: u32,
    /// `local_failed` forwards out of the channel, and their incoming amounts.
    failed_out: u32,
    failed_out_msat: u64,
}

impl Bucket {
    fn add(&mut self, other: &Bucket) {
        self.in_msat = self.in_msat.saturating_add(other.in_msat);
        self.out_msat = self.out_msat.saturating_add(other.out_msat);
        self.fees_out_msat = self.fees_out_msat.saturating_add(other.fees_out_msat);
        self.forwards_in = self.forwards_in.saturating_add(other.forwards_in);
        self.forwards_out = self.forwards_out.saturating_add(other.forwards_out);
        self.failed_out = self.failed_out.saturating_add(other.failed_out);
        self.failed_out_msat = self.failed_out_msat.saturating_add(other.failed_out_msat);
    }

    fn subtract(&mut self, other: &Bucket) {
        self.in_msat -= other.in_msat;
        self.out_msat -= other.out_msat;
        self.fees_out_msat -= other.fees_out_msat;
        self.forwards_in -= other.forwards_in;
        self.forwards_out -= other.forwards_out;
        self.failed_out -= other.failed_out;
        self.failed_out_msat -= other.failed_out_msat;
    }
}

/// Hourly buckets, oldest first; `week` sums all of them, `day` sums `buckets[day_start..]`,
/// `total` everything ever recorded.
#[derive(Debug, Default)]
struct ChannelFlow {
    buckets: VecDeque<(u64, Bucket)>,
    week: Bucket,
    day: Bucket,
    total: Bucket,
    day_start: usize,
    last_forward_ms: Option<u64>,
}

impl ChannelFlow {
    /// Books `delta` in its hour; `settled_at_ms` moves the last-forward time (a failure does
    /// not: the channel did not route).
    fn add(&mut self, hour: u64, delta: Bucket, settled_at_ms: Option<u64>) {
        self.last_forward_ms = self.last_forward_ms.max(settled_at_ms);
        // Forwards arrive nearly in order: search from the newest bucket.
        let position = self.buckets.iter().rposition(|(h, _)| *h <= hour);
        let index = match position {
            Some(i) if self.buckets[i].0 == hour => i,
            Some(i) => {
                self.buckets.insert(i + 1, (hour, Bucket::default()));
                if i + 1 < self.day_start {
                    self.day_start += 1;
                }
                i + 1
            }
            None => {
                // Older than every bucket: outside the day window only if the oldest one is.
                self.buckets.push_front((hour, Bucket::default()));
                if self.day_start > 0 {
                    self.day_start += 1;
                }
                0
            }
        };
        self.buckets[index].1.add(&delta);
        self.week.add(&delta);
        self.total.add(&delta);
        if index >= self.day_start {
            self.day.add(&delta);
        }
    }

    /// Drops what fell out of the windows ending at `now_hour`.
    fn expire(&mut self, now_hour: u64) {
        while let Some(&(hour, bucket)) = self.buckets.front() {
            if hour + WEEK_HOURS > now_hour {
                break;
            }
            self.buckets.pop_front();
            self.week.subtract(&bucket);
            if self.day_start == 0 {
                self.day.subtract(&bucket);
            } else {
                self.day_start -= 1;
            }
        }
        while let Some(&(hour, bucket)) = self.buckets.get(self.day_start) {
            if hour + DAY_HOURS > now_hour {
                break;
            }
            self.day.subtract(&bucket);
            self.day_start += 1;
        }
    }
}

#[derive(Debug, Default)]
pub struct FlowTracker {
    channels: HashMap<ShortChannelId, ChannelFlow>,
    /// The latest profitability analysis (refreshed by the cycle from the ledgers); it lives
    /// here because the tracker is the analytics state every cycle already carries.
    pub profit: super::profit_cache::ProfitCache,
    /// What other channels into each peer charge (gossip), refreshed hourly by the cycle.
    pub competitors: super::competitors::CompetitorCache,
}

impl FlowTracker {
    /// Books a settled forward: inbound on its incoming channel, outbound (and the fee, counted
    /// once, on the outgoing side) on its outgoing channel. A `local_failed` one is demand the
    /// outgoing channel could not serve. Other statuses are ignored.
    pub fn record(&mut self, forward: &Forward) {
        let at_ms = forward.resolved_ms.unwrap_or(forward.received_ms);
        let hour = at_ms / HOUR_MS;
        if forward.status == ForwardStatus::LocalFailed {
            // A channel whose peer is gone turns senders away whatever its liquidity: that is
            // not demand a refill would serve.
            let peer_gone = forward
                .failure
                .as_ref()
                .is_some_and(|f| f.code == UNKNOWN_NEXT_PEER);
            if let Some(out_channel) = forward.out_channel.filter(|_| !peer_gone) {
                let failed = Bucket {
                    failed_out: 1,
                    failed_out_msat: forward.in_amount.msat(),
                    ..Bucket::default()
                };
                self.channels
                    .entry(out_channel)
                    .or_default()
                    .add(hour, failed, None);
            }
            return;
        }
        if forward.status != ForwardStatus::Settled {
            return;
        }
        self.channels.entry(forward.in_channel).or_default().add(
            hour,
            Bucket {
                in_msat: forward.in_amount.msat(),
                forwards_in: 1,
                ..Bucket::default()
            },
            Some(at_ms),
        );
        if let Some(out_channel) = forward.out_channel {
            self.channels.entry(out_channel).or_default().add(
                hour,
                Bucket {
                    out_msat: forward.out_amount.map_or(0, Msat::msat),
                    fees_out_msat: forward.fee.map_or(0, Msat::msat),
                    forwards_out: 1,
                    ..Bucket::default()
                },
                Some(at_ms),
            );
        }
    }

    /// The channel's flow over the day and week ending at `now_secs`.
    pub fn stats(&mut self, channel: ShortChannelId, now_secs: u64) -> FlowStats {
        let Some(flow) = self.channels.get_mut(&channel) else {
            return FlowStats::default();
        };
        flow.expire(now_secs * 1000 / HOUR_MS);
        FlowStats {
            in_1d: Msat::new(flow.day.in_msat),
            out_1d: Msat::new(flow.day.out_msat),
            fees_earned_1d: Msat::new(flow.day.fees_out_msat),
            forwards_out_1d: flow.day.forwards_out,
            in_7d: Msat::new(flow.week.in_msat),
            out_7d: Msat::new(flow.week.out_msat),
            fees_earned_7d: Msat::new(flow.week.fees_out_msat),
            forwards_out_7d: flow.week.forwards_out,
            forwards_in_7d: flow.week.forwards_in,
            out_total: Msat::new(flow.total.out_msat),
            fees_earned_total: Msat::new(flow.total.fees_out_msat),
            forwards_out_total: u64::from(flow.total.forwards_out),
            last_forward_age_secs: flow
                .last_forward_ms
                .map(|ms| now_secs.saturating_sub(ms / 1000)),
            failed_out_1d: flow.day.failed_out,
            failed_out_amount_1d: Msat::new(flow.day.failed_out_msat),
            failed_out_7d: flow.week.failed_out,
            failed_out_amount_7d: Msat::new(flow.week.failed_out_msat),
        }
    }

    /// Everything the channel ever did, without touching the windows: forwards out, their
    /// fees, and `local_failed` forwards out (the simulator samples these hourly).
    pub fn totals(&self, channel: ShortChannelId) -> FlowTotals {
        self.channels
            .get(&channel)
            .map_or_else(FlowTotals::default, |flow| FlowTotals {
                forwards_out: u64::from(flow.total.forwards_out),
                fees_earned: Msat::new(flow.total.fees_out_msat),
                failed_out: u64::from(flow.total.failed_out),
            })
    }
}

/// A channel's all-time totals (`FlowTracker::totals`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowTotals {
    pub forwards_out: u64,
    pub fees_earned: Msat,
    pub failed_out: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled(at_secs: u64, out_msat: u64) -> Forward {
        Forward {
            created_index: at_secs,
            updated_index: Some(at_secs),
            in_channel: ShortChannelId::from_u64(1),
            out_channel: Some(ShortChannelId::from_u64(2)),
            in_amount: Msat::new(out_msat + 10),
            out_amount: Some(Msat::new(out_msat)),
            fee: Some(Msat::new(10)),
            status: ForwardStatus::Settled,
            received_ms: at_secs * 1000,
            resolved_ms: Some(at_secs * 1000),
            failure: None,
        }
    }

    /// Brute-force reference: sums over the forwards inside each window.
    fn reference(forwards: &[Forward], now: u64) -> (u64, u64) {
        let now_hour = now / 3600;
        let sum = |hours: u64| {
            forwards
                .iter()
                .filter(|f| f.resolved_ms.unwrap() / HOUR_MS + hours > now_hour)
                .map(|f| f.out_amount.unwrap().msat())
                .sum::<u64>()
        };
        (sum(DAY_HOURS), sum(WEEK_HOURS))
    }

    #[test]
    fn windows_match_a_brute_force_sum() {
        let mut rng = crate::rng::SplitMix64::new(9);
        let mut tracker = FlowTracker::default();
        let mut seen = Vec::new();
        let mut now = 1_000_000u64;
        for _ in 0..2000 {
            now += rng.below(3000);
            // Slightly out of order, as forwards resolve.
            let at = now - rng.below(600);
            let forward = settled(at, rng.between(1, 1_000_000));
            tracker.record(&forward);
            seen.push(forward);
            if rng.below(10) == 0 {
                let stats = tracker.stats(ShortChannelId::from_u64(2), now);
                let (day, week) = reference(&seen, now);
                assert_eq!((stats.out_1d.msat(), stats.out_7d.msat()), (day, week));
                let inbound = tracker.stats(ShortChannelId::from_u64(1), now);
                assert_eq!(
                    inbound.in_7d.msat(),
                    week + 10 * u64::from(inbound.forwards_in_7d)
                );
            }
        }
    }

    #[test]
    fn fees_count_once_on_the_outgoing_side() {
        let mut tracker = FlowTracker::default();
        tracker.record(&settled(3600, 500));
        let out = tracker.stats(ShortChannelId::from_u64(2), 3600);
        let inbound = tracker.stats(ShortChannelId::from_u64(1), 3600);
        assert_eq!(out.fees_earned_7d, Msat::new(10));
        assert_eq!(inbound.fees_earned_7d, Msat::ZERO);
        assert_eq!(inbound.forwards_in_7d, 1);
        assert_eq!(out.last_forward_age_secs, Some(0));
        let later = tracker.stats(ShortChannelId::from_u64(2), 3600 + 8 * 86_400);
        assert_eq!(later.out_7d, Msat::ZERO);
        assert_eq!(
            (later.fees_earned_total, later.forwards_out_total),
            (Msat::new(10), 1)
        );
        assert_eq!(later.last_forward_age_secs, Some(8 * 86_400));
    }

    #[test]
    fn local_failures_are_demand_we_could_not_serve() {
        let mut tracker = FlowTracker::default();
        tracker.record(&settled(3600, 500));
        let mut failed = settled(7200, 0);
        failed.status = ForwardStatus::LocalFailed;
        (failed.out_amount, failed.fee, failed.resolved_ms) = (None, None, None);
        failed.in_amount = Msat::new(70_000);
        tracker.record(&failed);
        tracker.record(&failed);
        let out = tracker.stats(ShortChannelId::from_u64(2), 7200);
        assert_eq!((out.failed_out_1d, out.failed_out_7d), (2, 2));
        assert_eq!(out.failed_out_amount_7d, Msat::new(140_000));
        // A failure is not a forward: the last-forward time stays the settled one's.
        assert_eq!(out.last_forward_age_secs, Some(3600));
        assert_eq!(out.forwards_out_7d, 1);
        let later = tracker.stats(ShortChannelId::from_u64(2), 7200 + 2 * 86_400);
        assert_eq!((later.failed_out_1d, later.failed_out_7d), (0, 2));
        // The incoming side is not the one that could not serve.
        let inbound = tracker.stats(ShortChannelId::from_u64(1), 7200);
        assert_eq!(inbound.failed_out_7d, 0);
        // Nor is a channel whose peer is gone a channel senders could use with liquidity.
        failed.failure = Some(crate::node::ForwardFailure {
            code: UNKNOWN_NEXT_PEER,
            reason: "WIRE_UNKNOWN_NEXT_PEER".into(),
        });
        tracker.record(&failed);
        let out = tracker.stats(ShortChannelId::from_u64(2), 7200);
        assert_eq!(out.failed_out_7d, 2);
    }

    #[test]
    fn failed_forwards_are_ignored() {
        let mut tracker = FlowTracker::default();
        let mut failed = settled(3600, 500);
        failed.status = ForwardStatus::Failed;
        tracker.record(&failed);
        assert_eq!(
            tracker.stats(ShortChannelId::from_u64(2), 3600),
            FlowStats::default()
        );
    }
}
