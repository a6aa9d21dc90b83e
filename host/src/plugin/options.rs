//! Every plugin option: names, defaults, and the config key each tunable one sets at start.
//! None is dynamic (see `TUNABLES`).

use super::state::Revops;
use crate::config::{KEYS, KeySpec, ValueKind};
use cln_plugin::{
    ConfiguredPlugin,
    options::{
        ConfigOption, DefaultBooleanConfigOption, DefaultIntegerConfigOption, StringConfigOption,
        Value as OptionValue,
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

pub const WASM_POOLING: DefaultBooleanConfigOption = ConfigOption::new_bool_with_default(
    "revenue-wasm-pooling",
    true,
    "Pre-reserve address space for policy instances (about 19 GiB virtual, none of it resident) so that calls need no mmap; false maps memory per call, for hosts with strict overcommit or an address-space limit.",
);

/// Options that set a config key at start: (option name, config key). Their default and range
/// are the key's (`config::KEYS`). They are not dynamic: a dynamic option's `setconfig` is
/// written by lightningd to `config.setconfig`, which a later lightningd start refuses when the
/// plugin is not in its permanent config ("unknown option"), and which would bring an old value
/// back after `revenue-config reset`. Runtime changes go through `revenue-config set`, the one
/// source of truth; at start an option given here wins over the stored override of its key.
pub const TUNABLES: &[(&str, &str)] = &[
    ("revenue-fee-interval-secs", "fee.interval-secs"),
    ("revenue-min-fee-ppm", "fee.min-ppm"),
    ("revenue-max-fee-ppm", "fee.max-ppm"),
    ("revenue-max-base-msat", "fee.max-base-msat"),
    ("revenue-max-step-pct", "fee.max-step-pct"),
    ("revenue-hysteresis-pct", "fee.hysteresis-pct"),
    (
        "revenue-max-broadcasts-per-day",
        "fee.max-broadcasts-per-day",
    ),
    (
        "revenue-max-mode-exits-per-day",
        "fee.max-mode-exits-per-day",
    ),
    (
        "revenue-min-broadcast-interval-secs",
        "fee.min-broadcast-interval-secs",
    ),
    ("revenue-rebalance-interval-secs", "rebalance.interval-secs"),
    ("revenue-dry-run", "dry-run"),
];

fn key_spec(key: &str) -> &'static KeySpec {
    KEYS.iter()
        .find(|spec| spec.name == key)
        .expect("every tunable option names a config key")
}

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
        .option(WASM_POOLING);
    for (name, key) in TUNABLES {
        let spec = key_spec(key);
        // Leaked once at start: the manifest wants 'static text, and there are ten of them.
        let description: &'static str = Box::leak(
            format!(
                "{} Sets config key {key} at start (default {}); change it at run time with `revenue-config set {key} VALUE`.",
                spec.description,
                spec.default_text()
            )
            .into_boxed_str(),
        );
        // No default: lightningd passes only the options an operator gave, so revops knows
        // which values are explicit.
        builder = match spec.kind {
            ValueKind::Boolean => {
                builder.option(ConfigOption::new_bool_no_default(name, description))
            }
            ValueKind::Integer { .. } => {
                builder.option(ConfigOption::new_i64_no_default(name, description))
            }
        };
    }
    builder
}

/// The tunable options an operator gave at start, as config keys (they win over stored
/// overrides of the same key; see `ConfigManager::load_with_base`).
pub fn config_base<I, O>(
    plugin: &ConfiguredPlugin<Revops, I, O>,
) -> anyhow::Result<BTreeMap<String, Value>>
where
    I: tokio::io::AsyncRead + Send + Unpin + 'static,
    O: Send + tokio::io::AsyncWrite + Unpin + 'static,
{
    let mut base = BTreeMap::new();
    for (name, key) in TUNABLES {
        let value = match plugin.option_str(name)? {
            None => continue,
            Some(OptionValue::Integer(number)) => json!(number),
            Some(OptionValue::Boolean(flag)) => json!(flag),
            Some(OptionValue::String(text)) => json!(text),
            Some(other) => anyhow::bail!("{name}: unexpected value {other:?}"),
        };
        base.insert((*key).to_owned(), value);
    }
    Ok(base)
}

/// The option that sets `key` at start, if any (for messages that say where a value came from).
pub fn option_for_key(key: &str) -> Option<&'static str> {
    TUNABLES
        .iter()
        .find(|(_, k)| *k == key)
        .map(|(name, _)| *name)
}

/// The configuration reference in `docs/CONFIG.md`: every key, its default, range, scope and
/// the option that sets it at start, rendered from the tables so the doc cannot drift.
#[cfg(test)]
fn config_reference() -> String {
    let mut text = String::from(
        "| key | default | range | start option | scoped | meaning |\n|---|---|---|---|---|---|\n",
    );
    for spec in KEYS {
        let range = match spec.kind {
            ValueKind::Integer { min, max } => format!("{min} – {max}"),
            ValueKind::Boolean => "true, false".to_owned(),
        };
        let option = option_for_key(spec.name).map_or("—".to_owned(), |name| format!("`{name}`"));
        let scoped = if spec.scoped { "channel, peer" } else { "—" };
        text.push_str(&format!(
            "| `{}` | {} | {range} | {option} | {scoped} | {} |\n",
            spec.name,
            spec.default_text(),
            spec.description
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGIN: &str = "<!-- keys: generated by `REVOPS_BLESS=1 cargo test -p revops --lib config_reference` -->\n";
    const END: &str = "<!-- end of keys -->";

    #[test]
    fn config_reference_in_the_docs_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/CONFIG.md");
        let doc = std::fs::read_to_string(&path).expect("docs/CONFIG.md");
        let start = doc.find(BEGIN).expect("begin marker") + BEGIN.len();
        let end = doc.find(END).expect("end marker");
        let rendered = config_reference();
        if std::env::var("REVOPS_BLESS").is_ok() {
            let updated = format!("{}{rendered}{}", &doc[..start], &doc[end..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        assert_eq!(
            &doc[start..end],
            rendered,
            "docs/CONFIG.md is stale: run REVOPS_BLESS=1 cargo test -p revops --lib config_reference"
        );
    }

    #[test]
    fn every_tunable_option_names_a_key() {
        for (option, key) in TUNABLES {
            assert!(KEYS.iter().any(|k| k.name == *key), "{option} → {key}");
        }
    }
}
