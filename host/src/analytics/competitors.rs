//! Competitor fees per peer: what the other public channels into each of our peers charge
//! (from gossip), summarised as quartiles and cached, refreshed at most hourly per peer.

use crate::{model::CompetitorFees, money::Ppm, node::GossipChannel};
use std::collections::HashMap;

/// A peer's competitor figures are refreshed at most this often.
pub const REFRESH_SECS: u64 = 3600;

/// The quartiles of the proportional fees of the active channels into a peer that are not
/// ours (`our_id`); `None` when there are none. Nearest-rank percentiles, integer ppm.
pub fn summarize(our_id: &str, channels: &[GossipChannel]) -> Option<CompetitorFees> {
    let mut fees: Vec<u32> = channels
        .iter()
        .filter(|c| c.active && c.source != our_id)
        .map(|c| c.fee_ppm.ppm())
        .collect();
    if fees.is_empty() {
        return None;
    }
    fees.sort_unstable();
    let rank = |percent: usize| fees[(fees.len() * percent).div_ceil(100).max(1) - 1];
    Some(CompetitorFees {
        channels: u32::try_from(fees.len()).unwrap_or(u32::MAX),
        p25: Ppm::new(rank(25)),
        median: Ppm::new(rank(50)),
        p75: Ppm::new(rank(75)),
    })
}

/// The last figures per peer and when they were fetched.
#[derive(Debug, Default)]
pub struct CompetitorCache {
    entries: HashMap<String, (u64, Option<CompetitorFees>)>,
}

impl CompetitorCache {
    /// Whether `peer`'s figures are missing or older than `REFRESH_SECS` at `now`.
    pub fn is_due(&self, peer: &str, now: u64) -> bool {
        self.entries
            .get(peer)
            .is_none_or(|(at, _)| now.saturating_sub(*at) >= REFRESH_SECS)
    }

    /// Records a fetch at `now` (also a failed one, with the previous figures kept, so that a
    /// failing `listchannels` is retried an hour later, not every cycle).
    pub fn put(&mut self, peer: &str, now: u64, fees: Option<Option<CompetitorFees>>) {
        let kept = self.entries.get(peer).and_then(|(_, f)| *f);
        self.entries
            .insert(peer.to_owned(), (now, fees.unwrap_or(kept)));
    }

    pub fn get(&self, peer: &str) -> Option<CompetitorFees> {
        self.entries.get(peer).and_then(|(_, fees)| *fees)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{money::Msat, scid::ShortChannelId};

    fn channel(source: &str, ppm: u32, active: bool) -> GossipChannel {
        GossipChannel {
            source: source.into(),
            destination: "peer".into(),
            short_channel_id: ShortChannelId::from_u64(1),
            fee_base: Msat::new(1000),
            fee_ppm: Ppm::new(ppm),
            active,
        }
    }

    #[test]
    fn quartiles_leave_out_ours_and_inactive_channels() {
        let channels: Vec<GossipChannel> = [100, 400, 200, 300, 500, 600, 700, 800]
            .into_iter()
            .map(|ppm| channel("other", ppm, true))
            .chain([channel("us", 5, true), channel("other", 9000, false)])
            .collect();
        let fees = summarize("us", &channels).unwrap();
        assert_eq!(fees.channels, 8);
        assert_eq!(
            (fees.p25.ppm(), fees.median.ppm(), fees.p75.ppm()),
            (200, 400, 600)
        );
        assert_eq!(summarize("us", &[channel("us", 5, true)]), None);
        let one = summarize("us", &[channel("x", 70, true)]).unwrap();
        assert_eq!(
            (one.p25.ppm(), one.median.ppm(), one.p75.ppm()),
            (70, 70, 70)
        );
    }

    #[test]
    fn cache_refreshes_hourly_and_keeps_figures_through_a_failure() {
        let mut cache = CompetitorCache::default();
        assert!(cache.is_due("p", 0));
        let fees = summarize("us", &[channel("x", 70, true)]);
        cache.put("p", 100, Some(fees));
        assert!(!cache.is_due("p", 100 + REFRESH_SECS - 1));
        assert!(cache.is_due("p", 100 + REFRESH_SECS));
        cache.put("p", 100 + REFRESH_SECS, None);
        assert_eq!(cache.get("p"), fees);
        assert!(!cache.is_due("p", 100 + REFRESH_SECS + 1));
    }
}
