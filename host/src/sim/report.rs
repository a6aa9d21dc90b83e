//! What a simulation run produced. Everything here is a pure function of scenario, seed and
//! policy: no wall-clock times, so the JSON of two runs with the same seed is identical.

use crate::{cycle::VerdictCounts, model::ProfitabilityClass, scid::ShortChannelId};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimReport {
    pub policy: String,
    pub scenario: String,
    pub seed: u64,
    pub days: u32,
    pub channels: usize,
    pub cycles: u64,
    pub revenue_msat: u64,
    /// Rebalancing fees plus on-chain fees of the channels opened and closed during the run.
    pub costs_msat: u64,
    /// Rebalancing fees paid (zero without a rebalance policy).
    pub rebalance_fees_msat: u64,
    /// On-chain fees of the scenario's channel opens and closes.
    pub onchain_fees_msat: u64,
    pub net_msat: i64,
    /// The rebalance policy that ran beside the fee policy, if any.
    pub rebalancer: Option<String>,
    pub rebalances_sent: u64,
    pub rebalances_completed: u64,
    pub defibrillator: DefibrillatorSummary,
    pub forwards_settled: u64,
    pub forwards_failed_local: u64,
    pub forwards_failed_downstream: u64,
    pub lost_to_competitors: u64,
    pub lost_no_inbound: u64,
    pub fee_broadcasts: u64,
    pub broadcasts_per_channel_day: f64,
    pub verdicts: VerdictCounts,
    /// Cycles in which the policy produced no decision (trap, refusal, bad output).
    pub policy_errors: u64,
    pub final_local_share_mean: f64,
    /// Channels with less than 10 % of their capacity on our side at the end.
    pub depleted_channels: usize,
    /// Channels with more than 90 % on our side at the end.
    pub full_channels: usize,
    pub channel_details: Vec<ChannelSummary>,
    pub series: Series,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelSummary {
    pub channel: ShortChannelId,
    pub label: String,
    pub final_fee_ppm: u32,
    pub final_local_share: f64,
    pub broadcasts: u32,
    /// The profitability class at the end of the run.
    pub final_class: ProfitabilityClass,
}

/// What the channel defibrillator did over the run (spec: channel defibrillator). A channel
/// is tested only where the fee policy priced its probe at zero; diagnostics, probes and
/// zombies count there alone, and what was opened but never priced at zero is counted apart.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DefibrillatorSummary {
    /// Diagnostic rebalances to channels whose probe was priced at zero.
    pub diagnostics_sent: u64,
    pub diagnostics_completed: u64,
    /// Diagnostic rebalances to channels whose probe the fee policy never priced at zero.
    pub diagnostics_untested: u64,
    /// Probes during which the channel's fee actually stood at zero.
    pub probes: u64,
    /// Of those, probes that ended because the channel routed.
    pub probes_routed: u64,
    /// Probes opened that the fee policy never priced at zero.
    pub probes_unpriced: u64,
    /// Labels of the channels classed stagnant candidates at the end.
    pub stagnant: Vec<String>,
    /// Zombies at the end whose probe was priced at zero.
    pub zombies: Vec<String>,
    /// Classed zombie by the rule, but never probed at zero fee: not a tested verdict.
    pub untested_zombies: Vec<String>,
}

/// Sampled over the run, for charts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Series {
    pub at_secs: Vec<u64>,
    pub cumulative_revenue_msat: Vec<u64>,
    pub cumulative_broadcasts: Vec<u64>,
    pub cumulative_failed_forwards: Vec<u64>,
    /// Mean fee and mean local share over all channels.
    pub mean_fee_ppm: Vec<u64>,
    pub mean_local_share: Vec<f64>,
    pub tracked: Vec<TrackedChannel>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrackedChannel {
    pub channel: ShortChannelId,
    pub label: String,
    pub fee_ppm: Vec<u32>,
    pub local_share: Vec<f64>,
}

/// Rounds a ratio for reports (4 decimals are plenty, and keep JSON readable).
pub(super) fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}
