//! `revenue-policy-load`, `-list`, `-rollback`, `-remove`, `-shadow`, `-compare`, `-assign`.

use super::{super::state::Revops, blocking, to_value};
use crate::{
    config::Scope,
    cycle::SHADOW_SLOT,
    embedded,
    model::PolicyKind,
    plugin::{
        errors::{
            INVALID_PARAMS, NOT_FOUND, POLICY_LOAD_FAILED, UNSUPPORTED, internal, invalid_params,
            rpc_error,
        },
        params::Params,
        state::{DEFAULT_SLOT, policy_params},
    },
    runtime::LoadError,
};
use cln_plugin::Plugin;
use serde_json::{Value, json};

fn kind(params: &Params) -> anyhow::Result<PolicyKind> {
    let kind: PolicyKind = params
        .required_str("kind")?
        .parse()
        .map_err(invalid_params)?;
    if kind == PolicyKind::Payout {
        return Err(rpc_error(
            UNSUPPORTED,
            format!("{kind} policies are not run by this version of revops yet"),
        ));
    }
    Ok(kind)
}

/// Shadow mode and assignment exist for fee policies.
fn fee_kind(params: &Params) -> anyhow::Result<PolicyKind> {
    let kind = kind(params)?;
    if kind != PolicyKind::Fee {
        return Err(rpc_error(
            UNSUPPORTED,
            format!("only fee policies can be shadowed or assigned; got {kind}"),
        ));
    }
    Ok(kind)
}

fn slot_name(params: &Params) -> anyhow::Result<String> {
    let name = params.optional_str("name")?.unwrap_or(DEFAULT_SLOT);
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(invalid_params(format!(
            "slot name {name:?}: use 1–64 letters, digits, - or _"
        )));
    }
    if name == SHADOW_SLOT {
        return Err(invalid_params(format!(
            "slot {SHADOW_SLOT:?} is reserved: use revenue-policy-shadow"
        )));
    }
    Ok(name.to_owned())
}

/// The one answer to a failed load, whichever method loaded (`-load` or `-shadow`).
fn load_failed(error: LoadError) -> anyhow::Error {
    let code = match error {
        LoadError::Io { .. } | LoadError::UnknownEmbedded { .. } | LoadError::NotLoaded { .. } => {
            NOT_FOUND
        }
        LoadError::Params(_) => INVALID_PARAMS,
        _ => POLICY_LOAD_FAILED,
    };
    rpc_error(code, error)
}

pub async fn load(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse(
        "revenue-policy-load",
        raw,
        &["kind", "name", "path", "params"],
    )?;
    let kind = kind(&params)?;
    let slot = slot_name(&params)?;
    let path = params.required_str("path")?.to_owned();
    let policy_params = policy_params(params.value("params")).map_err(invalid_params)?;
    let state = plugin.state().clone();
    blocking(move || {
        let report = state
            .load_policy(kind, &slot, &path, &policy_params, true)
            .map_err(load_failed)?;
        to_value(&report)
    })
    .await
}

pub async fn shadow(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-policy-shadow", raw, &["kind", "path", "params"])?;
    let kind = fee_kind(&params)?;
    let path = params.required_str("path")?.to_owned();
    let policy_params = policy_params(params.value("params")).map_err(invalid_params)?;
    let state = plugin.state().clone();
    blocking(move || {
        if path == "off" {
            state
                .registry
                .remove(kind, SHADOW_SLOT)
                .map_err(|e| rpc_error(NOT_FOUND, e))?;
            return Ok(json!({ "shadow": "off" }));
        }
        // A shadow is an experiment: not restored after a restart.
        let report = state
            .load_policy(kind, SHADOW_SLOT, &path, &policy_params, false)
            .map_err(load_failed)?;
        to_value(&report)
    })
    .await
}

pub async fn compare(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-policy-compare", raw, &["kind", "limit"])?;
    let kind = fee_kind(&params)?;
    let limit = params.optional_u32("limit")?.unwrap_or(50);
    let state = plugin.state().clone();
    blocking(move || {
        let shadow = state.registry.active(kind, SHADOW_SLOT).map_err(|_| {
            rpc_error(
                NOT_FOUND,
                "no shadow policy is running (revenue-policy-shadow)",
            )
        })?;
        let active = state
            .registry
            .active(kind, DEFAULT_SLOT)
            .ok()
            .map(|p| p.label());
        let summary = state
            .store()
            .shadow_summary(&shadow.label(), limit)
            .map_err(internal)?;
        Ok(json!({ "active": active, "shadow": to_value(&summary)? }))
    })
    .await
}

pub async fn assign(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-policy-assign", raw, &["kind", "name", "scope"])?;
    let kind = fee_kind(&params)?;
    let slot = slot_name(&params)?;
    let scope_text = params.required_str("scope")?;
    let parsed_scope = Scope::parse(scope_text).map_err(invalid_params)?;
    let scope = match &parsed_scope {
        Scope::Channel(id) => id.to_string(),
        Scope::Peer(peer) => peer.clone(),
    };
    let state = plugin.state().clone();
    let runtime = tokio::runtime::Handle::current();
    blocking(move || {
        if slot != DEFAULT_SLOT {
            super::scope::require_known(&state, &runtime, &parsed_scope)?;
        }
        if slot != DEFAULT_SLOT && state.registry.active(kind, &slot).is_err() {
            return Err(rpc_error(
                NOT_FOUND,
                format!("no {kind} policy is loaded in slot {slot:?}; load one first"),
            ));
        }
        let mut store = state.store();
        // Assigning to the default slot is removing the assignment.
        let target = (slot != DEFAULT_SLOT).then_some(slot.as_str());
        store
            .set_policy_assignment(kind, &scope, target)
            .map_err(internal)?;
        let all = store.policy_assignments(kind).map_err(internal)?;
        let assignments: Vec<Value> = all
            .into_iter()
            .map(|(scope, slot)| json!({ "scope": scope, "slot": slot }))
            .collect();
        Ok(json!({ "kind": kind, "scope": scope, "slot": slot, "assignments": assignments }))
    })
    .await
}

pub async fn list(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    Params::parse("revenue-policy-list", raw, &[])?;
    let slots = plugin.state().registry.status();
    let shipped: Vec<Value> = embedded::SHIPPED
        .iter()
        .map(|p| json!({ "name": format!("embedded:{}", p.name), "kind": p.kind, "description": p.description }))
        .collect();
    Ok(json!({ "slots": to_value(&slots)?, "shipped": shipped }))
}

pub async fn rollback(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-policy-rollback", raw, &["kind", "name"])?;
    let kind = kind(&params)?;
    let slot = slot_name(&params)?;
    let status = plugin
        .state()
        .registry
        .rollback(kind, &slot)
        .map_err(|e| rpc_error(NOT_FOUND, e))?;
    to_value(&status)
}

/// Removes a named slot for good: its layout, state and assignments (those channels and peers
/// return to the default slot). The default fee slot prices every unassigned channel, so it
/// cannot be removed: load another policy into it, or roll it back.
pub async fn remove(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-policy-remove", raw, &["kind", "name"])?;
    let kind = kind(&params)?;
    params.required_str("name")?;
    let slot = slot_name(&params)?;
    if kind == PolicyKind::Fee && slot == DEFAULT_SLOT {
        return Err(invalid_params(
            "the default fee slot cannot be removed (it prices every channel not assigned \
             elsewhere); load another policy into it, or roll it back",
        ));
    }
    let state = plugin.state().clone();
    blocking(move || {
        if !state.registry.contains(kind, &slot) {
            return Err(rpc_error(
                NOT_FOUND,
                format!("no {kind} policy slot named {slot:?}"),
            ));
        }
        let unassigned = state.store().forget_slot(kind, &slot).map_err(internal)?;
        state
            .registry
            .remove(kind, &slot)
            .map_err(|e| rpc_error(NOT_FOUND, e))?;
        Ok(json!({ "kind": kind, "removed": slot, "unassigned": unassigned }))
    })
    .await
}
