//! How much demand there is, when, and in what sizes: demand shifts per channel and direction
//! (resolved from their scopes once, at the start), seasonality by hour of day and day of
//! week, the pull of on-chain fees towards Lightning, and each channel's payment sizes.
//!
//! Every factor here is exactly 1 when its scenario field is absent, so a scenario without
//! them draws exactly what it drew before they existed.

use super::{
    network::SimNetwork,
    scenario::{ChannelSpec, Direction, Event, Market, Scenario},
    scope::Scope,
};

const DAY_SECS: u64 = 86_400;
const HOUR_MS: u64 = 3_600_000;

/// One demand shift as it applies to one channel: `[start, end)` in unix seconds.
#[derive(Clone, Copy, Debug)]
struct Window {
    start: u64,
    end: u64,
    multiplier: f64,
}

/// How the sizes of the payments through one channel are drawn from one uniform draw.
#[derive(Clone, Copy, Debug)]
pub(super) enum PaymentSize {
    /// Log-uniform between two amounts (sat): many small payments, some large.
    LogUniform { low: f64, high: f64 },
    /// Log-normal: `median × e^(sigma·z)`, kept between 1 sat and `max_sat`.
    LogNormal {
        ln_median: f64,
        sigma: f64,
        max_sat: f64,
    },
}

impl PaymentSize {
    fn of(spec: &ChannelSpec, market: &Market) -> Self {
        match spec.amount_median_sat.or(market.amount_median_sat) {
            Some(median) => Self::LogNormal {
                ln_median: (median as f64).ln(),
                sigma: spec.amount_sigma.or(market.amount_sigma).unwrap_or(1.0),
                max_sat: spec.capacity_sat as f64,
            },
            None => Self::LogUniform {
                low: market.amount_sat_min as f64,
                high: market.amount_sat_max as f64,
            },
        }
    }

    /// The amount in sat for a uniform draw `u` in `[0, 1)`: one draw either way, so the
    /// streams stay aligned whatever the sizes.
    pub fn sat(&self, u: f64) -> f64 {
        match *self {
            Self::LogUniform { low, high } => (low.ln() + u * (high.ln() - low.ln())).exp(),
            Self::LogNormal {
                ln_median,
                sigma,
                max_sat,
            } => (ln_median + sigma * standard_normal_quantile(u))
                .exp()
                .clamp(1.0, max_sat),
        }
    }
}

pub(super) struct Demand {
    out_shifts: Vec<Vec<Window>>,
    in_shifts: Vec<Vec<Window>>,
    /// Any inbound shift at all: only then do the inbound weights move.
    pub has_inbound: bool,
    base_in_total: f64,
    hourly: Option<[f64; 24]>,
    weekly: Option<[f64; 7]>,
    beta: f64,
    base_perkb: f64,
    pub sizes: Vec<PaymentSize>,
}

impl Demand {
    pub fn new(scenario: &Scenario, specs: &[ChannelSpec]) -> Self {
        let mut out_shifts = vec![Vec::new(); specs.len()];
        let mut in_shifts = vec![Vec::new(); specs.len()];
        for event in &scenario.events {
            let Some((scope, direction, start_day, days, multiplier)) = demand_shift(event) else {
                continue;
            };
            let start = scenario.start + (start_day * DAY_SECS as f64) as u64;
            let window = Window {
                start,
                end: start + (days * DAY_SECS as f64) as u64,
                multiplier,
            };
            for index in scope.resolve(specs) {
                if direction.outbound() {
                    out_shifts[index].push(window);
                }
                if direction.inbound() {
                    in_shifts[index].push(window);
                }
            }
        }
        let season = scenario.market.seasonality.as_ref();
        Self {
            has_inbound: in_shifts.iter().any(|w| !w.is_empty()),
            out_shifts,
            in_shifts,
            base_in_total: specs.iter().map(|s| s.in_weight).sum(),
            hourly: season.and_then(|s| normalised(&s.hourly)),
            weekly: season.and_then(|s| normalised(&s.weekly)),
            beta: scenario.market.onchain_demand_beta,
            base_perkb: f64::from(scenario.feerate.base_perkb),
            sizes: specs
                .iter()
                .map(|spec| PaymentSize::of(spec, &scenario.market))
                .collect(),
        }
    }

    /// The product of the outbound shifts on `channel` at `at_secs`, in event order.
    pub fn out_multiplier(&self, channel: usize, at_secs: u64) -> f64 {
        product_at(&self.out_shifts[channel], at_secs)
    }

    /// `weight` × the inbound shifts on `channel` at `at_secs`.
    pub fn in_weight(&self, channel: usize, weight: f64, at_secs: u64) -> f64 {
        weight * product_at(&self.in_shifts[channel], at_secs)
    }

    /// How inbound demand moves the whole market: payments that would have entered through a
    /// channel whose inbound demand fell are not made at all (`now_total` / the base total).
    pub fn inbound_factor(&self, now_total: f64) -> f64 {
        if self.base_in_total > 0.0 {
            now_total / self.base_in_total
        } else {
            1.0
        }
    }

    /// Whether the market as a whole moves with time or the feerate.
    pub fn is_flat(&self) -> bool {
        self.hourly.is_none() && self.weekly.is_none() && self.beta == 0.0
    }

    /// The market-wide factor for `[from_ms, to_ms)`: the mean seasonal multiplier over the
    /// span (hour by hour) × `(feerate / base)^β`.
    pub fn market_factor(&self, from_ms: u64, to_ms: u64, feerate_perkb: impl Fn() -> u32) -> f64 {
        let onchain = if self.beta == 0.0 || self.base_perkb <= 0.0 {
            1.0
        } else {
            (f64::from(feerate_perkb()) / self.base_perkb).powf(self.beta)
        };
        self.seasonal(from_ms, to_ms) * onchain
    }

    fn seasonal(&self, from_ms: u64, to_ms: u64) -> f64 {
        if self.hourly.is_none() && self.weekly.is_none() || to_ms <= from_ms {
            return 1.0;
        }
        let mut weighted = 0.0;
        let mut at = from_ms;
        while at < to_ms {
            let next = ((at / HOUR_MS + 1) * HOUR_MS).min(to_ms);
            weighted += (next - at) as f64 * self.seasonal_at(at / 1000);
            at = next;
        }
        weighted / (to_ms - from_ms) as f64
    }

    /// The seasonal multiplier at `at_secs` (UTC hour; 1970-01-01 was a Thursday).
    fn seasonal_at(&self, at_secs: u64) -> f64 {
        let hour = (at_secs % DAY_SECS / 3600) as usize;
        let weekday = ((at_secs / DAY_SECS + 3) % 7) as usize;
        self.hourly.map_or(1.0, |h| h[hour]) * self.weekly.map_or(1.0, |w| w[weekday])
    }
}

impl SimNetwork {
    /// The market-wide demand factor for the span from now to `end_ms` (seasonality, the
    /// on-chain pull, inbound shifts); moves the inbound weights to the shifts in force now.
    /// Exactly 1, touching nothing, for a scenario without these fields.
    pub(super) fn demand_factor(&mut self, end_ms: u64) -> f64 {
        let at_secs = self.now_ms / 1000;
        let mut factor = 1.0;
        if !self.demand.is_flat() {
            factor = self
                .demand
                .market_factor(self.now_ms, end_ms, || self.feerate_at(at_secs));
        }
        if self.demand.has_inbound {
            let mut total = 0.0;
            for (index, channel) in self.channels.iter().enumerate() {
                total += self
                    .demand
                    .in_weight(index, channel.spec.in_weight, at_secs);
                self.in_cumulative[index] = total;
            }
            factor *= self.demand.inbound_factor(total);
        }
        factor
    }
}

fn product_at(windows: &[Window], at_secs: u64) -> f64 {
    windows
        .iter()
        .filter(|w| (w.start..w.end).contains(&at_secs))
        .map(|w| w.multiplier)
        .product()
}

/// `values` scaled to a mean of 1 (`None` when empty: flat).
fn normalised<const N: usize>(values: &[f64]) -> Option<[f64; N]> {
    let mut out = [0.0; N];
    if values.len() != N {
        return None;
    }
    let mean = values.iter().sum::<f64>() / N as f64;
    for (slot, value) in out.iter_mut().zip(values) {
        *slot = value / mean;
    }
    Some(out)
}

/// A demand shift's scope, direction, start, length and multiplier.
fn demand_shift(event: &Event) -> Option<(Scope<'_>, Direction, f64, f64, f64)> {
    match event {
        Event::DemandShift {
            channel,
            channels,
            tag,
            all,
            direction,
            start_day,
            days,
            multiplier,
        } => Some((
            Scope {
                channel: *channel,
                channels,
                tag: tag.as_deref(),
                all: *all,
            },
            *direction,
            *start_day,
            *days,
            *multiplier,
        )),
        _ => None,
    }
}

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
pub(super) fn standard_normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.024_25;
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Checks the demand fields of a scenario; the message says what is wrong.
pub(super) fn validate(scenario: &Scenario) -> Result<(), String> {
    let m = &scenario.market;
    let positive = |x: f64| x.is_finite() && x > 0.0;
    let non_negative = |x: f64| x.is_finite() && x >= 0.0;
    if let Some(season) = &m.seasonality {
        for (name, values, n) in [
            ("hourly", &season.hourly, 24),
            ("weekly", &season.weekly, 7),
        ] {
            let ok = values.is_empty()
                || (values.len() == n
                    && values.iter().all(|&v| non_negative(v))
                    && values.iter().any(|&v| v > 0.0));
            if !ok {
                return Err(format!(
                    "seasonality {name} needs {n} non-negative multipliers, not all 0"
                ));
            }
        }
    }
    if !m.onchain_demand_beta.is_finite() {
        return Err("onchain-demand-beta must be finite".into());
    }
    let sizes_ok = |median: Option<u64>, sigma: Option<f64>| {
        median.is_none_or(|m| m > 0) && sigma.is_none_or(non_negative)
    };
    if !sizes_ok(m.amount_median_sat, m.amount_sigma) {
        return Err("amount-median-sat must be > 0 and amount-sigma ≥ 0".into());
    }
    if let Some(memory) = &m.sender_memory
        && !((0.0..1.0).contains(&memory.failure_penalty) && positive(memory.half_life_hours))
    {
        return Err("sender-memory needs failure-penalty in [0, 1) and half-life-hours > 0".into());
    }
    if let Some(delay) = &m.gossip_delay
        && !(non_negative(delay.min_minutes)
            && delay.max_minutes.is_finite()
            && delay.min_minutes <= delay.max_minutes)
    {
        return Err("gossip-delay needs 0 ≤ min-minutes ≤ max-minutes".into());
    }
    let competitors_ok = |list: &[super::scenario::CompetitorSpec]| {
        list.iter().all(|c| {
            positive(c.ppm_factor)
                && positive(c.weight)
                && c.ppm.is_none_or(|p| p > 0)
                && c.liquidity_sat.is_none_or(|l| l > 0)
                && positive(c.refill_hours)
                && positive(c.react_hours)
                && (0.0..1.0).contains(&c.undercut_step)
                && (0.0..=1.0).contains(&c.undercut_threshold)
                && positive(c.period_hours)
                && non_negative(c.war_hours)
                && positive(c.war_factor)
                && c.phase_hours.is_finite()
                && (0.0..=1.0).contains(&c.follow_rate)
        })
    };
    if !competitors_ok(&m.competitors) {
        return Err("market competitor: factors, weight, hours > 0, shares in [0, 1]".into());
    }
    for (index, c) in scenario.channels.iter().enumerate() {
        if !sizes_ok(c.amount_median_sat, c.amount_sigma) {
            return Err(format!(
                "channel {index}: amount-median-sat must be > 0 and amount-sigma ≥ 0"
            ));
        }
        if !competitors_ok(&c.competitors) {
            return Err(format!(
                "channel {index} competitor: factors, weight, hours > 0, shares in [0, 1]"
            ));
        }
    }
    let channel_count = scenario.channels.len().max(scenario.generate.count);
    for event in &scenario.events {
        if let Some((scope, _, _, days, multiplier)) = demand_shift(event) {
            scope.check(channel_count, &scenario.channels)?;
            if !(non_negative(multiplier) && non_negative(days)) {
                return Err("demand-shift needs days ≥ 0 and a multiplier ≥ 0".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::Seasonality;

    const FULL: &str = r#"
name = "everything"
days = 3
seed = 5
[market]
payments-per-channel-day = 10.0
amount-sat-min = 1000
amount-sat-max = 100000
elasticity = 2.0
hold-secs-min = 1
hold-secs-max = 10
onchain-demand-beta = 1.0
amount-median-sat = 20000
amount-sigma = 1.2
[market.seasonality]
weekly = [1, 1, 1, 1, 1, 0.6, 0.5]
[market.sender-memory]
failure-penalty = 0.3
[market.gossip-delay]
max-minutes = 30.0
[[market.competitor]]
policy = "follow-median"
[feerate]
base-perkb = 2000
[[channel]]
label = "shop"
capacity-sat = 5000000
local-share = 0.5
out-weight = 2.0
in-weight = 0.2
competitor-ppm = 600
tags = ["sink"]
amount-median-sat = 2000
[[channel.competitor]]
policy = "undercut"
ppm = 600
liquidity-sat = 3000000
[[channel.competitor]]
policy = "price-war"
ppm-factor = 1.2
[[event]]
kind = "demand-shift"
tag = "sink"
direction = "in"
start-day = 1.0
days = 1.0
multiplier = 0.0
"#;

    #[test]
    fn every_demand_field_parses_and_old_scenarios_serialise_as_before() {
        let scenario: Scenario = toml::from_str(FULL).unwrap();
        scenario.validate().unwrap();
        assert_eq!(scenario.channels[0].competitors.len(), 2);
        let json = serde_json::to_string(&scenario).unwrap();
        assert_eq!(serde_json::from_str::<Scenario>(&json).unwrap(), scenario);
        // A scenario without them writes none of them.
        let old = serde_json::to_string(&Scenario::builtin("mixed-market").unwrap()).unwrap();
        for field in [
            "seasonality",
            "competitor",
            "tags",
            "direction",
            "gossip-delay",
            "onchain-demand-beta",
            "sender-memory",
            "amount-median-sat",
        ] {
            assert!(!old.contains(&format!("\"{field}\"")), "{field}");
        }
        for (bad, why) in [
            ("tag = \"sink\"", "tag = \"nope\""),
            ("tag = \"sink\"", "all = true\nchannel = 0"),
            ("ppm = 600", "ppm = 0"),
            (
                "max-minutes = 30.0",
                "max-minutes = 30.0\nmin-minutes = 40.0",
            ),
            ("weekly = [1, 1, 1, 1, 1, 0.6, 0.5]", "weekly = [1, 1]"),
            ("failure-penalty = 0.3", "failure-penalty = 1.0"),
        ] {
            let text = FULL.replacen(bad, why, 1);
            let scenario: Scenario = toml::from_str(&text).unwrap();
            assert!(scenario.validate().is_err(), "{why}");
        }
        assert!(toml::from_str::<Scenario>(&FULL.replace("ppm-factor", "ppm-fac")).is_err());
    }

    #[test]
    fn quantile_matches_known_values() {
        assert!(standard_normal_quantile(0.5).abs() < 1e-9);
        assert!((standard_normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
        assert!((standard_normal_quantile(0.01) + 2.326_348).abs() < 1e-5);
        assert!(standard_normal_quantile(0.0).is_finite());
    }

    #[test]
    fn log_normal_sizes_centre_on_the_median() {
        let size = PaymentSize::LogNormal {
            ln_median: 5000f64.ln(),
            sigma: 0.8,
            max_sat: 1e7,
        };
        let mut rng = crate::rng::SplitMix64::new(9);
        let mut sizes: Vec<f64> = (0..10_001).map(|_| size.sat(rng.unit())).collect();
        sizes.sort_by(f64::total_cmp);
        let median = sizes[5000];
        assert!((4500.0..5500.0).contains(&median), "{median}");
        // A quarter of them within a factor e^(0.8·0.674) ≈ 1.7 below the median.
        assert!((2600.0..3300.0).contains(&sizes[2500]), "{}", sizes[2500]);
    }

    #[test]
    fn seasonality_is_normalised_and_averaged_over_the_span() {
        let mut scenario = Scenario::builtin("default").unwrap();
        let mut hourly = vec![0.0; 24];
        hourly[..12].fill(1.0);
        scenario.market.seasonality = Some(Seasonality {
            hourly,
            weekly: vec![],
        });
        let demand = Demand::new(&scenario, &scenario.channel_specs(None));
        let midnight = 1_700_006_400_000; // a UTC midnight, in ms
        assert_eq!(demand.seasonal(midnight, midnight + HOUR_MS), 2.0);
        assert_eq!(
            demand.seasonal(midnight + 12 * HOUR_MS, midnight + 13 * HOUR_MS),
            0.0
        );
        assert!((demand.seasonal(midnight, midnight + 24 * HOUR_MS) - 1.0).abs() < 1e-12);
        assert!(!demand.is_flat());
    }
}
