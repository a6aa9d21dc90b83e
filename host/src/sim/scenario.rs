//! Simulation scenarios: a TOML (or JSON) description of a node, its market and the events
//! that hit it. Built-in scenarios ship in `host/scenarios/`; `--scenario FILE` loads others.

use super::demand_spec::is_zero;
pub use super::demand_spec::{
    CompetitorPolicy, CompetitorSpec, Direction, GossipDelay, Seasonality, SenderMemory,
};
use crate::{model::Opener, rng::SplitMix64};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub days: u32,
    pub seed: u64,
    #[serde(default = "default_cycle_minutes")]
    pub cycle_minutes: u32,
    /// Unix seconds of the simulation's first instant.
    #[serde(default = "default_start")]
    pub start: u64,
    pub market: Market,
    pub feerate: Feerate,
    /// How to make channels when none are listed or `--channels N` asks for N of them.
    #[serde(default)]
    pub generate: Generate,
    #[serde(default, rename = "channel")]
    pub channels: Vec<ChannelSpec>,
    #[serde(default, rename = "event")]
    pub events: Vec<Event>,
    /// How the rest of the network prices circular rebalances (absent: a fixed 500 ppm + 1 sat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebalance_routes: Option<super::routes::RouteMarket>,
}

fn default_cycle_minutes() -> u32 {
    10
}

fn default_start() -> u64 {
    crate::model::sample::SAMPLE_NOW_SECS
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Market {
    /// Payments per day that would leave through a channel of out-weight 1 if it were free.
    pub payments_per_channel_day: f64,
    pub amount_sat_min: u64,
    pub amount_sat_max: u64,
    /// k in `share = 1 / (1 + (fee / competitor)^k)`: how strongly demand reacts to price.
    pub elasticity: f64,
    pub hold_secs_min: u64,
    pub hold_secs_max: u64,
    /// Share of forwards the recipient fails (not our doing; they just do not settle).
    #[serde(default = "default_fail_rate")]
    pub downstream_fail_rate: f64,
    /// Share of circular rebalances that fail somewhere in the network (not on our channels).
    #[serde(default)]
    pub rebalance_fail_rate: f64,
    // The demand side (`sim::demand` and beside it); every field optional, defaults = a flat
    // market of one static competitor per channel.
    /// Demand by hour of day and day of week (default flat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seasonality: Option<Seasonality>,
    /// β in `demand × (feerate / base-perkb)^β`: a mempool spike sends payments to Lightning.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub onchain_demand_beta: f64,
    /// Log-normal payment sizes for every channel without its own (default: log-uniform
    /// between `amount-sat-min` and `amount-sat-max`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_median_sat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_sigma: Option<f64>,
    /// Competitors of every channel that lists none of its own (default: one static
    /// competitor at the channel's `competitor-ppm`, with unlimited liquidity).
    #[serde(default, rename = "competitor", skip_serializing_if = "Vec::is_empty")]
    pub competitors: Vec<CompetitorSpec>,
    /// Senders avoid a channel that failed them (default: they forget at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_memory: Option<SenderMemory>,
    /// Our fee changes reach senders late (default: at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gossip_delay: Option<GossipDelay>,
}

fn default_fail_rate() -> f64 {
    0.03
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Feerate {
    /// Typical `opening` estimate, sat per 1000 vbytes.
    pub base_perkb: u32,
    /// Amplitude of the daily cycle, as a share of the base.
    #[serde(default)]
    pub daily_swing: f64,
    /// Random noise per reading, as a share of the base.
    #[serde(default)]
    pub noise: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Generate {
    pub count: usize,
    pub capacity_sat: Vec<u64>,
    pub competitor_ppm_min: u32,
    pub competitor_ppm_max: u32,
    pub fee_ppm: u32,
}

impl Default for Generate {
    fn default() -> Self {
        Self {
            count: 20,
            capacity_sat: vec![1_000_000, 2_000_000, 5_000_000, 10_000_000],
            competitor_ppm_min: 100,
            competitor_ppm_max: 1200,
            fee_ppm: 100,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ChannelSpec {
    #[serde(default)]
    pub label: String,
    pub capacity_sat: u64,
    /// Our share of the capacity at the start.
    pub local_share: f64,
    /// Relative demand for payments leaving through this channel (0: none — a dead channel).
    pub out_weight: f64,
    /// Relative likelihood that a payment enters through this channel (0: one-way outwards).
    pub in_weight: f64,
    /// The price of the alternative routes to the same destinations.
    pub competitor_ppm: u32,
    #[serde(default = "default_fee_ppm")]
    pub fee_ppm: u32,
    #[serde(default = "default_base_msat")]
    pub base_msat: u32,
    #[serde(default = "default_opener")]
    pub opener: Opener,
    #[serde(default = "default_age_days")]
    pub age_days: u32,
    /// HTLC slots of the channel (CLN's default `max-concurrent-htlcs` is 483; some peers set less).
    #[serde(default = "default_max_accepted_htlcs")]
    pub max_accepted_htlcs: u16,
    /// The day the channel opens (absent: open from the start). Until then it does not exist;
    /// when we open it, its funding transaction costs the feerate of that moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_day: Option<f64>,
    /// The day the channel is closed (absent: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_day: Option<f64>,
    /// Names events can scope to (`tag = "…"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Log-normal payment sizes through this channel: median and sigma (of the log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_median_sat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_sigma: Option<f64>,
    /// The competing channels (default: the market's, else one static at `competitor-ppm`).
    #[serde(default, rename = "competitor", skip_serializing_if = "Vec::is_empty")]
    pub competitors: Vec<CompetitorSpec>,
}

fn default_max_accepted_htlcs() -> u16 {
    483
}

fn default_fee_ppm() -> u32 {
    100
}
fn default_base_msat() -> u32 {
    1000
}
fn default_opener() -> Opener {
    Opener::Local
}
fn default_age_days() -> u32 {
    90
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Event {
    /// On-chain feerates multiplied by `multiplier` for `hours` from `start-day`.
    #[serde(rename_all = "kebab-case")]
    MempoolSpike {
        start_day: f64,
        hours: f64,
        multiplier: f64,
    },
    /// `count` HTLCs of `amount-sat` forwarded out through channel index `channel` and held
    /// downstream for `hours`, then failed: slot and liquidity jamming.
    #[serde(rename_all = "kebab-case")]
    HtlcFlood {
        channel: usize,
        start_day: f64,
        hours: f64,
        count: u32,
        amount_sat: u64,
    },
    /// Demand through the channels in scope (`channel`, `channels`, `tag` or `all = true`)
    /// multiplied by `multiplier` for `days` (a sink turning popular, or a route going quiet
    /// with 0); `direction` says which: payments leaving (`out`, the default), entering (`in`)
    /// or `both`.
    #[serde(rename_all = "kebab-case")]
    DemandShift {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<usize>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        channels: Vec<usize>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tag: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        all: bool,
        #[serde(default, skip_serializing_if = "Direction::is_out")]
        direction: Direction,
        start_day: f64,
        days: f64,
        multiplier: f64,
    },
    /// HTLCs through a chosen incoming and/or outgoing channel, held for a drawn time (dust,
    /// whale and slow-jamming floods; see `sim::floods`).
    Flood(super::floods::FloodEvent),
    /// A peer offline for a while (see `sim::lifecycle`).
    PeerOffline(super::lifecycle::PeerOffline),
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("scenario {path}: {message}")]
    Parse { path: String, message: String },
    #[error("scenario {name:?}: {message}")]
    Invalid { name: String, message: String },
    #[error("no built-in scenario {0:?}; built-in: {1}")]
    UnknownBuiltin(String, String),
}

/// The scenarios shipped in the binary: name and TOML text.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../scenarios/default.toml")),
    (
        "mempool-spike",
        include_str!("../../scenarios/mempool-spike.toml"),
    ),
    (
        "htlc-flood",
        include_str!("../../scenarios/htlc-flood.toml"),
    ),
    (
        "mixed-market",
        include_str!("../../scenarios/mixed-market.toml"),
    ),
];

impl Scenario {
    pub fn builtin(name: &str) -> Result<Self, ScenarioError> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            ScenarioError::UnknownBuiltin(name.to_owned(), names.join(", "))
        })?;
        Self::parse_toml(text, &format!("builtin:{name}"))
    }

    /// Reads a `.toml` or `.json` scenario file.
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: shown.clone(),
            source,
        })?;
        if path.extension().is_some_and(|e| e == "json") {
            let scenario: Scenario =
                serde_json::from_str(&text).map_err(|e| ScenarioError::Parse {
                    path: shown.clone(),
                    message: e.to_string(),
                })?;
            scenario.validate()?;
            Ok(scenario)
        } else {
            Self::parse_toml(&text, &shown)
        }
    }

    fn parse_toml(text: &str, path: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        scenario.validate()?;
        Ok(scenario)
    }

    fn invalid(&self, message: String) -> ScenarioError {
        ScenarioError::Invalid {
            name: self.name.clone(),
            message,
        }
    }

    pub fn validate(&self) -> Result<(), ScenarioError> {
        let m = &self.market;
        if self.days == 0 || self.days > 3650 {
            return Err(self.invalid(format!("days = {} must be in 1..=3650", self.days)));
        }
        if self.cycle_minutes == 0 || self.cycle_minutes > 1440 {
            return Err(self.invalid("cycle-minutes must be in 1..=1440".into()));
        }
        if m.amount_sat_min == 0 || m.amount_sat_min > m.amount_sat_max {
            return Err(self.invalid("need 0 < amount-sat-min ≤ amount-sat-max".into()));
        }
        if m.hold_secs_min > m.hold_secs_max {
            return Err(self.invalid("hold-secs-min is above hold-secs-max".into()));
        }
        let finite_non_negative = |x: f64| x.is_finite() && x >= 0.0;
        let market_ok = finite_non_negative(m.payments_per_channel_day)
            && m.elasticity.is_finite()
            && m.elasticity > 0.0
            && (0.0..=1.0).contains(&m.downstream_fail_rate)
            && (0.0..=1.0).contains(&m.rebalance_fail_rate);
        if !market_ok {
            return Err(self.invalid(
                "market rates must be finite and non-negative, elasticity > 0, fail rates in [0, 1]"
                    .into(),
            ));
        }
        if self.generate.capacity_sat.is_empty()
            || self.generate.competitor_ppm_min > self.generate.competitor_ppm_max
        {
            return Err(self.invalid("generate needs capacities and a competitor range".into()));
        }
        for (index, c) in self.channels.iter().enumerate() {
            let ok = c.capacity_sat > 0
                && (0.0..=1.0).contains(&c.local_share)
                && finite_non_negative(c.out_weight)
                && finite_non_negative(c.in_weight)
                && c.competitor_ppm > 0
                && c.max_accepted_htlcs > 0;
            if !ok {
                return Err(self.invalid(format!(
                    "channel {index}: capacity > 0, local-share in [0, 1], weights ≥ 0 and competitor-ppm > 0 required"
                )));
            }
        }
        let channel_count = self.channels.len().max(self.generate.count);
        super::lifecycle::validate(self, channel_count).map_err(|m| self.invalid(m))?;
        if let Some(routes) = &self.rebalance_routes {
            routes.validate().map_err(|m| self.invalid(m))?;
        }
        super::demand::validate(self).map_err(|message| self.invalid(message))?;
        for event in &self.events {
            let channel = match event {
                Event::HtlcFlood { channel, .. } => *channel,
                // Checked with the other demand fields.
                Event::DemandShift { .. } => continue,
                Event::Flood(flood) => {
                    flood.validate(channel_count).map_err(|m| self.invalid(m))?;
                    continue;
                }
                Event::PeerOffline(offline) => offline.channel,
                Event::MempoolSpike { multiplier, .. } => {
                    if !(multiplier.is_finite() && *multiplier > 0.0) {
                        return Err(self.invalid("mempool-spike multiplier must be > 0".into()));
                    }
                    continue;
                }
            };
            if channel >= channel_count {
                return Err(self.invalid(format!(
                    "event names channel {channel}, but there are {channel_count}"
                )));
            }
        }
        Ok(())
    }

    /// The channels to simulate: the listed ones first, then generated ones from the seed up
    /// to `count` (default: `generate.count`).
    pub fn channel_specs(&self, count: Option<usize>) -> Vec<ChannelSpec> {
        let wanted = count.unwrap_or(self.channels.len().max(self.generate.count));
        let mut specs: Vec<ChannelSpec> = self.channels.iter().take(wanted).cloned().collect();
        let mut rng = SplitMix64::new(self.seed ^ 0x5EED_C4A7);
        while specs.len() < wanted {
            specs.push(self.generated_channel(specs.len(), &mut rng));
        }
        specs
    }

    fn generated_channel(&self, index: usize, rng: &mut SplitMix64) -> ChannelSpec {
        let g = &self.generate;
        let capacity_sat = g.capacity_sat[rng.below(g.capacity_sat.len() as u64) as usize];
        // Most channels are ordinary; some are sinks, sources, one-way or dead, as on a real node.
        let roll = rng.below(100);
        let (label, out_weight, in_weight) = match roll {
            0..=4 => ("dead", 0.0, 0.0),
            5..=14 => ("one-way", 0.5 + rng.unit(), 0.0),
            15..=22 => ("sink", 3.0 + 3.0 * rng.unit(), 0.3 * rng.unit()),
            23..=32 => ("source", 0.2 * rng.unit(), 3.0 + 3.0 * rng.unit()),
            _ => ("routing", 0.3 + 1.4 * rng.unit(), 0.3 + 1.4 * rng.unit()),
        };
        ChannelSpec {
            label: format!("{label}-{index}"),
            capacity_sat,
            local_share: 0.1 + 0.8 * rng.unit(),
            out_weight,
            in_weight,
            competitor_ppm: rng.between(
                u64::from(g.competitor_ppm_min),
                u64::from(g.competitor_ppm_max),
            ) as u32,
            fee_ppm: g.fee_ppm,
            base_msat: default_base_msat(),
            opener: if rng.below(2) == 0 {
                Opener::Local
            } else {
                Opener::Remote
            },
            age_days: rng.between(10, 700) as u32,
            max_accepted_htlcs: default_max_accepted_htlcs(),
            open_day: None,
            close_day: None,
            tags: Vec::new(),
            amount_median_sat: None,
            amount_sigma: None,
            competitors: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_validate() {
        for (name, _) in BUILTIN {
            let scenario = Scenario::builtin(name).unwrap();
            assert_eq!(&scenario.name, name);
            assert!(!scenario.channel_specs(None).is_empty());
        }
        assert!(Scenario::builtin("nope").is_err());
    }

    #[test]
    fn generation_is_deterministic_and_sized() {
        let scenario = Scenario::builtin("default").unwrap();
        let a = scenario.channel_specs(Some(300));
        assert_eq!(a.len(), 300);
        assert_eq!(a, scenario.channel_specs(Some(300)));
        // The listed channels come first.
        assert_eq!(a[0], scenario.channels[0]);
    }

    #[test]
    fn nonsense_is_refused_with_a_reason() {
        let mut scenario = Scenario::builtin("default").unwrap();
        scenario.market.amount_sat_min = 0;
        assert!(
            scenario
                .validate()
                .unwrap_err()
                .to_string()
                .contains("amount-sat-min")
        );
        let mut scenario = Scenario::builtin("default").unwrap();
        scenario.events.push(Event::HtlcFlood {
            channel: 10_000,
            start_day: 1.0,
            hours: 1.0,
            count: 1,
            amount_sat: 1,
        });
        assert!(scenario.validate().is_err());
        let bad = "name = \"x\"\ndays = 1\nseed = 1\nbogus = 3\n";
        assert!(Scenario::parse_toml(bad, "inline").is_err());
    }
}
