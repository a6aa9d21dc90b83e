//! `revenue-capacity-report`: keep / defibrillate / close / splice-out / grow per channel.

use super::{super::state::Revops, blocking, profitability::read_view, serde_name};
use crate::analytics::capacity::{MIN_DIAGNOSTIC_ATTEMPTS, advise};
use crate::plugin::params::Params;
use cln_plugin::Plugin;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub async fn capacity_report(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    Params::parse("revenue-capacity-report", raw, &[])?;
    let state = plugin.state().clone();
    let runtime = tokio::runtime::Handle::current();
    blocking(move || {
        let view = read_view(&state, &runtime, false)?;
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let channels: Vec<Value> = view
            .channels
            .iter()
            .map(|channel| {
                let advice = advise(channel, channel.diagnostic_attempts_14d);
                *counts
                    .entry(serde_name(&advice.recommendation))
                    .or_insert(0) += 1;
                json!({
                    "channel": channel.channel,
                    "peer_id": channel.peer_id,
                    "capacity_msat": channel.capacity_msat,
                    "class": channel.class,
                    "recommendation": advice.recommendation,
                    "reason": advice.reason,
                    "diagnostic_attempts_14d": channel.diagnostic_attempts_14d,
                    "probe_until": channel.probe_until,
                })
            })
            .collect();
        Ok(json!({
            "generated_at": view.now,
            "note": format!(
                "recommendations only: revops never closes a channel; close and splice-out need \
                 {MIN_DIAGNOSTIC_ATTEMPTS} diagnostic attempts in 14 days first"
            ),
            "recommendations": counts,
            "channels": channels,
        }))
    })
    .await
}
