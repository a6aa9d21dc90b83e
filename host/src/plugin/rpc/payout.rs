//! `revenue-payout-preview`, `revenue-payout-run` and `revenue-payout-history`.

use super::{
    super::state::{Revops, unix_now},
    blocking,
    lds::lds_error,
    to_value,
};
use crate::{
    payout::Period,
    plugin::{
        errors::{LNBITS_FAILED, internal, invalid_params, rpc_error},
        params::Params,
    },
};
use cln_plugin::Plugin;
use serde_json::{Value, json};

const DEFAULT_HISTORY: u32 = 12;

/// The period a payout is for: the caller's (`YYYY-MM`), or the current UTC month. Whether
/// the month may be paid (not ahead, not before the first investor) is the payout's check.
fn period_param(params: &Params) -> anyhow::Result<String> {
    match params.optional_str("period")? {
        Some(text) => Period::parse(text)
            .map(|p| p.to_string())
            .map_err(invalid_params),
        None => Ok(Period::of_unix(unix_now()).to_string()),
    }
}

/// `revenue-payout-preview [period]`: every line a run would pay now; nothing is sent.
pub async fn preview(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-payout-preview", raw, &["period"])?;
    let period = period_param(&params)?;
    let state = plugin.state().clone();
    let runtime = tokio::runtime::Handle::current();
    blocking(move || {
        if let Some(run) = state.store().payout_run(&period).map_err(internal)? {
            return Ok(json!({
                "period": period,
                "note": "this period already has a run; revenue-payout-run continues it if unfinished",
                "run": to_value(&run)?,
            }));
        }
        let plan = state
            .payout_preview_blocking(&runtime, &period)
            .map_err(lds_error)?;
        to_value(&plan)
    })
    .await
}

/// `revenue-payout-run [period]`: pays the period once; a rerun continues an unfinished run.
pub async fn run(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-payout-run", raw, &["period"])?;
    let period = period_param(&params)?;
    let state = plugin.state().clone();
    let runtime = tokio::runtime::Handle::current();
    blocking(move || {
        let outcome = state
            .payout_run_blocking(&runtime, &period)
            .map_err(lds_error)?;
        if let Some(why) = &outcome.stopped {
            let paid: Vec<&str> = outcome.paid_now.iter().map(|(id, _)| id.as_str()).collect();
            return Err(rpc_error(
                LNBITS_FAILED,
                format!(
                    "payout {period} stopped at {why}; paid now: [{}]; the run is recorded: \
                     revenue-payout-run {period} again continues it without paying anyone twice",
                    paid.join(", ")
                ),
            ));
        }
        to_value(&outcome)
    })
    .await
}

/// `revenue-payout-history [limit]`
pub async fn history(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-payout-history", raw, &["limit"])?;
    let limit = params.optional_u32("limit")?.unwrap_or(DEFAULT_HISTORY);
    let state = plugin.state().clone();
    blocking(move || {
        let runs = state.store().payout_runs(limit).map_err(internal)?;
        Ok(json!({ "runs": to_value(&runs)? }))
    })
    .await
}
