//! `revenue-dashboard`: the node at a glance — what it is worth if closed today, what it
//! earned and spent, return on capacity, the channels losing money, and what needs attention.

use super::{
    super::state::Revops,
    blocking,
    profitability::{class_counts, read_view, totals},
    to_value,
};
use crate::{
    analytics::profitability::{ChannelProfitability, annualised_bp},
    model::ProfitabilityClass,
    money::Msat,
    plugin::{errors::internal, params::Params},
};
use cln_plugin::Plugin;
use serde_json::{Value, json};

/// Rebalance spend above this share of a week's revenue is worth a warning (spec budget: 30 %).
const SPEND_WARNING_PCT: u64 = 30;

pub async fn dashboard(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    Params::parse("revenue-dashboard", raw, &[])?;
    let state = plugin.state().clone();
    let runtime = tokio::runtime::Handle::current();
    blocking(move || {
        let view = read_view(&state, &runtime, true)?;
        let funds = view.funds.ok_or_else(|| internal("funds were not read"))?;
        let channels = &view.channels;
        let local = Msat::checked_sum(channels.iter().map(|c| Msat::new(c.local_msat)))
            .unwrap_or(Msat::MAX);
        let capacity = Msat::checked_sum(channels.iter().map(|c| Msat::new(c.capacity_msat)))
            .unwrap_or(Msat::MAX);
        let liquidating = funds
            .onchain_confirmed
            .checked_add(local)
            .unwrap_or(Msat::MAX);
        let periods: Vec<Value> = totals(channels)
            .into_iter()
            .map(|t| {
                let margin_pct = (t.fees_earned_msat > 0)
                    .then(|| i128::from(t.net_msat) * 100 / i128::from(t.fees_earned_msat));
                let return_bp = annualised_bp(i128::from(t.net_msat), capacity, t.days);
                json!({
                    "days": t.days,
                    "forwards": t.forwards,
                    "fees_earned_msat": t.fees_earned_msat,
                    "rebalance_costs_msat": t.rebalance_costs_msat,
                    "net_profit_msat": t.net_msat,
                    "operating_margin_pct": margin_pct.map(|m| m as i64),
                    "annualised_return_on_capacity_bp": return_bp,
                })
            })
            .collect();
        let bleeders: Vec<Value> = channels
            .iter()
            .filter(|c| c.class == ProfitabilityClass::Bleeder)
            .map(|c| {
                json!({
                    "channel": c.channel,
                    "peer_id": c.peer_id,
                    "net_30d_msat": c.windows[2].net_msat,
                    "reason": c.class_reason,
                })
            })
            .collect();
        Ok(json!({
            "generated_at": view.now,
            "liquidating_value_msat": liquidating.msat(),
            "onchain_msat": funds.onchain_confirmed.msat(),
            "channels_local_msat": local.msat(),
            "capacity_msat": capacity.msat(),
            "channels": channels.len(),
            "periods": periods,
            "classes": class_counts(channels),
            "bleeders": bleeders,
            "warnings": to_value(&warnings(&state, channels))?,
        }))
    })
    .await
}

/// What an operator should look at, most serious first.
fn warnings(state: &Revops, channels: &[ChannelProfitability]) -> Vec<String> {
    let mut out = Vec::new();
    for slot in state.registry.status() {
        if let Some(quarantined) = &slot.quarantined {
            out.push(format!(
                "{} policy {quarantined} in slot {} is quarantined ({}): see revenue-policy-list",
                slot.kind, slot.slot, slot.state
            ));
        }
    }
    if let Some(error) = state.last_cycle_error() {
        out.push(format!("the last cycle failed: {error}"));
    }
    let named = |class: ProfitabilityClass| -> Vec<String> {
        channels
            .iter()
            .filter(|c| c.class == class)
            .map(|c| c.channel.to_string())
            .collect()
    };
    let bleeders = named(ProfitabilityClass::Bleeder);
    if !bleeders.is_empty() {
        out.push(format!(
            "{} channel(s) cost more in rebalancing than they earn, this week and this month: {}",
            bleeders.len(),
            bleeders.join(", ")
        ));
    }
    let underwater = named(ProfitabilityClass::Underwater);
    if !underwater.is_empty() {
        out.push(format!(
            "{} channel(s) lost money over 30 days: {}",
            underwater.len(),
            underwater.join(", ")
        ));
    }
    let stagnant = named(ProfitabilityClass::StagnantCandidate);
    if !stagnant.is_empty() {
        out.push(format!(
            "{} channel(s) open a week or more with no forward in 7 days: {}",
            stagnant.len(),
            stagnant.join(", ")
        ));
    }
    let week = &totals(channels)[1];
    if week.rebalance_costs_msat.saturating_mul(100)
        > week.fees_earned_msat.saturating_mul(SPEND_WARNING_PCT)
    {
        out.push(format!(
            "rebalancing cost {} msat in 7 days, more than {SPEND_WARNING_PCT} % of the {} msat earned",
            week.rebalance_costs_msat, week.fees_earned_msat
        ));
    }
    out
}
