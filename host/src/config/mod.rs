//! Runtime configuration (spec: dynamic runtime configuration).
//!
//! Every cycle binds one immutable `ConfigSnapshot` at its start. A change goes: validate
//! (type, range, cross-field) → write to the database in a transaction → read back and compare
//! → swap the in-memory snapshot. Any failure leaves memory and database as they were. The
//! generation increases with every change and survives restarts.

mod keys;
mod snapshot;

pub use keys::{KEYS, KeySpec, Scope, ValueKind};
pub use snapshot::{Bounds, ConfigSnapshot, FeeConfig, RebalanceConfig};

use crate::store::{Store, StoreError};
use serde_json::Value;
use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown config key {0:?}; see `revenue-config get` for the list")]
    UnknownKey(String),
    #[error("{key}: {problem}")]
    InvalidValue { key: String, problem: String },
    #[error("{key} cannot take a scope (@channel or @peer)")]
    NotScoped { key: String },
    #[error("invalid scope {scope:?}: expected a short channel id (103x1x0) or a 66-hex node id")]
    BadScope { scope: String },
    #[error("inconsistent configuration: {0}")]
    Inconsistent(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A stored runtime override that a start option replaced (the option wins; the override is
/// removed so that it cannot come back when the option is later taken out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Displaced {
    pub key: String,
    pub start_value: Value,
    pub override_value: Value,
}

/// Where a key's effective value comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Default,
    /// An option lightningd passed at start.
    Option,
    /// `revenue-config set`, stored in the database.
    Override,
}

/// Holds the current snapshot and performs transactional updates.
pub struct ConfigManager {
    current: RwLock<Arc<ConfigSnapshot>>,
    /// Startup values (the plugin's options), under the stored overrides.
    base: BTreeMap<String, Value>,
}

impl ConfigManager {
    /// The configuration stored in `store` (overrides over defaults).
    pub fn load(store: &mut Store) -> Result<Self, ConfigError> {
        Self::load_with_base(store, BTreeMap::new()).map(|(manager, _)| manager)
    }

    /// `base` (the options given at start, each validated) over the stored overrides over the
    /// defaults. A start option wins over the stored override of the same key: that override
    /// is removed (one write) and returned, so that the start can say which value won.
    pub fn load_with_base(
        store: &mut Store,
        base: BTreeMap<String, Value>,
    ) -> Result<(Self, Vec<Displaced>), ConfigError> {
        let base = base
            .iter()
            .map(|(key, value)| Ok((key.clone(), keys::normalize(key, value)?)))
            .collect::<Result<BTreeMap<_, _>, ConfigError>>()?;
        let mut stored = store.stored_config()?;
        let mut overrides = parse_stored(&stored.overrides)?;
        let displaced: Vec<Displaced> = base
            .iter()
            .filter_map(|(key, start_value)| {
                let override_value = overrides.remove(key)?;
                Some(Displaced {
                    key: key.clone(),
                    start_value: start_value.clone(),
                    override_value,
                })
            })
            .collect();
        // Validate before writing: a start that cannot load leaves the database as it was.
        ConfigSnapshot::build(stored.generation, &base, overrides.clone())?;
        if !displaced.is_empty() {
            let changes: Vec<_> = displaced.iter().map(|d| (d.key.clone(), None)).collect();
            let expected = overrides.clone();
            stored = store.write_config_verified(&changes, |read| {
                parse_stored(&read.overrides).is_ok_and(|read_back| read_back == expected)
            })?;
        }
        let snapshot = ConfigSnapshot::build(stored.generation, &base, overrides)?;
        let manager = Self {
            current: RwLock::new(Arc::new(snapshot)),
            base,
        };
        Ok((manager, displaced))
    }

    /// Where `key`'s effective value comes from.
    pub fn source(&self, key: &str) -> Source {
        if self.snapshot().overrides.contains_key(key) {
            Source::Override
        } else if self.base.contains_key(key) {
            Source::Option
        } else {
            Source::Default
        }
    }

    /// The value an option gave `key` at start, if one did.
    pub fn start_value(&self, key: &str) -> Option<&Value> {
        self.base.get(key)
    }

    /// Every key's effective value: defaults, startup options, runtime overrides.
    pub fn effective(&self) -> BTreeMap<String, Value> {
        self.snapshot().effective(&self.base)
    }

    pub fn snapshot(&self) -> Arc<ConfigSnapshot> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Sets `key` (optionally `key@scope`) to `value`.
    pub fn set(
        &self,
        store: &mut Store,
        key: &str,
        value: &Value,
    ) -> Result<Arc<ConfigSnapshot>, ConfigError> {
        let normalized = keys::normalize(key, value)?;
        self.change(store, key, Some(normalized))
    }

    /// Removes the override of `key`, back to its default.
    pub fn reset(&self, store: &mut Store, key: &str) -> Result<Arc<ConfigSnapshot>, ConfigError> {
        keys::spec_for(key)?;
        self.change(store, key, None)
    }

    fn change(
        &self,
        store: &mut Store,
        key: &str,
        value: Option<Value>,
    ) -> Result<Arc<ConfigSnapshot>, ConfigError> {
        let mut current = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut overrides = current.overrides.clone();
        let previous = match &value {
            Some(value) => overrides.insert(key.to_owned(), value.clone()),
            None => overrides.remove(key),
        };
        if previous == value {
            // Nothing changes (a reset without an override, the same value again): no write,
            // and the generation stays.
            return Ok(current.clone());
        }
        // Validate the whole candidate before touching the database.
        ConfigSnapshot::build(current.generation, &self.base, overrides.clone())?;
        let change = [(key.to_owned(), value.as_ref().map(Value::to_string))];
        let expected = overrides.clone();
        let stored = store.write_config_verified(&change, |stored| {
            parse_stored(&stored.overrides).is_ok_and(|read_back| read_back == expected)
        })?;
        let snapshot = Arc::new(ConfigSnapshot::build(
            stored.generation,
            &self.base,
            overrides,
        )?);
        tracing::info!(
            key,
            generation = snapshot.generation,
            "configuration changed"
        );
        *current = snapshot.clone();
        Ok(snapshot)
    }
}

fn parse_stored(stored: &BTreeMap<String, String>) -> Result<BTreeMap<String, Value>, ConfigError> {
    stored
        .iter()
        .map(|(key, text)| {
            let value = serde_json::from_str(text).map_err(|e| ConfigError::InvalidValue {
                key: key.clone(),
                problem: format!("stored value {text:?} is not JSON: {e}"),
            })?;
            Ok((key.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_reset_and_generation() {
        let mut store = Store::open_in_memory().unwrap();
        let config = ConfigManager::load(&mut store).unwrap();
        assert_eq!(config.snapshot().generation, 0);
        let after = config.set(&mut store, "fee.min-ppm", &json!(25)).unwrap();
        assert_eq!(after.fee.min_ppm.ppm(), 25);
        assert_eq!(after.generation, 1);
        // Strings from a command line are accepted when they parse as the key's type.
        let after = config
            .set(&mut store, "fee.max-ppm", &json!("3000"))
            .unwrap();
        assert_eq!(after.fee.max_ppm.ppm(), 3000);
        let after = config.reset(&mut store, "fee.min-ppm").unwrap();
        assert_eq!(after.fee.min_ppm, ConfigSnapshot::default().fee.min_ppm);
        assert_eq!(config.effective()["fee.min-ppm"], json!(1));
        assert_eq!(after.generation, 3);
        // A restart sees the same configuration and generation.
        let reloaded = ConfigManager::load(&mut store).unwrap().snapshot();
        assert_eq!(reloaded.generation, 3);
        assert_eq!(reloaded.fee.max_ppm.ppm(), 3000);
    }

    #[test]
    fn bad_changes_leave_everything_unchanged() {
        let mut store = Store::open_in_memory().unwrap();
        let config = ConfigManager::load(&mut store).unwrap();
        for (key, value) in [
            ("fee.min-ppm", json!(-1)),
            ("fee.min-ppm", json!("many")),
            ("fee.min-ppm", json!(1.5)),
            ("fee.hysteresis-pct", json!(101)),
            ("dry-run", json!("perhaps")),
            ("no.such-key", json!(1)),
            ("fee.min-ppm", json!(99999999)),
            ("fee.interval-secs@103x1x0", json!(60)),
            ("fee.min-ppm@not-a-scope", json!(5)),
        ] {
            assert!(
                config.set(&mut store, key, &value).is_err(),
                "{key} = {value}"
            );
        }
        // Cross-field: the floor may not exceed the ceiling.
        let error = config
            .set(&mut store, "fee.min-ppm", &json!(5000))
            .unwrap_err();
        assert!(matches!(error, ConfigError::Inconsistent(_)), "{error}");
        assert_eq!(config.snapshot().generation, 0);
        assert_eq!(store.stored_config().unwrap().generation, 0);
    }

    #[test]
    fn a_start_option_wins_over_a_stored_override_and_removes_it() {
        let mut store = Store::open_in_memory().unwrap();
        let base = BTreeMap::from([("fee.max-ppm".to_owned(), json!(900))]);
        let (config, displaced) = ConfigManager::load_with_base(&mut store, base.clone()).unwrap();
        assert!(displaced.is_empty());
        assert_eq!(config.snapshot().fee.max_ppm.ppm(), 900);
        assert_eq!(config.source("fee.max-ppm"), Source::Option);
        // At run time an override sits over the option, until the next start.
        config.set(&mut store, "fee.max-ppm", &json!(1200)).unwrap();
        assert_eq!(config.source("fee.max-ppm"), Source::Override);
        let (reloaded, displaced) =
            ConfigManager::load_with_base(&mut store, base.clone()).unwrap();
        assert_eq!(reloaded.snapshot().fee.max_ppm.ppm(), 900, "the start option wins");
        assert_eq!(
            displaced,
            vec![Displaced {
                key: "fee.max-ppm".into(),
                start_value: json!(900),
                override_value: json!(1200),
            }]
        );
        // The override is gone for good: without the option the default is back.
        let (plain, displaced) = ConfigManager::load_with_base(&mut store, BTreeMap::new()).unwrap();
        assert!(displaced.is_empty());
        assert_eq!(plain.snapshot().fee.max_ppm.ppm(), 2500);
        assert_eq!(plain.source("fee.max-ppm"), Source::Default);
        let bad = BTreeMap::from([("fee.max-ppm".to_owned(), json!(-3))]);
        assert!(ConfigManager::load_with_base(&mut store, bad).is_err());
    }

    #[test]
    fn a_reset_without_override_or_a_repeated_value_keeps_the_generation() {
        let mut store = Store::open_in_memory().unwrap();
        let config = ConfigManager::load(&mut store).unwrap();
        assert_eq!(config.reset(&mut store, "fee.min-ppm").unwrap().generation, 0);
        assert_eq!(config.set(&mut store, "fee.min-ppm", &json!(7)).unwrap().generation, 1);
        assert_eq!(config.set(&mut store, "fee.min-ppm", &json!("7")).unwrap().generation, 1);
        assert_eq!(store.stored_config().unwrap().generation, 1);
    }

    #[test]
    fn scoped_bounds() {
        let mut store = Store::open_in_memory().unwrap();
        let config = ConfigManager::load(&mut store).unwrap();
        let peer = "0321d4ac8a90bbde930678a8934d058f50c9e1c591c422564afc1f381067b7f1b3";
        config
            .set(&mut store, &format!("fee.min-ppm@{peer}"), &json!(100))
            .unwrap();
        let snapshot = config
            .set(&mut store, "fee.max-ppm@103x1x0", &json!(150))
            .unwrap();
        let channel = "103x1x0".parse().unwrap();
        let bounds = snapshot.fee.bounds_for(channel, peer);
        assert_eq!((bounds.min.ppm(), bounds.max.ppm()), (100, 150));
        let other = snapshot.fee.bounds_for("1x1x1".parse().unwrap(), "02ab");
        assert_eq!(other.min, snapshot.fee.min_ppm);
        // A floor above the ceiling in the same scope is refused...
        assert!(
            config
                .set(&mut store, "fee.min-ppm@103x1x0", &json!(200))
                .is_err()
        );
        // ...across scopes the ceiling wins (the peer floor of 100 meets a channel ceiling of 50).
        let snapshot = config
            .set(&mut store, "fee.max-ppm@103x1x0", &json!(50))
            .unwrap();
        let bounds = snapshot.fee.bounds_for(channel, peer);
        assert_eq!((bounds.min.ppm(), bounds.max.ppm()), (50, 50));
    }
}
