//! cl-revenue-ops' Gaussian Thompson sampling over the fee, pure.
//!
//! Every observation is a fee that was in force and the revenue rate it earned (sat/hour),
//! weighted by how long it was watched and how much it earned. The posterior mean is the
//! observations' fee averaged with weights that halve every `decay_hours` and favour high
//! revenue, blended with the prior (whose weight shrinks as observations accumulate); its
//! spread is their weighted standard deviation blended the same way. A fee is drawn from that
//! normal distribution — wide while little is known, narrow around a fee that keeps earning.

use alloc::vec::Vec;
use guest_support::{
    rng::Rng,
    state::{Reader, Writer},
};

/// Observations before the posterior is trusted; fewer sample the prior, widened by half.
pub const MIN_OBSERVATIONS: usize = 3;
/// The spread never narrows below this, ppm.
pub const MIN_STD: f64 = 10.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    pub fee_ppm: u32,
    /// Revenue at that fee, sat/hour.
    pub rate: f64,
    pub weight: f64,
    pub at_secs: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Posterior {
    pub prior_mean: f64,
    pub prior_std: f64,
    pub observations: Vec<Observation>,
    pub mean: f64,
    pub std: f64,
}

/// An observation's own weight: a full one after six hours of watching and 99 sat/hour.
pub fn observation_weight(hours: f64, rate: f64) -> f64 {
    ((hours / 6.0).min(1.0) * ((rate + 1.0) / 100.0).min(1.0)).max(0.01)
}

impl Posterior {
    pub fn new(prior_mean: f64, prior_std: f64) -> Self {
        Self {
            prior_mean,
            prior_std,
            observations: Vec::new(),
            mean: prior_mean,
            std: prior_std,
        }
    }

    /// Adds what `fee_ppm` earned over `hours`, keeping the newest `keep` observations.
    pub fn observe(
        &mut self,
        fee_ppm: u32,
        rate: f64,
        hours: f64,
        now: u64,
        keep: usize,
        decay_hours: f64,
    ) {
        if !rate.is_finite() || !hours.is_finite() {
            return;
        }
        self.observations.push(Observation {
            fee_ppm,
            rate,
            weight: observation_weight(hours, rate),
            at_secs: now,
        });
        let excess = self.observations.len().saturating_sub(keep);
        self.observations.drain(..excess);
        self.recompute(now, decay_hours);
    }

    fn recompute(&mut self, now: u64, decay_hours: f64) {
        let (mut total, mut sum, mut squares) = (0.0, 0.0, 0.0);
        for o in &self.observations {
            let age_hours = now.saturating_sub(o.at_secs) as f64 / 3_600.0;
            let decay = libm::pow(0.5, age_hours / decay_hours);
            // 40 sat/hour counts once; the best outcomes count twice.
            let revenue = ((o.rate + 10.0) / 50.0).min(2.0);
            let w = o.weight * decay * revenue;
            let fee = f64::from(o.fee_ppm);
            total += w;
            sum += fee * w;
            squares += fee * fee * w;
        }
        if total <= 0.1 {
            self.mean = self.prior_mean;
            self.std = self.prior_std;
            return;
        }
        let observed_mean = sum / total;
        let prior_weight = (1.0 / (1.0 + self.observations.len() as f64 / 10.0)).max(0.1);
        self.mean = observed_mean * (1.0 - prior_weight) + self.prior_mean * prior_weight;
        let variance = (squares / total - observed_mean * observed_mean).max(MIN_STD * MIN_STD);
        let std = libm::sqrt(variance) * (1.0 - prior_weight) + self.prior_std * prior_weight;
        self.std = std.max(MIN_STD);
    }

    /// A fee drawn from the posterior (the widened prior while observations are few), its
    /// spread scaled by `explore`, truncated and clamped into `floor..=ceiling`.
    pub fn sample(&self, explore: f64, floor: u32, ceiling: u32, rng: &mut Rng) -> u32 {
        let (mean, std) = if self.observations.len() < MIN_OBSERVATIONS {
            (self.prior_mean, self.prior_std * 1.5 * explore)
        } else {
            (self.mean, (self.std * explore).max(MIN_STD))
        };
        let drawn = mean + std * standard_normal(rng);
        drawn.clamp(f64::from(floor), f64::from(ceiling.max(floor))) as u32
    }

    pub fn write(&self, w: &mut Writer) {
        w.f64(self.prior_mean)
            .f64(self.prior_std)
            .f64(self.mean)
            .f64(self.std)
            .len(self.observations.len());
        for o in &self.observations {
            w.u32(o.fee_ppm).f64(o.rate).f64(o.weight).u64(o.at_secs);
        }
    }

    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let (prior_mean, prior_std, mean, std) = (r.f64()?, r.f64()?, r.f64()?, r.f64()?);
        let count = r.len(28)?;
        let observations = (0..count)
            .map(|_| {
                Some(Observation {
                    fee_ppm: r.u32()?,
                    rate: r.f64()?,
                    weight: r.f64()?,
                    at_secs: r.u64()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            prior_mean,
            prior_std,
            observations,
            mean,
            std,
        })
    }
}

/// One draw of N(0, 1) by the Box–Muller transform, from the seeded stream only.
pub fn standard_normal(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.unit_f64(); // (0, 1]: the logarithm stays finite
    let u2 = rng.unit_f64();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
}

/// cl-revenue-ops' stigmergic exploration factor on the spread: a strong trail of successful
/// forwards (10 or more) exploits (×0.6), none explores (×1.5), in between interpolates; a
/// primary corridor exploits a little more (×0.85).
pub fn exploration(pheromone: f64) -> f64 {
    let trail = if pheromone >= 10.0 {
        0.6
    } else if pheromone <= 1.0 {
        1.5
    } else {
        1.5 - (1.5 - 0.6) * pheromone / 10.0
    };
    trail * 0.85
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_favour_long_and_lucrative_observations() {
        assert!((observation_weight(6.0, 99.0) - 1.0).abs() < 1e-12);
        assert!((observation_weight(3.0, 99.0) - 0.5).abs() < 1e-12);
        assert!(
            (observation_weight(0.0, 0.0) - 0.01).abs() < 1e-12,
            "floor 0.01"
        );
    }

    #[test]
    fn the_posterior_moves_towards_the_fees_that_earned() {
        let mut p = Posterior::new(200.0, 100.0);
        let now = 1_000_000;
        for _ in 0..20 {
            p.observe(400, 200.0, 6.0, now, 32, 168.0);
        }
        // 20 observations: prior weight 1/3 → 400·2/3 + 200/3.
        assert!((p.mean - 333.333).abs() < 0.01, "{}", p.mean);
        // No spread among them: MIN_STD blended with the prior's 100.
        assert!(
            (p.std - (10.0 * 2.0 / 3.0 + 100.0 / 3.0)).abs() < 1e-9,
            "{}",
            p.std
        );
        assert_eq!(p.observations.len(), 20);
        for _ in 0..20 {
            p.observe(400, 200.0, 6.0, now, 32, 168.0);
        }
        assert_eq!(p.observations.len(), 32, "bounded memory");
    }

    #[test]
    fn old_observations_fade() {
        let mut p = Posterior::new(200.0, 100.0);
        let week = 168 * 3_600;
        for _ in 0..10 {
            p.observe(1_000, 100.0, 6.0, 0, 32, 168.0);
        }
        for _ in 0..10 {
            p.observe(100, 100.0, 6.0, 4 * week, 32, 168.0);
        }
        // Four half-lives: the old fee weighs 1/16 of the new.
        let observed = (1_000.0 / 16.0 + 100.0) / (1.0 / 16.0 + 1.0);
        let expected = observed * (1.0 - 1.0 / 3.0) + 200.0 / 3.0;
        assert!((p.mean - expected).abs() < 1e-6, "{} vs {expected}", p.mean);
    }

    #[test]
    fn samples_stay_in_bounds_and_centre_on_the_posterior() {
        let mut rng = Rng::new(12);
        let p = Posterior::new(200.0, 100.0);
        let n = 4_000;
        let draws: Vec<u32> = (0..n).map(|_| p.sample(1.0, 10, 5_000, &mut rng)).collect();
        assert!(draws.iter().all(|d| (10..=5_000).contains(d)));
        let mean = draws.iter().map(|&d| f64::from(d)).sum::<f64>() / n as f64;
        assert!((mean - 200.0).abs() < 10.0, "{mean}");
        assert_eq!(
            p.sample(1.0, 300, 300, &mut rng),
            300,
            "a single allowed fee"
        );
    }

    #[test]
    fn exploration_narrows_with_a_strong_trail() {
        assert!((exploration(0.0) - 1.275).abs() < 1e-12);
        assert!((exploration(10.0) - 0.51).abs() < 1e-12);
        assert!(exploration(5.0) < exploration(2.0));
    }

    #[test]
    fn the_posterior_round_trips_through_its_codec() {
        let mut p = Posterior::new(150.0, 80.0);
        p.observe(120, 33.5, 0.5, 77, 32, 168.0);
        let mut w = Writer::new(1);
        p.write(&mut w);
        let blob = w.finish();
        let mut r = Reader::new(&blob[1..]);
        assert_eq!(Posterior::read(&mut r), Some(p));
        assert!(r.is_empty());
    }
}
