//! `revenue-rebalance-run` and `revenue-rebalance-history`.

use super::{
    super::state::{Revops, unix_now},
    blocking,
    fees::DEFAULT_HISTORY,
    to_value,
};
use crate::{
    model::PolicyKind,
    plugin::{
        errors::{CYCLE_FAILED, NOT_FOUND, SHUTTING_DOWN, internal, rpc_error},
        params::Params,
        state::DEFAULT_SLOT,
    },
};
use cln_plugin::Plugin;
use serde_json::{Value, json};

/// `revenue-rebalance-run [dry_run]`: the name for `revenue-run rebalance`.
pub async fn rebalance_run(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-rebalance-run", raw, &["dry_run"])?;
    let dry_run = params.flag("dry_run")?;
    let state = plugin.state();
    if state.is_shutting_down() {
        return Err(rpc_error(SHUTTING_DOWN, "revops is shutting down"));
    }
    run_rebalance(state, dry_run).await
}

pub(super) async fn run_rebalance(state: &Revops, dry_run: bool) -> anyhow::Result<Value> {
    if state
        .registry
        .active(PolicyKind::Rebalance, DEFAULT_SLOT)
        .is_err()
    {
        return Err(rpc_error(
            NOT_FOUND,
            "no rebalance policy is loaded: revenue-policy-load rebalance default PATH",
        ));
    }
    let report = state
        .run_rebalance_cycle(dry_run)
        .await
        .map_err(|e| rpc_error(CYCLE_FAILED, e))?;
    to_value(&report)
}

pub async fn rebalance_history(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-rebalance-history", raw, &["limit"])?;
    let limit = params.optional_u32("limit")?.unwrap_or(DEFAULT_HISTORY);
    let state = plugin.state().clone();
    blocking(move || {
        let store = state.store();
        let history = store.rebalance_history(limit).map_err(internal)?;
        let probes = store.probe_history(limit).map_err(internal)?;
        let now = unix_now();
        let (fees_24h, done_24h) = store
            .rebalance_costs_since(now.saturating_sub(86_400))
            .map_err(internal)?;
        Ok(json!({
            "rebalances": to_value(&history)?,
            "fees_paid_24h_msat": fees_24h,
            "completed_24h": done_24h,
            "probes": to_value(&probes)?,
        }))
    })
    .await
}
