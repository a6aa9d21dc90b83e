//! revops' RPC methods (`revenue-*`), one file per family. Every handler parses its params
//! first, does blocking work on a worker thread, and fails with a coded error.

mod capacity;
mod config;
mod dashboard;
mod fees;
mod lds;
mod payout;
mod policy;
mod profitability;
mod rebalance;
mod scope;
mod status;

use super::{errors::internal, state::Revops};
use cln_plugin::RpcMethodBuilder;
use serde_json::Value;

/// (name, usage, description), in the order `lightning-cli help` lists them.
pub const METHODS: &[(&str, &str, &str)] = &[
    (
        "revenue-status",
        "",
        "Version, uptime, loaded policies, last cycle and config generation.",
    ),
    (
        "revenue-policy-list",
        "",
        "Loaded policy slots (active, last-known-good, quarantined) and shipped policies.",
    ),
    (
        "revenue-policy-load",
        "kind name path [params]",
        "Load a policy into slot NAME of KIND from PATH (in the policy directory) or embedded:NAME; canary-tested, then swapped in.",
    ),
    (
        "revenue-policy-rollback",
        "kind [name]",
        "Make the last-known-good policy of a slot active again.",
    ),
    (
        "revenue-policy-remove",
        "kind name",
        "Unload the named slot NAME of KIND for good (not the default fee slot); channels and peers assigned to it return to the default slot.",
    ),
    (
        "revenue-policy-assign",
        "kind name scope",
        "Let the policy in slot NAME decide channel or peer SCOPE (a short channel id or node id); NAME default removes the assignment.",
    ),
    (
        "revenue-policy-shadow",
        "kind path [params]",
        "Run a candidate policy beside the active one on the same snapshots; its decisions are recorded, never executed. PATH off ends it.",
    ),
    (
        "revenue-policy-compare",
        "kind [limit]",
        "Where the shadow policy's decisions differ from the active one's, so far.",
    ),
    (
        "revenue-config",
        "[action] [key] [value]",
        "get (default), set or reset configuration; answers with the generation.",
    ),
    (
        "revenue-fee-history",
        "[channel] [limit]",
        "Fee broadcasts revops made, newest first, with the current fee record.",
    ),
    (
        "revenue-rebalance-history",
        "[limit]",
        "Rebalances revops made, newest first, with the fee actually paid.",
    ),
    (
        "revenue-rebalance-run",
        "[dry_run]",
        "Run a rebalance cycle now (as revenue-run rebalance); dry_run=true previews without paying.",
    ),
    (
        "revenue-profitability",
        "[channel]",
        "Per channel over 1, 7 and 30 days: volume, fees earned, rebalance costs, net, annualised return on capacity and a class.",
    ),
    (
        "revenue-dashboard",
        "",
        "The node at a glance: liquidating value, net profit and operating margin over 1/7/30 days, annualised return on capacity, bleeders, warnings.",
    ),
    (
        "revenue-capacity-report",
        "",
        "Per channel keep, defibrillate, close, splice-out or grow, with the reason; recommendations only.",
    ),
    (
        "revenue-lds-investor-add",
        "id wallet_id invoice_key tier",
        "Register an investor wallet (LNbits wallet id, its invoice key only, tier liquid, 30d or 90d).",
    ),
    (
        "revenue-lds-investor-update",
        "id [tier] [invoice_key]",
        "Change an investor's tier or invoice key.",
    ),
    (
        "revenue-lds-investor-remove",
        "id",
        "Remove an investor (their payout history is kept).",
    ),
    (
        "revenue-lds-investor-list",
        "",
        "Investors with their last balance and 72 h time-weighted average, and the profit ledger.",
    ),
    (
        "revenue-lds-snapshot",
        "",
        "Read every investor balance from LNbits now (also done on schedule).",
    ),
    (
        "revenue-lds-solvency",
        "",
        "The solvency check: investor balances against 85 % of the node's local balance less pending outgoing HTLCs.",
    ),
    (
        "revenue-payout-preview",
        "[period]",
        "Every line a payout of PERIOD (default: this month) would pay now; nothing is sent.",
    ),
    (
        "revenue-payout-run",
        "[period]",
        "Pay PERIOD's profit share once; a rerun continues an unfinished run and never pays twice.",
    ),
    (
        "revenue-payout-history",
        "[limit]",
        "Payout runs, newest first, with every line's status.",
    ),
    (
        "revenue-run",
        "kind [dry_run]",
        "Run a cycle of KIND now; dry_run=true previews without changing anything.",
    ),
];

pub fn register<I, O>(
    mut builder: cln_plugin::Builder<Revops, I, O>,
) -> cln_plugin::Builder<Revops, I, O>
where
    I: tokio::io::AsyncRead + Send + Unpin + 'static,
    O: Send + tokio::io::AsyncWrite + Unpin + 'static,
{
    for (name, usage, description) in METHODS {
        let method = match *name {
            "revenue-status" => RpcMethodBuilder::new(name, status::status),
            "revenue-policy-list" => RpcMethodBuilder::new(name, policy::list),
            "revenue-policy-load" => RpcMethodBuilder::new(name, policy::load),
            "revenue-policy-rollback" => RpcMethodBuilder::new(name, policy::rollback),
            "revenue-policy-remove" => RpcMethodBuilder::new(name, policy::remove),
            "revenue-policy-assign" => RpcMethodBuilder::new(name, policy::assign),
            "revenue-policy-shadow" => RpcMethodBuilder::new(name, policy::shadow),
            "revenue-policy-compare" => RpcMethodBuilder::new(name, policy::compare),
            "revenue-config" => RpcMethodBuilder::new(name, config::config),
            "revenue-fee-history" => RpcMethodBuilder::new(name, fees::history),
            "revenue-run" => RpcMethodBuilder::new(name, fees::run),
            "revenue-rebalance-history" => {
                RpcMethodBuilder::new(name, rebalance::rebalance_history)
            }
            "revenue-rebalance-run" => RpcMethodBuilder::new(name, rebalance::rebalance_run),
            "revenue-dashboard" => RpcMethodBuilder::new(name, dashboard::dashboard),
            "revenue-capacity-report" => RpcMethodBuilder::new(name, capacity::capacity_report),
            "revenue-profitability" => {
                RpcMethodBuilder::new(name, profitability::profitability_report)
            }
            "revenue-lds-investor-add" => RpcMethodBuilder::new(name, lds::investor_add),
            "revenue-lds-investor-update" => RpcMethodBuilder::new(name, lds::investor_update),
            "revenue-lds-investor-remove" => RpcMethodBuilder::new(name, lds::investor_remove),
            "revenue-lds-investor-list" => RpcMethodBuilder::new(name, lds::investor_list),
            "revenue-lds-snapshot" => RpcMethodBuilder::new(name, lds::snapshot),
            "revenue-lds-solvency" => RpcMethodBuilder::new(name, lds::solvency),
            "revenue-payout-preview" => RpcMethodBuilder::new(name, payout::preview),
            "revenue-payout-run" => RpcMethodBuilder::new(name, payout::run),
            "revenue-payout-history" => RpcMethodBuilder::new(name, payout::history),
            other => unreachable!("method {other} has no handler"),
        };
        builder = builder.rpcmethod_from_builder(method.usage(usage).description(description));
    }
    builder
}

/// Runs blocking work (database, compilation) off the event loop.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| internal(format!("worker thread failed: {e}")))?
}

/// The name a unit enum serializes to (e.g. a class or a recommendation), for counting.
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn to_value<T: serde::Serialize>(value: &T) -> anyhow::Result<Value> {
    serde_json::to_value(value).map_err(internal)
}
