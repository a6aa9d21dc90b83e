//! Floods and jamming: HTLCs an attacker (or a whale) sends through a chosen incoming and/or
//! outgoing channel and holds — dust floods (many tiny HTLCs filling slots), whale floods (a
//! few large ones locking liquidity), slow-jamming (HTLCs held until near their CLTV limit),
//! in waves, released early if the scenario says so.
//!
//! Every flood HTLC is drawn when the network is made, from a stream of its own per event
//! (seeded by the scenario's seed and the event's position), so floods neither consume nor
//! shift any draw of the market's senders (common random numbers stay aligned), and every
//! policy faces the very same flood.

use super::network::{BLOCK_SECS, SimNetwork};
use crate::{
    money::{Msat, Ppm},
    node::TEMPORARY_CHANNEL_FAILURE,
    rng::SplitMix64,
};
use serde::{Deserialize, Serialize};

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: f64 = 86_400_000.0;
/// Tries to find an outgoing channel with room when the flood names none.
const OUT_ATTEMPTS: u64 = 8;

/// `kind = "flood"`: `count` HTLCs per wave, entering through `in-channel` (default: picked by
/// inbound weight, as senders enter) and leaving through `out-channel` (default: any channel
/// with room), held for a drawn time and then failed back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FloodEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_channel: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_channel: Option<usize>,
    pub start_day: f64,
    /// HTLCs per wave.
    pub count: u32,
    /// Amount of each HTLC; with `amount-sat-max`, log-uniform between the two.
    pub amount_sat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_sat_max: Option<u64>,
    /// A wave's HTLCs arrive spread evenly at random over this many hours (0: all at once).
    #[serde(default)]
    pub arrive_hours: f64,
    #[serde(default)]
    pub hold: Hold,
    /// `fixed`: the hold time; `uniform`: its maximum; `exponential`: its mean.
    #[serde(default = "default_hold_hours")]
    pub hold_hours: f64,
    /// `uniform`: the shortest hold.
    #[serde(default)]
    pub hold_hours_min: f64,
    /// `slow-jam`: the HTLCs' CLTV budget in blocks; each is held for 90–99 % of it (blocks ×
    /// 10 minutes), as long as the attacker can without a force close.
    #[serde(default = "default_cltv_blocks")]
    pub cltv_blocks: u32,
    /// The flood repeats this many times, `every-hours` apart (sustained jamming).
    #[serde(default = "default_waves")]
    pub waves: u32,
    #[serde(default)]
    pub every_hours: f64,
    /// Every flood HTLC still held at this day is failed back (the attacker lets go).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_day: Option<f64>,
}

/// How long a flood HTLC is held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hold {
    #[default]
    Fixed,
    Uniform,
    Exponential,
    SlowJam,
}

fn default_hold_hours() -> f64 {
    1.0
}
fn default_cltv_blocks() -> u32 {
    144
}
fn default_waves() -> u32 {
    1
}

/// At most this many flood HTLCs in one scenario (they are all drawn up front).
const MAX_FLOOD_HTLCS: u64 = 2_000_000;

impl FloodEvent {
    pub(super) fn validate(&self, channel_count: usize) -> Result<(), String> {
        for channel in [self.out_channel, self.in_channel].into_iter().flatten() {
            if channel >= channel_count {
                return Err(format!(
                    "flood names channel {channel}, but there are {channel_count}"
                ));
            }
        }
        if self.out_channel.is_some() && self.out_channel == self.in_channel {
            return Err("flood: in-channel and out-channel must differ".into());
        }
        let finite = |x: f64| x.is_finite() && x >= 0.0;
        let ok = finite(self.start_day)
            && finite(self.arrive_hours)
            && finite(self.hold_hours)
            && finite(self.hold_hours_min)
            && finite(self.every_hours)
            && self.release_day.is_none_or(finite)
            && self.amount_sat > 0
            && self.amount_sat_max.is_none_or(|max| max >= self.amount_sat)
            && (self.hold != Hold::Uniform || self.hold_hours_min <= self.hold_hours)
            && self.waves > 0
            && (self.waves == 1 || self.every_hours > 0.0)
            && u64::from(self.count) * u64::from(self.waves) <= MAX_FLOOD_HTLCS;
        if !ok {
            return Err(
                "flood: times finite and ≥ 0, amount-sat > 0 (≤ amount-sat-max), hold-hours-min ≤ hold-hours, waves > 1 need every-hours > 0, count × waves ≤ 2,000,000"
                    .into(),
            );
        }
        Ok(())
    }

    fn draw_hold_ms(&self, rng: &mut SplitMix64) -> u64 {
        let hours = match self.hold {
            Hold::Fixed => self.hold_hours,
            Hold::Uniform => {
                self.hold_hours_min + rng.unit() * (self.hold_hours - self.hold_hours_min)
            }
            Hold::Exponential => -self.hold_hours * (1.0 - rng.unit()).ln(),
            Hold::SlowJam => {
                f64::from(self.cltv_blocks) * BLOCK_SECS as f64 / 3600.0
                    * (0.90 + 0.09 * rng.unit())
            }
        };
        (hours * HOUR_MS) as u64
    }

    fn draw_amount_msat(&self, rng: &mut SplitMix64) -> u64 {
        let low = self.amount_sat as f64;
        let high = self.amount_sat_max.unwrap_or(self.amount_sat) as f64;
        let sat = (low.ln() + rng.unit() * (high.ln() - low.ln())).exp();
        ((sat * 1000.0) as u64).max(1)
    }
}

/// One flood HTLC, drawn in advance.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct FloodHtlc {
    pub at_ms: u64,
    pub out: Option<usize>,
    pub inc: Option<usize>,
    pub amount: u64,
    pub hold_ms: u64,
    /// Picks the incoming channel (when not given) and the outgoing one (when not given).
    pub pick_in: f64,
    pub pick_out: f64,
}

/// The flood HTLCs of a scenario in time order, and how far the market has got.
#[derive(Default)]
pub(super) struct FloodQueue {
    htlcs: Vec<FloodHtlc>,
    next: usize,
}

impl FloodQueue {
    /// Draws every flood HTLC of `floods` (`(position, event)`), starting at `start_secs`.
    pub fn new<'a>(
        seed: u64,
        start_secs: u64,
        floods: impl Iterator<Item = (usize, &'a FloodEvent)>,
    ) -> Self {
        let start_ms = start_secs * 1000;
        let mut htlcs = Vec::new();
        for (position, flood) in floods {
            let mut rng = SplitMix64::new(seed ^ 0x00F1_00D5 ^ (position as u64).rotate_left(23));
            let release_ms = flood
                .release_day
                .map(|day| start_ms + (day * DAY_MS) as u64);
            for wave in 0..flood.waves {
                let wave_ms = start_ms
                    + (flood.start_day * DAY_MS) as u64
                    + (f64::from(wave) * flood.every_hours * HOUR_MS) as u64;
                for _ in 0..flood.count {
                    let at_ms = wave_ms + (rng.unit() * flood.arrive_hours * HOUR_MS) as u64;
                    let amount = flood.draw_amount_msat(&mut rng);
                    let mut hold_ms = flood.draw_hold_ms(&mut rng);
                    let (pick_in, pick_out) = (rng.unit(), rng.unit());
                    if let Some(release_ms) = release_ms {
                        if release_ms <= at_ms {
                            continue;
                        }
                        hold_ms = hold_ms.min(release_ms - at_ms);
                    }
                    htlcs.push(FloodHtlc {
                        at_ms,
                        out: flood.out_channel,
                        inc: flood.in_channel,
                        amount,
                        hold_ms,
                        pick_in,
                        pick_out,
                    });
                }
            }
        }
        // Stable: equal times keep the scenario's order.
        htlcs.sort_by_key(|h| h.at_ms);
        Self { htlcs, next: 0 }
    }

    /// When the next flood HTLC arrives.
    pub fn next_at(&self) -> Option<u64> {
        self.htlcs.get(self.next).map(|h| h.at_ms)
    }

    pub fn pop(&mut self) -> Option<FloodHtlc> {
        let htlc = self.htlcs.get(self.next).cloned()?;
        self.next += 1;
        Some(htlc)
    }

    /// Forgets nothing: the queue is read once, front to back.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.htlcs.len()
    }
}

impl SimNetwork {
    /// A flood HTLC arrives: it takes a slot and liquidity on both channels and is held, or,
    /// when our outgoing side has no room, fails on our side (`local_failed`) as a real
    /// forward would. One that cannot even enter (no room on the incoming side) never reaches us.
    pub(super) fn route_flood(&mut self, htlc: &FloodHtlc) {
        let out = match htlc.out {
            Some(out) => out,
            None => match self.pick_flood_out(htlc) {
                Some(out) => out,
                None => {
                    self.stats.flood_htlcs_refused += 1;
                    return;
                }
            },
        };
        let channel = &self.channels[out];
        if !channel.usable() {
            self.stats.flood_htlcs_refused += 1;
            return;
        }
        let fee = u64::from(channel.fee_base)
            + Ppm::new(channel.fee_ppm)
                .fee_on(Msat::new(htlc.amount))
                .msat();
        let needed = htlc.amount + fee;
        let inc = match htlc.inc {
            Some(inc) => self.can_enter(inc, needed).then_some(inc),
            None => self.pick_incoming(htlc.pick_in, out, needed),
        };
        let Some(inc) = inc else {
            self.stats.flood_htlcs_refused += 1;
            return;
        };
        let channel = &self.channels[out];
        let slots_full = channel.htlcs.len() >= usize::from(channel.spec.max_accepted_htlcs);
        if channel.local < htlc.amount + channel.reserve || slots_full {
            self.fail_locally(inc, out, htlc.amount, fee, TEMPORARY_CHANNEL_FAILURE);
            return;
        }
        self.stats.flood_htlcs_held += 1;
        self.hold_htlc(inc, out, htlc.amount, fee, htlc.hold_ms, true);
    }

    /// Whether an HTLC of `needed` can come in through channel `inc`.
    fn can_enter(&self, inc: usize, needed: u64) -> bool {
        let channel = &self.channels[inc];
        channel.usable()
            && channel.remote >= needed + channel.reserve
            && channel.htlcs.len() < usize::from(channel.spec.max_accepted_htlcs)
    }

    /// Any channel with room for the HTLC, tried from the flood's own draw.
    fn pick_flood_out(&self, htlc: &FloodHtlc) -> Option<usize> {
        let count = self.channels.len() as u64;
        let first = (htlc.pick_out * count as f64) as u64;
        (0..OUT_ATTEMPTS.min(count)).find_map(|attempt| {
            // A stride coprime with nothing in particular: spreads the tries.
            let index = ((first + attempt * 7919) % count) as usize;
            let channel = &self.channels[index];
            let room = Some(index) != htlc.inc
                && channel.usable()
                && channel.local >= htlc.amount + channel.reserve
                && channel.htlcs.len() < usize::from(channel.spec.max_accepted_htlcs);
            room.then_some(index)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flood(text: &str) -> FloodEvent {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn holds_follow_their_distribution() {
        let base = "start-day = 1.0\ncount = 2000\namount-sat = 1000\n";
        let slow = flood(&format!("{base}hold = \"slow-jam\"\ncltv-blocks = 144\n"));
        let queue = FloodQueue::new(1, 0, [(0, &slow)].into_iter());
        assert_eq!(queue.len(), 2000);
        let day_ms = 86_400_000;
        for h in &queue.htlcs {
            assert!(
                h.hold_ms >= day_ms * 90 / 100 && h.hold_ms < day_ms,
                "{h:?}"
            );
            assert_eq!(h.at_ms, day_ms, "all at once without arrive-hours");
        }
        let exp = flood(&format!("{base}hold = \"exponential\"\nhold-hours = 2.0\n"));
        let queue = FloodQueue::new(1, 0, [(0, &exp)].into_iter());
        let mean = queue.htlcs.iter().map(|h| h.hold_ms as f64).sum::<f64>() / 2000.0;
        assert!((mean / HOUR_MS - 2.0).abs() < 0.15, "{mean}");
        let uniform = flood(&format!(
            "{base}hold = \"uniform\"\nhold-hours-min = 1.0\nhold-hours = 3.0\narrive-hours = 2.0\namount-sat-max = 100000\n"
        ));
        let queue = FloodQueue::new(1, 0, [(0, &uniform)].into_iter());
        assert!(queue.htlcs.iter().all(|h| {
            (HOUR_MS as u64..=3 * HOUR_MS as u64).contains(&h.hold_ms)
                && (day_ms..day_ms + 2 * HOUR_MS as u64).contains(&h.at_ms)
                && (1_000_000..=100_000_000).contains(&h.amount)
        }));
        assert!(queue.htlcs.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    }

    #[test]
    fn waves_repeat_and_release_cuts_holds() {
        let f = flood(
            "start-day = 1.0\ncount = 10\namount-sat = 1000\nhold-hours = 10.0\nwaves = 3\nevery-hours = 6.0\nrelease-day = 1.5\n",
        );
        let queue = FloodQueue::new(9, 0, [(0, &f)].into_iter());
        // The third wave (hour 12 of day 1) comes after the release: never sent.
        assert_eq!(queue.len(), 20);
        let release = (1.5 * DAY_MS) as u64;
        let ends: Vec<u64> = queue.htlcs.iter().map(|h| h.at_ms + h.hold_ms).collect();
        // The first wave ends on its own (10 h); the second is let go at the release.
        assert!(
            ends[..10]
                .iter()
                .all(|&end| end == (1.0 * DAY_MS + 10.0 * HOUR_MS) as u64)
        );
        assert!(ends[10..].iter().all(|&end| end == release));
    }

    #[test]
    fn nonsense_is_refused() {
        let ok =
            flood("out-channel = 1\nin-channel = 2\nstart-day = 1.0\ncount = 5\namount-sat = 10\n");
        assert!(ok.validate(3).is_ok());
        assert!(ok.validate(2).is_err(), "channel 2 does not exist");
        let same =
            flood("out-channel = 1\nin-channel = 1\nstart-day = 1.0\ncount = 5\namount-sat = 10\n");
        assert!(same.validate(3).is_err());
        let waves = flood("start-day = 1.0\ncount = 5\namount-sat = 10\nwaves = 2\n");
        assert!(waves.validate(3).is_err(), "waves without a period");
        assert!(
            toml::from_str::<FloodEvent>(
                "start-day = 1.0\ncount = 5\namount-sat = 10\nbogus = 1\n"
            )
            .is_err()
        );
    }
}
