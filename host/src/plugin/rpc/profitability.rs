//! `revenue-profitability [channel]`: which channels make money, over 1, 7 and 30 days.

use super::{super::state::Revops, blocking, serde_name, to_value};
use crate::{
    analytics::profitability::{
        ChannelProfitability, WINDOW_DAYS, WindowFigures, open_costs, profitability,
    },
    node::{Funds, Node},
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

/// The per-channel report and what the node holds, read in one go.
pub(super) struct ProfitabilityView {
    pub now: u64,
    pub funds: Option<Funds>,
    pub channels: Vec<ChannelProfitability>,
}

/// Reads lightningd's channels (and funds, if `with_funds`) and the ledgers' totals.
pub(super) fn read_view(
    state: &Revops,
    runtime: &tokio::runtime::Handle,
    with_funds: bool,
) -> anyhow::Result<ProfitabilityView> {
    let node = state
        .connect(runtime)
        .map_err(|e| rpc_error(CYCLE_FAILED, e))?;
    let lightningd = |e: crate::node::NodeError| rpc_error(CYCLE_FAILED, e);
    let info = node.info().map_err(lightningd)?;
    let channels = node.channels().map_err(lightningd)?;
    let funds = with_funds
        .then(|| node.funds())
        .transpose()
        .map_err(lightningd)?;
    let now = node.now_secs();
    let activity = state
        .store()
        .channel_activity_windows(WINDOW_DAYS.map(|days| now.saturating_sub(days * DAY_SECS)))
        .map_err(internal)?;
    let mut defib = state.store().channel_history(now).map_err(internal)?;
    // Open costs come from the bookkeeper plugin; without it they stay unknown.
    defib.open_costs = node
        .onchain_fees(0)
        .map_err(lightningd)?
        .map(|fees| open_costs(&channels, &fees));
    Ok(ProfitabilityView {
        now,
        funds,
        channels: profitability(&channels, info.blockheight, &activity, &defib),
    })
}

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
        let mut view = read_view(&state, &runtime, false)?;
        if let Some(wanted) = channel {
            view.channels.retain(|c| c.channel == wanted);
            if view.channels.is_empty() {
                return Err(rpc_error(
                    NOT_FOUND,
                    format!("no channel {wanted} (see lightning-cli listpeerchannels)"),
                ));
            }
        }
        Ok(json!({
            "generated_at": view.now,
            "window_days": WINDOW_DAYS,
            "totals": to_value(&totals(&view.channels))?,
            "classes": class_counts(&view.channels),
            "channels": to_value(&view.channels)?,
        }))
    })
    .await
}

/// Node-wide sums for one window.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub(super) struct WindowTotals {
    pub days: u64,
    pub forwards: u64,
    pub fees_earned_msat: u64,
    pub rebalance_costs_msat: u64,
    pub net_msat: i64,
}

pub(super) fn totals(channels: &[ChannelProfitability]) -> Vec<WindowTotals> {
    (0..WINDOW_DAYS.len())
        .map(|i| {
            let windows = || channels.iter().map(|c| &c.windows[i]);
            let sum = |pick: fn(&WindowFigures) -> u64| {
                windows().fold(0u64, |acc, w| acc.saturating_add(pick(w)))
            };
            WindowTotals {
                days: WINDOW_DAYS[i],
                forwards: sum(|w| w.forwards_out),
                fees_earned_msat: sum(|w| w.fees_earned_msat),
                rebalance_costs_msat: sum(|w| w.rebalance_costs_msat),
                net_msat: windows().fold(0i64, |acc, w| acc.saturating_add(w.net_msat)),
            }
        })
        .collect()
}

pub(super) fn class_counts(channels: &[ChannelProfitability]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for c in channels {
        *counts.entry(serde_name(&c.class)).or_insert(0) += 1;
    }
    counts
}
