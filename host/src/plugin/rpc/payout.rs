//! `revenue-payout-preview`, `revenue-payout-run` and `revenue-payout-history`.

use super::{
    super::state::{Revops, unix_now},
    blocking,
    lds::{check_name, lds_error},
    to_value,
};
use crate::plugin::{
    errors::{LNBITS_FAILED, internal, rpc_error},
    params::Params,
};
use cln_plugin::Plugin;
use serde_json::{Value, json};

const DEFAULT_HISTORY: u32 = 12;

/// The period a payout is for: the caller's, or the current UTC month (`2026-11`).
fn period_param(params: &Params) -> anyhow::Result<String> {
    let period = match params.optional_str("period")? {
        Some(period) => period.to_owned(),
        None => current_month(),
    };
    check_name("period", &period)?;
    Ok(period)
}

fn current_month() -> String {
    let (year, month) = year_month(unix_now() / 86_400);
    format!("{year:04}-{month:02}")
}

/// (year, month) of a day count since 1970-01-01: the civil-from-days formula of Howard
/// Hinnant's "chrono-Compatible Low-Level Date Algorithms".
fn year_month(days: u64) -> (u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_from_day_counts() {
        assert_eq!(year_month(0), (1970, 1));
        // 2026-11-24 is day 20,781; 2024-02-29 is day 19,782; 2000-03-01 is day 11,017.
        assert_eq!(year_month(20_781), (2026, 11));
        assert_eq!(year_month(19_782), (2024, 2));
        assert_eq!(year_month(11_017), (2000, 3));
        assert_eq!(year_month(11_016), (2000, 2));
    }
}
