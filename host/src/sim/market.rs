//! The random draws of the market: one candidate payment, and Poisson counts.

use super::{demand::PaymentSize, scenario::Market};
use crate::rng::SplitMix64;

/// A sender who would pay through `channel` (our outgoing side) at `at_ms`.
pub(super) struct Candidate {
    pub channel: usize,
    pub serial_hint: u64,
    pub at_ms: u64,
    pub amount: u64,
    pub hold_ms: u64,
    /// Compared with the share of senders our price wins.
    pub accept_draw: f64,
    /// Picks the incoming channel.
    pub pick_draw: f64,
    /// Compared with the downstream failure rate.
    pub fail_draw: f64,
    /// Flood HTLCs route whatever the price and always fail at the end.
    pub forced: bool,
}

impl Candidate {
    /// Always takes the same five draws, routed or not, so streams stay aligned across policies.
    pub fn draw(
        channel: usize,
        serial_hint: u64,
        from_ms: u64,
        span_ms: u64,
        market: &Market,
        size: &PaymentSize,
        rng: &mut SplitMix64,
    ) -> Self {
        let at_ms = from_ms + rng.below(span_ms.max(1));
        // The channel's sizes (default log-uniform: many small payments, some large).
        let amount_sat = size.sat(rng.unit());
        let hold_secs = rng.between(market.hold_secs_min, market.hold_secs_max);
        Self {
            channel,
            serial_hint,
            at_ms,
            amount: (amount_sat * 1000.0) as u64,
            hold_ms: hold_secs * 1000,
            accept_draw: rng.unit(),
            pick_draw: rng.unit(),
            fail_draw: rng.unit(),
            forced: false,
        }
    }

    pub fn flood(
        channel: usize,
        serial_hint: u64,
        at_ms: u64,
        amount: u64,
        hold_ms: u64,
        pick: f64,
    ) -> Self {
        Self {
            channel,
            serial_hint,
            at_ms,
            amount,
            hold_ms,
            accept_draw: 0.0,
            pick_draw: pick,
            fail_draw: 0.0,
            forced: true,
        }
    }
}

/// A Poisson-distributed count with mean `mean` (Knuth's method for small means, a rounded
/// normal approximation above 30).
pub(super) fn poisson(mean: f64, rng: &mut SplitMix64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        // Box–Muller.
        let (u1, u2) = (rng.unit().max(f64::MIN_POSITIVE), rng.unit());
        let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        return (mean + normal * mean.sqrt()).round().max(0.0) as u64;
    }
    let limit = (-mean).exp();
    let mut product = rng.unit();
    let mut count = 0;
    while product > limit {
        count += 1;
        product *= rng.unit();
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_mean_is_right() {
        let mut rng = SplitMix64::new(3);
        for mean in [0.5, 4.0, 80.0] {
            let n = 20_000;
            let total: u64 = (0..n).map(|_| poisson(mean, &mut rng)).sum();
            let observed = total as f64 / n as f64;
            assert!(
                (observed - mean).abs() < mean * 0.05 + 0.05,
                "{mean}: {observed}"
            );
        }
        assert_eq!(poisson(0.0, &mut rng), 0);
    }
}
