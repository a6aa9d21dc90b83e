//! Every plugin option: names, defaults, the config key each tunable one feeds, and the
//! `setconfig` handler. Tunable options are dynamic: `lightning-cli setconfig` changes them at
//! run time through the same transactional path as `revenue-config set`.

use super::{errors::CONFIG_REFUSED, errors::INVALID_PARAMS, errors::rpc_error, state::Revops};
use cln_plugin::{
    ConfiguredPlugin, Plugin,
    options::{
        ConfigOption, DefaultBooleanConfigOption, DefaultIntegerConfigOption, StringConfigOption,
    },
};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const DATA_DIR: StringConfigOption = ConfigOption::new_str_no_default(
    "revenue-data-dir",
    "Directory of revops' database and compiled-policy cache (default: <lightning-dir>/revops).",
);
pub const POLICY_DIR: StringConfigOption = ConfigOption::new_str_no_default(
    "revenue-policy-dir",
    "The only directory policies may be loaded from (default: <data-dir>/policies).",
);
pub const FEE_POLICY: StringConfigOption = ConfigOption::new_str_no_default(
    "revenue-fee-policy",
    "Fee policy at first start: embedded:NAME or a file in the policy directory (default: embedded:one-percent).",
);
pub const LNBITS_URL: StringConfigOption = ConfigOption::new_str_no_default(
    "revenue-lnbits-url",
    "LNbits holding the investor wallets, e.g. https://127.0.0.1:5000 (unset: the Liquidity Dividend System is off).",
);
pub const LDS_OPERATOR_KEY: StringConfigOption = ConfigOption::new_str_no_default(
    "revenue-lds-operator-key",
    "Admin key of the dedicated LNbits wallet payouts are paid from (keep it minimally funded); without it payouts can be previewed, not run.",
);
pub const RPC_TIMEOUT: DefaultIntegerConfigOption = ConfigOption::new_i64_with_default(
    "revenue-rpc-timeout-secs",
    60,
    "Timeout of each call revops makes to lightningd, seconds.",
);
pub const INGEST_INTERVAL: DefaultIntegerConfigOption = ConfigOption::new_i64_with_default(
    "revenue-ingest-interval-secs",
    60,
    "Seconds between forward ingestions (forward_event also triggers one).",
);

/// Tunable options: (option name, default, config key, description). Dynamic.
pub const TUNABLE_INTEGERS: &[(&str, i64, &str, &str)] = &[
    (
        "revenue-fee-interval-secs",
        600,
        "fee.interval-secs",
        "Seconds between fee cycles.",
    ),
    ("revenue-min-fee-ppm", 1, "fee.min-ppm", "Fee floor, ppm."),
    (
        "revenue-max-fee-ppm",
        2500,
        "fee.max-ppm",
        "Fee ceiling, ppm.",
    ),
    (
        "revenue-max-base-msat",
        1000,
        "fee.max-base-msat",
        "Highest base fee revops sets, msat.",
    ),
    (
        "revenue-max-step-pct",
        50,
        "fee.max-step-pct",
        "Largest change per broadcast in normal pricing, %.",
    ),
    (
        "revenue-hysteresis-pct",
        5,
        "fee.hysteresis-pct",
        "Changes within this % of the last broadcast fee are not broadcast.",
    ),
    (
        "revenue-max-broadcasts-per-day",
        4,
        "fee.max-broadcasts-per-day",
        "Most fee broadcasts per channel in 24 h.",
    ),
    (
        "revenue-min-broadcast-interval-secs",
        3600,
        "fee.min-broadcast-interval-secs",
        "Least time between two broadcasts for a channel.",
    ),
    (
        "revenue-rebalance-interval-secs",
        3600,
        "rebalance.interval-secs",
        "Seconds between scheduled rebalance cycles (only while a rebalance policy is loaded).",
    ),
];
pub const DRY_RUN: DefaultBooleanConfigOption = ConfigOption::new_bool_with_default(
    "revenue-dry-run",
    false,
    "Decide and record, but change nothing on the node.",
);
const DRY_RUN_KEY: &str = "dry-run";

/// Registers every option on the builder.
pub fn register<S, I, O>(mut builder: cln_plugin::Builder<S, I, O>) -> cln_plugin::Builder<S, I, O>
where
    S: Clone + Sync + Send + 'static,
    I: tokio::io::AsyncRead + Send + Unpin + 'static,
    O: Send + tokio::io::AsyncWrite + Unpin + 'static,
{
    builder = builder
        .option(DATA_DIR)
        .option(POLICY_DIR)
        .option(FEE_POLICY)
        .option(LNBITS_URL)
        .option(LDS_OPERATOR_KEY)
        .option(RPC_TIMEOUT)
        .option(INGEST_INTERVAL)
        .option(DRY_RUN.dynamic());
    for (name, default, _, description) in TUNABLE_INTEGERS {
        builder = builder
            .option(ConfigOption::new_i64_with_default(name, *default, description).dynamic());
    }
    builder
}

/// The startup values of the tunable options, as config keys (the base under runtime overrides).
pub fn config_base<I, O>(
    plugin: &ConfiguredPlugin<Revops, I, O>,
) -> anyhow::Result<BTreeMap<String, Value>>
where
    I: tokio::io::AsyncRead + Send + Unpin + 'static,
    O: Send + tokio::io::AsyncWrite + Unpin + 'static,
{
    let mut base = BTreeMap::new();
    for (name, _, key, _) in TUNABLE_INTEGERS {
        if let Some(value) = plugin.option_str(name)?.and_then(|v| v.as_i64()) {
            base.insert((*key).to_owned(), json!(value));
        }
    }
    base.insert(DRY_RUN_KEY.to_owned(), json!(plugin.option(&DRY_RUN)?));
    Ok(base)
}

/// `setconfig` on a dynamic option: validated and stored like `revenue-config set`.
pub async fn on_setconfig(plugin: Plugin<Revops>, params: Value) -> anyhow::Result<Value> {
    let name = params
        .get("config")
        .and_then(Value::as_str)
        .ok_or_else(|| rpc_error(INVALID_PARAMS, "setconfig without a config name"))?;
    let raw = params.get("val").cloned().unwrap_or(Value::Null);
    let key = if name == DRY_RUN.name() {
        DRY_RUN_KEY
    } else {
        TUNABLE_INTEGERS
            .iter()
            .find(|(option, ..)| *option == name)
            .map(|(_, _, key, _)| *key)
            .ok_or_else(|| {
                rpc_error(
                    INVALID_PARAMS,
                    format!("{name} is not a dynamic revops option"),
                )
            })?
    };
    let state = plugin.state().clone();
    let key_owned = key.to_owned();
    let result = tokio::task::spawn_blocking(move || state.set_config(&key_owned, &raw))
        .await
        .map_err(|e| rpc_error(CONFIG_REFUSED, e))?;
    // lightningd shows this message as the setconfig error.
    result.map_err(|e| rpc_error(INVALID_PARAMS, format!("{name}: {e}")))?;
    Ok(json!({}))
}
