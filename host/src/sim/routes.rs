//! What the rest of the network charges to carry a circular rebalance between two of our
//! peers, per attempt, when the scenario has a `[rebalance-routes]` table (without one: a fixed
//! 500 ppm + 1 sat, failing at `market.rebalance-fail-rate`).
//!
//! The price of one attempt is log-normal around a median that follows
//! - the amount against the network's liquidity between the peers (`depth-sat`): big moves
//!   need the scarce, dear channels — `× (1 + amount-slope × amount / depth)`;
//! - the destination: what others charge to reach it (its `competitor-ppm`), by
//!   `follow-competitor`;
//! - the on-chain feerate: when opening channels is dear, so is liquidity —
//!   `× (feerate / base-perkb)^feerate-exponent`.
//!
//! and the attempt fails with a probability rising with the amount:
//! `1 − (1 − fail-base) × exp(−amount / depth)`.
//!
//! The draw is keyed on the instant, the two peers and the amount — no stream is consumed —
//! so `getroutes` (which only reads the node) and `sendpay` after it agree on the attempt, and
//! the market's senders are untouched.

use super::network::SimNetwork;
use crate::{
    money::{Msat, Ppm},
    rng::SplitMix64,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RouteMarket {
    /// Median price of a small route at the base feerate, ppm.
    #[serde(default = "default_ppm")]
    pub ppm: u32,
    /// Base fee of a route, msat.
    #[serde(default = "default_base_msat")]
    pub base_msat: u64,
    /// Share of the median that is the destination's `competitor-ppm` instead of `ppm` (0..=1).
    #[serde(default)]
    pub follow_competitor: f64,
    /// Log-normal spread (σ) of one attempt's price around the median.
    #[serde(default = "default_spread")]
    pub spread: f64,
    /// The network's liquidity between two of our peers, sat.
    #[serde(default = "default_depth_sat")]
    pub depth_sat: u64,
    #[serde(default = "default_amount_slope")]
    pub amount_slope: f64,
    /// Failure probability of a tiny attempt (default: `market.rebalance-fail-rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_base: Option<f64>,
    #[serde(default = "default_feerate_exponent")]
    pub feerate_exponent: f64,
}

fn default_ppm() -> u32 {
    500
}
fn default_base_msat() -> u64 {
    1000
}
fn default_spread() -> f64 {
    0.4
}
fn default_depth_sat() -> u64 {
    10_000_000
}
fn default_amount_slope() -> f64 {
    1.0
}
fn default_feerate_exponent() -> f64 {
    0.5
}

impl Default for RouteMarket {
    fn default() -> Self {
        Self {
            ppm: default_ppm(),
            base_msat: default_base_msat(),
            follow_competitor: 0.0,
            spread: default_spread(),
            depth_sat: default_depth_sat(),
            amount_slope: default_amount_slope(),
            fail_base: None,
            feerate_exponent: default_feerate_exponent(),
        }
    }
}

impl RouteMarket {
    pub(super) fn validate(&self) -> Result<(), String> {
        let finite = |x: f64| x.is_finite() && x >= 0.0;
        let ok = self.ppm > 0
            && (0.0..=1.0).contains(&self.follow_competitor)
            && finite(self.spread)
            && self.spread <= 3.0
            && self.depth_sat > 0
            && finite(self.amount_slope)
            && self.fail_base.is_none_or(|f| (0.0..=1.0).contains(&f))
            && finite(self.feerate_exponent)
            && self.feerate_exponent <= 4.0;
        if ok {
            Ok(())
        } else {
            Err("rebalance-routes: ppm > 0, follow-competitor and fail-base in [0, 1], spread ≤ 3, depth-sat > 0, amount-slope ≥ 0, feerate-exponent in [0, 4]".into())
        }
    }
}

/// One attempt's route: its fee, the chance it fails in the network, and the probability
/// `getroutes` states.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Quote {
    pub fee: Msat,
    pub fail: f64,
    pub probability_ppm: u64,
}

/// The fixed price of a scenario without `[rebalance-routes]`.
const LEGACY_FEE_PPM: u32 = 500;
const LEGACY_FEE_BASE_MSAT: u64 = 1000;
const LEGACY_PROBABILITY_PPM: u64 = 900_000;

impl SimNetwork {
    /// The route from the peer of channel `source` to the peer of channel `destination` for
    /// `amount`, now.
    pub(super) fn route_quote(&self, source: usize, destination: usize, amount: Msat) -> Quote {
        let fail_rate = self.scenario.market.rebalance_fail_rate;
        let Some(market) = &self.scenario.rebalance_routes else {
            return Quote {
                fee: Msat::new(
                    LEGACY_FEE_BASE_MSAT + Ppm::new(LEGACY_FEE_PPM).fee_on(amount).msat(),
                ),
                fail: fail_rate,
                probability_ppm: LEGACY_PROBABILITY_PPM,
            };
        };
        let now_secs = self.now_ms / 1000;
        let mut rng = SplitMix64::new(
            self.scenario.seed
                ^ 0x0020_07E5
                ^ now_secs.rotate_left(13)
                ^ (source as u64).rotate_left(31)
                ^ (destination as u64).rotate_left(47)
                ^ amount.msat().rotate_left(5),
        );
        let competitor = f64::from(self.channels[destination].spec.competitor_ppm);
        let median = (1.0 - market.follow_competitor) * f64::from(market.ppm)
            + market.follow_competitor * competitor;
        let depth = (market.depth_sat * 1000) as f64;
        let size = amount.msat() as f64 / depth;
        let feerate = f64::from(self.feerate_at(now_secs))
            / f64::from(self.scenario.feerate.base_perkb.max(1));
        let ppm = median
            * (market.spread * standard_normal(&mut rng)).exp()
            * (1.0 + market.amount_slope * size)
            * feerate.powf(market.feerate_exponent);
        let ppm = ppm.clamp(1.0, 1_000_000.0) as u32;
        let fail_base = market.fail_base.unwrap_or(fail_rate);
        let success = (1.0 - fail_base) * (-size).exp();
        Quote {
            fee: Msat::new(market.base_msat + Ppm::new(ppm).fee_on(amount).msat()),
            fail: 1.0 - success,
            probability_ppm: (success * 1e6) as u64,
        }
    }
}

/// Box–Muller.
fn standard_normal(rng: &mut SplitMix64) -> f64 {
    let (u1, u2) = (rng.unit().max(f64::MIN_POSITIVE), rng.unit());
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Scenario, SimNetwork};

    fn network(routes: Option<RouteMarket>, spike: bool) -> SimNetwork {
        let mut scenario = Scenario::builtin("default").unwrap();
        scenario.feerate.noise = 0.0;
        scenario.feerate.daily_swing = 0.0;
        scenario.events.clear();
        if spike {
            scenario
                .events
                .push(super::super::scenario::Event::MempoolSpike {
                    start_day: 0.0,
                    hours: 1.0,
                    multiplier: 8.0,
                });
        }
        scenario.rebalance_routes = routes;
        SimNetwork::new(&scenario, None)
    }

    /// Median fee ppm and mean success over many instants (each a fresh draw).
    fn sample(network: &mut SimNetwork, sat: u64) -> (u64, f64) {
        let amount = Msat::new(sat * 1000);
        let start = network.now_ms;
        let mut ppms = Vec::new();
        let mut success = 0.0;
        for i in 0..400 {
            network.now_ms = start + i * 1000;
            let quote = network.route_quote(1, 4, amount);
            ppms.push(quote.fee.msat() * 1_000_000 / amount.msat());
            success += 1.0 - quote.fail;
        }
        network.now_ms = start;
        ppms.sort_unstable();
        (ppms[200], success / 400.0)
    }

    #[test]
    fn without_the_table_the_old_fixed_price() {
        let mut network = network(None, false);
        let quote = network.route_quote(1, 4, Msat::new(100_000_000));
        assert_eq!(quote.fee, Msat::new(1000 + 50_000));
        assert_eq!(sample(&mut network, 100_000).0, 510);
    }

    #[test]
    fn price_varies_per_attempt_and_rises_with_amount_and_feerate() {
        let mut calm = network(Some(RouteMarket::default()), false);
        let a = calm.route_quote(1, 4, Msat::new(100_000_000));
        calm.now_ms += 1000;
        let b = calm.route_quote(1, 4, Msat::new(100_000_000));
        assert_ne!(a.fee, b.fee, "priced per attempt");
        let (small_ppm, small_ok) = sample(&mut calm, 50_000);
        let (big_ppm, big_ok) = sample(&mut calm, 5_000_000);
        assert!(big_ppm > small_ppm * 13 / 10, "{small_ppm} vs {big_ppm}");
        assert!(big_ok < small_ok - 0.3, "{small_ok} vs {big_ok}");
        let mut spiked = network(Some(RouteMarket::default()), true);
        let (spiked_ppm, _) = sample(&mut spiked, 50_000);
        // 8× the feerate, exponent 0.5: about 2.8× the price.
        assert!(spiked_ppm > small_ppm * 2, "{small_ppm} vs {spiked_ppm}");
    }

    #[test]
    fn nonsense_is_refused() {
        let bad = RouteMarket {
            follow_competitor: 2.0,
            ..RouteMarket::default()
        };
        assert!(bad.validate().is_err());
        assert!(RouteMarket::default().validate().is_ok());
    }
}
