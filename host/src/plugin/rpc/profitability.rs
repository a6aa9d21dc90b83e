//! `revenue-profitability [channel]`: which channels make money, over 1, 7 and 30 days.

use super::{super::state::Revops, blocking, to_value};
use crate::{
    analytics::profitability::{ChannelProfitability, WINDOW_DAYS, profitability},
    node::Node,
    plugin::{
        errors::{CYCLE_FAILED, NOT_FOUND, internal, invalid_params, rpc_error},
        params::Params,
    },
    scid::ShortChannelId,
};
use cln_plugin::Plugin;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const DAY_SECS: u64 = 86_400;

pub async fn profitability_report(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-profitability", raw, &["channel"])?;
    let channel = params
        .optional_str("channel")?
        .map(str::parse::<ShortChannelId>)
        .transpose()
        .map_err(invalid_params)?;
    let state = plugin.state().clone();
    let runtime = tokio::runtime::Handle::current();
    blocking(move || {
        let node = state
            .connect(&runtime)
            .map_err(|e| rpc_error(CYCLE_FAILED, e))?;
        let info = node.info().map_err(|e| rpc_error(CYCLE_FAILED, e))?;
        let channels = node.channels().map_err(|e| rpc_error(CYCLE_FAILED, e))?;
        let now = node.now_secs();
        let store = state.store();
        let mut activity = [BTreeMap::new(), BTreeMap::new(), BTreeMap::new()];
        for (window, days) in activity.iter_mut().zip(WINDOW_DAYS) {
            *window = store
                .channel_activity_since(now.saturating_sub(days * DAY_SECS))
                .map_err(internal)?;
        }
        drop(store);
        let mut report = profitability(&channels, info.blockheight, &activity);
        if let Some(wanted) = channel {
            report.retain(|c| c.channel == wanted);
            if report.is_empty() {
                return Err(rpc_error(
                    NOT_FOUND,
                    format!("no channel {wanted} (see lightning-cli listpeerchannels)"),
                ));
            }
        }
        Ok(json!({
            "generated_at": now,
            "window_days": WINDOW_DAYS,
            "totals": totals(&report),
            "classes": class_counts(&report),
            "channels": to_value(&report)?,
        }))
    })
    .await
}

/// Node-wide sums per window: fees earned, rebalance costs, net.
fn totals(report: &[ChannelProfitability]) -> Vec<Value> {
    (0..WINDOW_DAYS.len())
        .map(|i| {
            let sum = |pick: fn(&crate::analytics::profitability::WindowFigures) -> i128| {
                report.iter().map(|c| pick(&c.windows[i])).sum::<i128>()
            };
            json!({
                "days": WINDOW_DAYS[i],
                "fees_earned_msat": sum(|w| i128::from(w.fees_earned_msat)),
                "rebalance_costs_msat": sum(|w| i128::from(w.rebalance_costs_msat)),
                "net_msat": sum(|w| i128::from(w.net_msat)),
                "forwards": sum(|w| i128::from(w.forwards_out)),
            })
        })
        .collect()
}

fn class_counts(report: &[ChannelProfitability]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for c in report {
        let name = serde_json::to_value(c.class)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}
