//! What gossip shows of the simulated market: for each of our peers, the other public
//! channels that reach it (the competing routes) and ours, as `listchannels destination=…`.

use super::network::{SimNetwork, node_id};
use crate::{
    money::{Msat, Ppm},
    node::GossipChannel,
    rng::SplitMix64,
    scid::ShortChannelId,
};
use std::sync::OnceLock;

/// Distinct competitor node ids the simulated gossip draws from (deriving a key is slow).
const COMPETITOR_POOL: u64 = 64;

fn competitor_ids() -> &'static [String] {
    static IDS: OnceLock<Vec<String>> = OnceLock::new();
    IDS.get_or_init(|| {
        (0..COMPETITOR_POOL)
            .map(|n| node_id(1_000_000 + n))
            .collect()
    })
}

impl SimNetwork {
    /// The channels whose destination is `node`: ours to that peer, and the competitors' —
    /// the channel's listed competitors at their current fees, or, for the default single
    /// static competitor, between 2 and 12 channels priced around its competitor fee (the
    /// market's alternative routes), fixed per channel and seed.
    pub(super) fn gossip_to(&self, node: &str) -> Vec<GossipChannel> {
        let mut listed = Vec::new();
        for (index, channel) in self.channels.iter().enumerate() {
            if channel.peer_id != node {
                continue;
            }
            listed.push(GossipChannel {
                source: self.our_id(),
                destination: node.to_owned(),
                short_channel_id: channel.id,
                fee_base: Msat::new(u64::from(channel.fee_base)),
                fee_ppm: Ppm::new(channel.fee_ppm),
                active: true,
            });
            let mut rng = SplitMix64::new(self.scenario.seed ^ (index as u64).rotate_left(29));
            let pool = competitor_ids();
            if self.competitors.listed(index) {
                // The market's actual competitors, at the fees they charge now.
                for (n, ppm, base) in self.competitors.listing(index) {
                    listed.push(GossipChannel {
                        source: pool[rng.below(pool.len() as u64) as usize].clone(),
                        destination: node.to_owned(),
                        short_channel_id: ShortChannelId::new(700_000 + index as u64, n + 1, 0)
                            .expect("in range"),
                        fee_base: Msat::new(u64::from(base)),
                        fee_ppm: Ppm::new(ppm),
                        active: true,
                    });
                }
                continue;
            }
            let count = rng.between(2, 12);
            let center = f64::from(channel.spec.competitor_ppm);
            for n in 0..count {
                // Log-uniform between half and twice the competitor price: a median near it.
                let ppm = center * (2f64).powf(2.0 * rng.unit() - 1.0);
                listed.push(GossipChannel {
                    source: pool[rng.below(pool.len() as u64) as usize].clone(),
                    destination: node.to_owned(),
                    short_channel_id: ShortChannelId::new(700_000 + index as u64, n + 1, 0)
                        .expect("in range"),
                    fee_base: Msat::new(1000),
                    fee_ppm: Ppm::new(ppm.round() as u32),
                    active: true,
                });
            }
        }
        listed
    }
}
