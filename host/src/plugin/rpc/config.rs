//! `revenue-config [get|set|reset] [key] [value]`.

use super::{super::state::Revops, blocking};
use crate::{
    config::{ConfigError, KEYS, KeySpec, Scope, ValueKind},
    plugin::{
        errors::{CONFIG_REFUSED, INVALID_PARAMS, NOT_FOUND, invalid_params, rpc_error},
        options::option_for_key,
        params::Params,
    },
    text::shorten,
};
use cln_plugin::Plugin;
use serde_json::{Value, json};

/// A key's table entry, as `revenue-config get` lists it (with the option that sets it at start).
fn key_entry(spec: &KeySpec) -> Value {
    let range = match spec.kind {
        ValueKind::Integer { min, max } => json!({ "min": min, "max": max }),
        ValueKind::Boolean => json!("true|false"),
    };
    json!({
        "key": spec.name,
        "default": spec.default,
        "range": range,
        "description": spec.description,
        "scoped": spec.scoped,
        "start_option": option_for_key(spec.name),
    })
}

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
    let runtime = tokio::runtime::Handle::current();
    blocking(move || match (action.as_str(), key, value) {
        ("get", key, None) => {
            let snapshot = state.config.snapshot();
            let effective = state.config.effective();
            match key {
                None => Ok(json!({
                    "generation": snapshot.generation,
                    "config": effective,
                    "sources": effective.keys().map(|k| (k.clone(), json!(state.config.source(k)))).collect::<serde_json::Map<_, _>>(),
                    "overrides": snapshot.overrides,
                    "keys": KEYS.iter().map(key_entry).collect::<Vec<_>>(),
                })),
                Some(key) => {
                    let value = effective
                        .get(&key)
                        .ok_or_else(|| rpc_error(NOT_FOUND, format!("no config key {} is set", shorten(&key, 80))))?;
                    Ok(json!({
                        "generation": snapshot.generation,
                        "key": key,
                        "value": value,
                        "source": state.config.source(&key),
                        "start_option": option_for_key(&key).map(|name| json!({ "name": name, "value": state.config.start_value(&key) })),
                    }))
                }
            }
        }
        ("set", Some(key), Some(value)) => {
            // A scoped key names a channel or peer the node has (a reset is always allowed).
            if let Some((_, scope)) = key.split_once('@') {
                let scope = Scope::parse(scope).map_err(refused)?;
                super::scope::require_known(&state, &runtime, &scope)?;
            }
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
