//! Gossip delay: a fee change reaches senders after a delay drawn per broadcast (log-uniform
//! between `min-minutes` and `max-minutes`); until then they price with the newest fee that
//! has reached them. Our node, like lightningd after `setchannel` (its `enforcedelay`, 600 s by
//! default), still accepts the previous fee for `enforce-secs` after a change; after that an
//! HTLC that pays less than the fee fails at our node with `WIRE_FEE_INSUFFICIENT`.
//!
//! The delay of a broadcast is keyed on the channel and the time of the change, not drawn from
//! a shared stream, so one channel's broadcasts never move another's draws.

use super::scenario::GossipDelay as Config;
use crate::{
    money::{Msat, Ppm},
    rng::SplitMix64,
};

/// A channel's fee: base (msat) and proportional part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Fee {
    pub base: u32,
    pub ppm: u32,
}

impl Fee {
    /// The fee for forwarding `amount_msat`.
    pub fn on(self, amount_msat: u64) -> u64 {
        u64::from(self.base) + Ppm::new(self.ppm).fee_on(Msat::new(amount_msat)).msat()
    }
}

struct Announced {
    /// What senders price with, and when we broadcast it.
    seen: Fee,
    seen_broadcast_ms: u64,
    /// Broadcasts on their way: (reaches senders, broadcast at, fee). A newer broadcast that
    /// arrives first supersedes an older one still on its way, as gossip timestamps do.
    pending: Vec<(u64, u64, Fee)>,
    /// The fee before the last change, accepted until `changed_ms + enforce`.
    previous: Fee,
    changed_ms: u64,
}

impl Announced {
    /// The newest broadcast that has reached senders by `now_ms`.
    fn latest_at(&self, now_ms: u64) -> (u64, Fee) {
        let mut latest = (self.seen_broadcast_ms, self.seen);
        for &(arrives_ms, broadcast_ms, fee) in &self.pending {
            if arrives_ms <= now_ms && broadcast_ms >= latest.0 {
                latest = (broadcast_ms, fee);
            }
        }
        latest
    }

    fn settle(&mut self, now_ms: u64) {
        (self.seen_broadcast_ms, self.seen) = self.latest_at(now_ms);
        let seen = self.seen_broadcast_ms;
        self.pending
            .retain(|&(arrives_ms, broadcast_ms, _)| arrives_ms > now_ms && broadcast_ms > seen);
    }
}

pub(super) struct GossipDelay {
    /// Delay range (ms) and how long the previous fee is still accepted (ms).
    config: Option<(f64, f64, u64)>,
    seed: u64,
    channels: Vec<Announced>,
}

impl GossipDelay {
    pub fn new(config: Option<&Config>, seed: u64, fees: impl Iterator<Item = Fee>) -> Self {
        Self {
            config: config.map(|c| {
                (
                    c.min_minutes * 60_000.0,
                    c.max_minutes * 60_000.0,
                    c.enforce_secs * 1000,
                )
            }),
            seed,
            channels: fees
                .map(|fee| Announced {
                    seen: fee,
                    seen_broadcast_ms: 0,
                    pending: Vec::new(),
                    previous: fee,
                    changed_ms: 0,
                })
                .collect(),
        }
    }

    /// The fee senders price `channel` with at `now_ms` (`current` without gossip delay).
    pub fn seen(&self, channel: usize, current: Fee, now_ms: u64) -> Fee {
        if self.config.is_none() {
            return current;
        }
        self.channels[channel].latest_at(now_ms).1
    }

    /// Our node broadcast a change of `channel`'s fee from `old` to `new` at `now_ms`.
    pub fn broadcast(&mut self, channel: usize, old: Fee, new: Fee, now_ms: u64) {
        let Some((min_ms, max_ms, _)) = self.config else {
            return;
        };
        let mut rng = SplitMix64::new(
            self.seed ^ 0x6055_1900_DE1A_7000 ^ (channel as u64).rotate_left(40) ^ now_ms,
        );
        let u = rng.unit();
        let delay_ms = if min_ms > 0.0 {
            (min_ms.ln() + u * (max_ms.ln() - min_ms.ln())).exp()
        } else {
            u * max_ms
        };
        let announced = &mut self.channels[channel];
        announced.settle(now_ms);
        announced
            .pending
            .push((now_ms + delay_ms as u64, now_ms, new));
        announced.previous = old;
        announced.changed_ms = now_ms;
    }

    /// Whether our node accepts `offered_msat` as the fee for forwarding `amount_msat` through
    /// `channel`, whose fee is `current`.
    pub fn accepts(
        &self,
        channel: usize,
        offered_msat: u64,
        amount_msat: u64,
        current: Fee,
        now_ms: u64,
    ) -> bool {
        let Some((_, _, enforce_ms)) = self.config else {
            return true;
        };
        let announced = &self.channels[channel];
        offered_msat >= current.on(amount_msat)
            || (now_ms < announced.changed_ms + enforce_ms
                && offered_msat >= announced.previous.on(amount_msat))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_see_a_change_late_and_the_old_fee_fails_after_the_grace() {
        let config = Config {
            min_minutes: 30.0,
            max_minutes: 30.0,
            enforce_secs: 600,
        };
        let low = Fee { base: 0, ppm: 100 };
        let high = Fee { base: 0, ppm: 900 };
        let mut gossip = GossipDelay::new(Some(&config), 1, [low].into_iter());
        let minute = 60_000;
        gossip.broadcast(0, low, high, 0);
        assert_eq!(gossip.seen(0, high, 29 * minute), low);
        assert_eq!(gossip.seen(0, high, 30 * minute), high);
        let amount = 1_000_000;
        let stale = low.on(amount);
        assert!(gossip.accepts(0, stale, amount, high, 9 * minute), "grace");
        assert!(!gossip.accepts(0, stale, amount, high, 10 * minute));
        assert!(gossip.accepts(0, high.on(amount), amount, high, 10 * minute));
        // A newer broadcast that arrives first wins; the older one landing later changes nothing.
        let mid = Fee { base: 0, ppm: 500 };
        let mut gossip = GossipDelay::new(Some(&config), 1, [low].into_iter());
        gossip.broadcast(0, low, high, 0);
        gossip.channels[0].pending[0].0 = 50 * minute;
        gossip.broadcast(0, high, mid, minute);
        assert_eq!(gossip.seen(0, mid, 31 * minute), mid);
        assert_eq!(gossip.seen(0, mid, 51 * minute), mid);
        // Without gossip delay senders always know the fee.
        let instant = GossipDelay::new(None, 1, [low].into_iter());
        assert_eq!(instant.seen(0, high, 0), high);
        assert!(instant.accepts(0, 0, amount, high, 0));
    }
}
