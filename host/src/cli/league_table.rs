//! The league table: one line per fee policy over all scenarios, as text and as JSON.

use super::{
    league_stats::{self, RatioSummary},
    simulate::{signed_sat, truncate, wrap},
};
use crate::sim::{PolicyUnderTest, SimReport};
use serde::Serialize;
use serde_json::{Value, json};

/// The bootstrap's seed: fixed, so the same league gives the same intervals.
const BOOTSTRAP_SEED: u64 = 0x1EA6_0B00;

#[derive(Clone, Debug, Serialize)]
pub struct LeagueTable {
    pub family: String,
    pub seeds: Vec<u64>,
    pub rebalancer: Option<String>,
    /// Sorted by median ratio, best first (policies without a ratio last).
    pub policies: Vec<PolicyLine>,
    pub scenarios: Vec<ScenarioLine>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PolicyLine {
    pub policy: String,
    /// Net relative to the best other policy on each scenario: median, mean, 90 % interval,
    /// wins and ties.
    #[serde(flatten)]
    pub ratios: RatioSummary,
    pub median_net_msat: i64,
    pub mean_net_msat: i64,
    /// Mean over scenarios of fee broadcasts per channel per day.
    pub broadcasts_per_channel_day: f64,
    /// Rebalancing fees paid over all scenarios, and revenue over all scenarios.
    pub rebalance_spend_msat: u64,
    pub revenue_msat: u64,
    /// `rebalance_spend_msat / revenue_msat` (none without revenue).
    pub spend_per_revenue: Option<f64>,
    /// Mean over scenarios of forwards we could not make.
    pub failed_forwards_mean: f64,
    /// Cycles, over all scenarios, in which the policy produced no decision.
    pub policy_errors: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScenarioLine {
    pub scenario: String,
    pub seed: u64,
    pub channels: usize,
    pub days: u32,
    /// Net per policy, in the order of `LeagueTable::policies`' source (the run order).
    pub net_msat: Vec<i64>,
    /// The policy with the highest net (first of equals).
    pub best: String,
}

/// Builds the table from `reports[scenario][policy]`.
pub fn build(
    family: &str,
    seeds: &[u64],
    reports: &[Vec<SimReport>],
    rebalancer: Option<&PolicyUnderTest>,
) -> LeagueTable {
    let nets: Vec<Vec<i64>> = reports
        .iter()
        .map(|row| row.iter().map(|r| r.net_msat).collect())
        .collect();
    let standings = league_stats::standings(&nets);
    let count = reports.first().map_or(0, Vec::len);
    let scenario_count = reports.len().max(1) as f64;
    let mut policies: Vec<PolicyLine> = (0..count)
        .map(|p| {
            let column: Vec<&SimReport> = reports.iter().map(|row| &row[p]).collect();
            let column_nets: Vec<f64> = column.iter().map(|r| r.net_msat as f64).collect();
            let revenue: u64 = column.iter().map(|r| r.revenue_msat).sum();
            let spend: u64 = column.iter().map(|r| r.rebalance_fees_msat).sum();
            PolicyLine {
                policy: column
                    .first()
                    .map_or_else(String::new, |r| r.policy.clone()),
                ratios: league_stats::summarize(&standings, p, BOOTSTRAP_SEED ^ p as u64),
                median_net_msat: league_stats::median(&column_nets).unwrap_or(0.0).round() as i64,
                mean_net_msat: league_stats::mean(&column_nets).unwrap_or(0.0).round() as i64,
                broadcasts_per_channel_day: round4(
                    column
                        .iter()
                        .map(|r| r.broadcasts_per_channel_day)
                        .sum::<f64>()
                        / scenario_count,
                ),
                rebalance_spend_msat: spend,
                revenue_msat: revenue,
                spend_per_revenue: (revenue > 0).then(|| round4(spend as f64 / revenue as f64)),
                failed_forwards_mean: round4(
                    column
                        .iter()
                        .map(|r| r.forwards_failed_local as f64)
                        .sum::<f64>()
                        / scenario_count,
                ),
                policy_errors: column.iter().map(|r| r.policy_errors).sum(),
            }
        })
        .collect();
    policies.sort_by(|a, b| {
        let key = |line: &PolicyLine| line.ratios.median_ratio.unwrap_or(f64::NEG_INFINITY);
        key(b).total_cmp(&key(a))
    });
    let scenarios = reports
        .iter()
        .zip(&nets)
        .map(|(row, nets)| {
            let first = &row[0];
            let best = row
                .iter()
                .max_by_key(|r| (r.net_msat, std::cmp::Reverse(r.policy.clone())))
                .map_or_else(String::new, |r| r.policy.clone());
            ScenarioLine {
                scenario: first.scenario.clone(),
                seed: first.seed,
                channels: first.channels,
                days: first.days,
                net_msat: nets.clone(),
                best,
            }
        })
        .collect();
    LeagueTable {
        family: family.to_owned(),
        seeds: seeds.to_vec(),
        rebalancer: rebalancer.map(|r| r.label.clone()),
        policies,
        scenarios,
    }
}

impl LeagueTable {
    /// Everything: the table, and every report (`reports[scenario][policy]`).
    pub fn to_json(&self, reports: &[Vec<SimReport>]) -> Value {
        json!({ "league": self, "reports": reports })
    }
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

pub fn print(table: &LeagueTable) {
    println!(
        "league — {} scenarios, {} fee policies{}",
        table.scenarios.len(),
        table.policies.len(),
        table
            .rebalancer
            .as_ref()
            .map_or_else(String::new, |r| format!(", rebalancing with {r}"))
    );
    println!();
    println!(
        "{:<26} {:>7} {:>15} {:>7} {:>5} {:>5} {:>12} {:>10} {:>10} {:>9}",
        "policy",
        "median",
        "90 % interval",
        "mean",
        "wins",
        "ties",
        "median net",
        "bcast/ch/d",
        "rebal/rev",
        "failed"
    );
    for line in &table.policies {
        let interval = line
            .ratios
            .median_ratio_interval
            .map_or_else(|| "n/a".to_owned(), |(lo, hi)| format!("{lo:.3}–{hi:.3}"));
        let spend = line
            .spend_per_revenue
            .map_or_else(|| "n/a".to_owned(), |s| format!("{:.1} %", s * 100.0));
        println!(
            "{:<26} {:>7} {:>15} {:>7} {:>5} {:>5} {:>12} {:>10.2} {:>10} {:>9.1}",
            truncate(&line.policy, 26),
            ratio(line.ratios.median_ratio),
            interval,
            ratio(line.ratios.mean_ratio),
            line.ratios.wins,
            line.ratios.ties,
            signed_sat(line.median_net_msat),
            line.broadcasts_per_channel_day,
            spend,
            line.failed_forwards_mean
        );
    }
    println!();
    for text in LEGEND {
        println!("{}", wrap(text, 100, ""));
    }
    for line in table.policies.iter().filter(|l| l.policy_errors > 0) {
        println!(
            "warning: {} failed to decide in {} cycles",
            line.policy, line.policy_errors
        );
    }
}

const LEGEND: &[&str] = &[
    "median, mean = the policy's net (revenue minus rebalancing and on-chain fees) divided by the best net of \
     the other policies on the same scenario, over the scenarios where that best is positive; \
     above 1 beats every other policy.",
    "90 % interval = bootstrap interval of the median (2,000 seeded resamples of the scenarios).",
    "wins = scenarios where the policy's net is above every other's; ties = level with the best.",
    "median net = the policy's median net in sat; bcast/ch/d = fee broadcasts per channel per \
     day (mean); rebal/rev = rebalancing fees over revenue, all scenarios; failed = forwards \
     we could not make per scenario (mean).",
];
