//! The immutable, typed configuration a cycle runs with.

use super::{
    ConfigError,
    keys::{self, KEYS, Scope, split_scope},
};
use crate::{
    money::{Msat, Ppm},
    scid::ShortChannelId,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// A fee floor and ceiling.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub min: Ppm,
    pub max: Ppm,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ScopedBounds {
    min: Option<Ppm>,
    max: Option<Ppm>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeConfig {
    pub interval_secs: u64,
    pub min_ppm: Ppm,
    pub max_ppm: Ppm,
    pub max_base: Msat,
    pub max_step_pct: u32,
    pub max_step_floor_ppm: u32,
    pub hysteresis_pct: u32,
    pub max_broadcasts_per_day: u32,
    /// Exits from a protective mode allowed past `max_broadcasts_per_day`, per 24 h.
    pub max_mode_exits_per_day: u32,
    pub min_broadcast_interval_secs: u64,
    channel_bounds: BTreeMap<ShortChannelId, ScopedBounds>,
    peer_bounds: BTreeMap<String, ScopedBounds>,
}

impl FeeConfig {
    /// The bounds for one channel: each bound from its most specific scope (channel, then
    /// peer, then global). If a floor ends above a ceiling, the ceiling wins.
    pub fn bounds_for(&self, channel: ShortChannelId, peer_id: &str) -> Bounds {
        let by_channel = self.channel_bounds.get(&channel);
        let by_peer = self.peer_bounds.get(peer_id);
        let pick = |get: fn(&ScopedBounds) -> Option<Ppm>, global: Ppm| {
            by_channel
                .and_then(get)
                .or_else(|| by_peer.and_then(get))
                .unwrap_or(global)
        };
        let max = pick(|b| b.max, self.max_ppm);
        let min = pick(|b| b.min, self.min_ppm).min(max);
        Bounds { min, max }
    }
}

/// The rebalance guards' limits (spec: rebalance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RebalanceConfig {
    pub interval_secs: u64,
    pub daily_budget: Msat,
    pub max_fee_ppm: Ppm,
    pub max_concurrent: u32,
    pub cooldown_secs: u64,
    pub backoff_secs: u64,
    pub ping_pong_secs: u64,
    pub wait_secs: u32,
    pub diagnostic_max_fee: Msat,
}

/// The Liquidity Dividend System's settings (spec: LDS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdsConfig {
    pub min_payout: Msat,
    pub snapshot_interval_secs: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigSnapshot {
    pub generation: u64,
    pub fee: FeeConfig,
    pub rebalance: RebalanceConfig,
    pub lds: LdsConfig,
    pub dry_run: bool,
    /// The operator's overrides as given (normalized), for display and for the next change.
    pub overrides: BTreeMap<String, Value>,
}

impl Default for ConfigSnapshot {
    fn default() -> Self {
        Self::build(0, &BTreeMap::new(), BTreeMap::new()).expect("the defaults are valid")
    }
}

fn u32_of(value: u64) -> u32 {
    u32::try_from(value).expect("key ranges keep values within u32")
}

impl ConfigSnapshot {
    /// Builds and validates a snapshot: `overrides` (runtime changes) over `base` (the
    /// plugin's startup options) over the defaults.
    pub fn build(
        generation: u64,
        base: &BTreeMap<String, Value>,
        overrides: BTreeMap<String, Value>,
    ) -> Result<Self, ConfigError> {
        let mut plain: BTreeMap<&str, u64> = KEYS.iter().map(|k| (k.name, k.default)).collect();
        let mut channel_bounds: BTreeMap<ShortChannelId, ScopedBounds> = BTreeMap::new();
        let mut peer_bounds: BTreeMap<String, ScopedBounds> = BTreeMap::new();
        let layered = base.iter().filter(|(key, _)| !overrides.contains_key(*key));
        for (key, raw) in layered.chain(&overrides) {
            let value = keys::normalize(key, raw)?;
            let number = value
                .as_u64()
                .unwrap_or(u64::from(value.as_bool() == Some(true)));
            let (name, scope) = split_scope(key);
            let Some(scope) = scope else {
                let spec = keys::spec_for(name)?;
                plain.insert(spec.name, number);
                continue;
            };
            let bounds = match Scope::parse(scope)? {
                Scope::Channel(channel) => channel_bounds.entry(channel).or_default(),
                Scope::Peer(peer) => peer_bounds.entry(peer).or_default(),
            };
            let ppm = Some(Ppm::new(u32_of(number)));
            match name {
                "fee.min-ppm" => bounds.min = ppm,
                _ => bounds.max = ppm,
            }
        }
        let fee = FeeConfig {
            interval_secs: plain["fee.interval-secs"],
            min_ppm: Ppm::new(u32_of(plain["fee.min-ppm"])),
            max_ppm: Ppm::new(u32_of(plain["fee.max-ppm"])),
            max_base: Msat::new(plain["fee.max-base-msat"]),
            max_step_pct: u32_of(plain["fee.max-step-pct"]),
            max_step_floor_ppm: u32_of(plain["fee.max-step-floor-ppm"]),
            hysteresis_pct: u32_of(plain["fee.hysteresis-pct"]),
            max_broadcasts_per_day: u32_of(plain["fee.max-broadcasts-per-day"]),
            max_mode_exits_per_day: u32_of(plain["fee.max-mode-exits-per-day"]),
            min_broadcast_interval_secs: plain["fee.min-broadcast-interval-secs"],
            channel_bounds,
            peer_bounds,
        };
        check_floor_below_ceiling("global", Some(fee.min_ppm), Some(fee.max_ppm))?;
        // Every scope's effective bounds (its own over the global ones) must be valid; where a
        // channel's and its peer's scopes still meet badly, the fee guard lets the ceiling win.
        let scoped = fee
            .channel_bounds
            .iter()
            .map(|(channel, b)| (channel.to_string(), b))
            .chain(fee.peer_bounds.iter().map(|(peer, b)| (peer.clone(), b)));
        for (scope, b) in scoped {
            check_floor_below_ceiling(
                &scope,
                Some(b.min.unwrap_or(fee.min_ppm)),
                Some(b.max.unwrap_or(fee.max_ppm)),
            )?;
        }
        let rebalance = RebalanceConfig {
            interval_secs: plain["rebalance.interval-secs"],
            daily_budget: Msat::from_sat(plain["rebalance.daily-budget-sat"])
                .expect("key range keeps it small"),
            max_fee_ppm: Ppm::new(u32_of(plain["rebalance.max-fee-ppm"])),
            max_concurrent: u32_of(plain["rebalance.max-concurrent"]),
            cooldown_secs: plain["rebalance.cooldown-secs"],
            backoff_secs: plain["rebalance.backoff-secs"],
            ping_pong_secs: plain["rebalance.ping-pong-secs"],
            wait_secs: u32_of(plain["rebalance.wait-secs"]),
            diagnostic_max_fee: Msat::from_sat(plain["rebalance.diagnostic-max-fee-sat"])
                .expect("range-checked"),
        };
        let lds = LdsConfig {
            min_payout: Msat::from_sat(plain["lds.min-payout-sat"]).expect("range-checked"),
            snapshot_interval_secs: plain["lds.snapshot-interval-secs"],
        };
        Ok(Self {
            generation,
            fee,
            rebalance,
            lds,
            dry_run: plain["dry-run"] == 1,
            overrides,
        })
    }

    /// Every key with its effective value (scoped overrides listed as given).
    pub fn effective(&self, base: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
        let mut all: BTreeMap<String, Value> = KEYS
            .iter()
            .map(|spec| {
                let value = match spec.kind {
                    keys::ValueKind::Boolean => Value::Bool(spec.default == 1),
                    keys::ValueKind::Integer { .. } => Value::from(spec.default),
                };
                (spec.name.to_owned(), value)
            })
            .collect();
        all.extend(base.clone());
        all.extend(self.overrides.clone());
        all
    }
}

fn check_floor_below_ceiling(
    scope: &str,
    min: Option<Ppm>,
    max: Option<Ppm>,
) -> Result<(), ConfigError> {
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        return Err(ConfigError::Inconsistent(format!(
            "fee floor {min} is above the fee ceiling {max} ({scope})"
        )));
    }
    Ok(())
}
