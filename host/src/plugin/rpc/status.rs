//! `revenue-status`.

use super::{super::state::Revops, blocking};
use crate::{model::PolicyKind, plugin::errors::internal, store::ForwardIndex};
use cln_plugin::Plugin;
use serde_json::{Value, json};
use std::time::UNIX_EPOCH;

pub async fn status(plugin: Plugin<Revops>, params: Value) -> anyhow::Result<Value> {
    super::super::params::Params::parse("revenue-status", params, &[])?;
    let state = plugin.state().clone();
    blocking(move || {
        let config = state.config.snapshot();
        let policies: Vec<Value> = state
            .registry
            .status()
            .into_iter()
            .map(|slot| {
                let loaded = state.registry.active(slot.kind, &slot.slot).ok();
                json!({
                    "kind": slot.kind,
                    "slot": slot.slot,
                    "state": slot.state,
                    "name": loaded.as_ref().map(|p| p.info.name.clone()),
                    "version": loaded.as_ref().map(|p| p.info.version.clone()),
                    "sha256": loaded.as_ref().map(|p| p.sha256_hex()),
                    "source": loaded.as_ref().map(|p| p.source.to_string()),
                    "since": loaded.as_ref().and_then(|p| p.loaded_at.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs()),
                    "consecutive_failures": slot.consecutive_failures,
                    "last_error": slot.last_error,
                })
            })
            .collect();
        let store = state.store();
        let created = store
            .forwards_cursor(ForwardIndex::Created)
            .map_err(internal)?;
        let updated = store
            .forwards_cursor(ForwardIndex::Updated)
            .map_err(internal)?;
        let totals = store.forward_totals().map_err(internal)?;
        let assignments: Vec<Value> = store
            .policy_assignments(PolicyKind::Fee)
            .map_err(internal)?
            .into_iter()
            .map(|(scope, slot)| json!({ "kind": "fee", "scope": scope, "slot": slot }))
            .collect();
        // Actions whose outcome is not yet known (an interrupted setchannel or payment): the
        // next cycle reconciles them with the node.
        let pending_actions = store.pending_intents().map_err(internal)?.len();
        drop(store);
        Ok(json!({
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_secs": state.started_at.elapsed().map_or(0, |d| d.as_secs()),
            "data_dir": state.setup.data_dir,
            "policy_dir": state.setup.policy_dir,
            "config_generation": config.generation,
            "dry_run": config.dry_run,
            "pending_actions": pending_actions,
            "policies": policies,
            "assignments": assignments,
            "last_cycle": {
                PolicyKind::Fee.as_str(): state.last_fee_cycle(),
                PolicyKind::Rebalance.as_str(): state.last_rebalance_cycle(),
            },
            "last_cycle_error": state.last_cycle_error(),
            "forwards_ingested_up_to": {
                "created_index": created.saturating_sub(1),
                "updated_index": updated.saturating_sub(1),
            },
            "forwards": {
                "settled": totals.settled,
                "failed": totals.failed,
                "local_failed": totals.local_failed,
            },
        }))
    })
    .await
}
