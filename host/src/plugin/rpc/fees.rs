//! `revenue-fee-history` and `revenue-run` (which hands rebalance cycles to `rebalance`).

use super::{super::state::Revops, blocking, rebalance::run_rebalance, to_value};
use crate::{
    guards::fee::FeeVerdict,
    model::PolicyKind,
    plugin::{
        errors::{CYCLE_FAILED, SHUTTING_DOWN, UNSUPPORTED, internal, invalid_params, rpc_error},
        params::Params,
    },
    scid::ShortChannelId,
};
use cln_plugin::Plugin;
use serde_json::{Value, json};

pub(super) const DEFAULT_HISTORY: u32 = 100;

pub async fn history(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-fee-history", raw, &["channel", "limit"])?;
    let channel = params
        .optional_str("channel")?
        .map(str::parse::<ShortChannelId>)
        .transpose()
        .map_err(invalid_params)?;
    let limit = params.optional_u32("limit")?.unwrap_or(DEFAULT_HISTORY);
    let state = plugin.state().clone();
    blocking(move || {
        let store = state.store();
        let broadcasts = store.broadcast_history(channel, limit).map_err(internal)?;
        let records = store.fee_records().map_err(internal)?;
        let current: Vec<_> = records
            .values()
            .filter(|r| channel.is_none_or(|c| c == r.channel))
            .collect();
        Ok(json!({ "current": to_value(&current)?, "broadcasts": to_value(&broadcasts)? }))
    })
    .await
}

pub async fn run(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-run", raw, &["kind", "dry_run"])?;
    let kind: PolicyKind = params
        .required_str("kind")?
        .parse()
        .map_err(invalid_params)?;
    let dry_run = params.flag("dry_run")?;
    let state = plugin.state();
    if state.is_shutting_down() {
        return Err(rpc_error(SHUTTING_DOWN, "revops is shutting down"));
    }
    match kind {
        PolicyKind::Fee => {}
        PolicyKind::Rebalance => return run_rebalance(state, dry_run).await,
        PolicyKind::Payout => {
            return Err(rpc_error(
                UNSUPPORTED,
                format!("{kind} cycles are not run by this version of revops yet"),
            ));
        }
    }
    let report = state
        .run_fee_cycle(dry_run)
        .await
        .map_err(|e| rpc_error(CYCLE_FAILED, e))?;
    // Channels whose fee is already right are counted, not listed.
    let changes: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| o.verdict != FeeVerdict::Unchanged)
        .collect();
    Ok(json!({
        "cycle_id": report.cycle_id,
        "policy": report.policy,
        "dry_run": report.dry_run,
        "config_generation": report.config_generation,
        "channels": report.channels,
        "counts": report.counts,
        "repaired": report.repaired,
        "policy_error": report.policy_error,
        "slots": to_value(&report.slots)?,
        "fuel_used": report.fuel_used,
        "duration_us": report.duration_us,
        "outcomes": to_value(&changes)?,
    }))
}
