//! The simulated on-chain feerate: a daily cycle, noise keyed on the time, and the scenario's
//! mempool spikes.

use super::{network::SimNetwork, scenario::Event};
use crate::rng::SplitMix64;

const DAY_SECS: u64 = 86_400;

impl SimNetwork {
    pub(super) fn feerate_at(&self, at_secs: u64) -> u32 {
        let f = &self.scenario.feerate;
        let phase = (at_secs % DAY_SECS) as f64 / DAY_SECS as f64;
        let daily = 1.0 + f.daily_swing * (phase * std::f64::consts::TAU).sin();
        // Noise keyed on the time, so a reading does not depend on how often it is taken.
        let mut rng = SplitMix64::new(self.scenario.seed ^ at_secs.rotate_left(17));
        let noise = 1.0 + f.noise * (2.0 * rng.unit() - 1.0);
        let spike: f64 = self
            .scenario
            .events
            .iter()
            .filter_map(|event| match event {
                Event::MempoolSpike {
                    start_day,
                    hours,
                    multiplier,
                } => {
                    let start = self.day_offset(*start_day);
                    let end = start + (hours * 3600.0) as u64;
                    (start..end).contains(&at_secs).then_some(*multiplier)
                }
                _ => None,
            })
            .product();
        (f64::from(f.base_perkb) * daily * noise * spike).max(253.0) as u32
    }
}
