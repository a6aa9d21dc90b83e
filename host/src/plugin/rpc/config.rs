//! `revenue-config [get|set|reset] [key] [value]`.

use super::{super::state::Revops, blocking};
use crate::{
    config::{ConfigError, KEYS},
    plugin::{
        errors::{CONFIG_REFUSED, INVALID_PARAMS, NOT_FOUND, invalid_params, rpc_error},
        params::Params,
    },
};
use cln_plugin::Plugin;
use serde_json::{Value, json};

fn refused(error: ConfigError) -> anyhow::Error {
    let code = match error {
        ConfigError::UnknownKey(_) => NOT_FOUND,
        ConfigError::Store(_) => CONFIG_REFUSED,
        ConfigError::Inconsistent(_) => CONFIG_REFUSED,
        _ => INVALID_PARAMS,
    };
    rpc_error(code, error)
}

pub async fn config(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-config", raw, &["action", "key", "value"])?;
    let action = params.optional_str("action")?.unwrap_or("get").to_owned();
    let key = params.optional_str("key")?.map(str::to_owned);
    let value = params.value("value").cloned();
    let state = plugin.state().clone();
    blocking(move || match (action.as_str(), key, value) {
        ("get", key, None) => {
            let snapshot = state.config.snapshot();
            let effective = state.config.effective();
            match key {
                None => Ok(json!({
                    "generation": snapshot.generation,
                    "config": effective,
                    "overrides": snapshot.overrides,
                    "keys": KEYS.iter().map(|k| json!({
                        "key": k.name, "default": k.default, "description": k.description, "scoped": k.scoped,
                    })).collect::<Vec<_>>(),
                })),
                Some(key) => {
                    let value = effective
                        .get(&key)
                        .ok_or_else(|| rpc_error(NOT_FOUND, format!("no config key {key:?} is set")))?;
                    Ok(json!({ "generation": snapshot.generation, "key": key, "value": value }))
                }
            }
        }
        ("set", Some(key), Some(value)) => {
            let snapshot = state.set_config(&key, &value).map_err(refused)?;
            Ok(json!({ "generation": snapshot.generation, "key": key, "value": snapshot.overrides.get(&key) }))
        }
        ("reset", Some(key), None) => {
            let snapshot = state.reset_config(&key).map_err(refused)?;
            Ok(json!({ "generation": snapshot.generation, "key": key, "value": state.config.effective().get(&key) }))
        }
        (action, _, _) => Err(invalid_params(format!(
            "revenue-config {action}: use `get [key]`, `set key value` or `reset key`"
        ))),
    })
    .await
}
