//! Whole simulations: determinism, clamping of absurd policies, decisions actually made.

use revops::{
    embedded,
    runtime::{PolicySource, Sandbox},
    sim::{PolicyUnderTest, Scenario, SimReport, simulate},
};
use serde_json::{Value, json};

fn run(policy: &str, params: Value, days: u32, seed: u64) -> SimReport {
    let mut scenario = Scenario::builtin("default").unwrap();
    scenario.days = days;
    scenario.seed = seed;
    let under_test = PolicyUnderTest {
        label: policy.into(),
        wasm: embedded::shipped(policy).unwrap().wasm.to_vec(),
        source: PolicySource::Embedded(policy.into()),
        params: serde_json::from_value(params).unwrap(),
    };
    simulate(
        &scenario,
        None,
        &under_test,
        None,
        &Sandbox::new(None).unwrap(),
        &mut |_, _| {},
    )
    .unwrap()
}

#[test]
fn same_seed_same_report() {
    let a = run("balance-curve", json!({}), 2, 5);
    let b = run("balance-curve", json!({}), 2, 5);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    let c = run("balance-curve", json!({}), 2, 6);
    assert_ne!(
        a.revenue_msat, c.revenue_msat,
        "another seed, another market"
    );
}

#[test]
fn the_default_scenario_sees_decisions_made() {
    let report = run("balance-curve", json!({}), 2, 1);
    assert!(report.fee_broadcasts > 0);
    assert!(report.verdicts.applied + report.verdicts.clamped > 0);
    assert!(report.forwards_settled > 0 && report.revenue_msat > 0);
    assert_eq!(report.policy_errors, 0);
}

#[test]
fn absurd_fees_end_clamped_never_executed_as_asked() {
    let report = run("static", json!({ "fee-ppm": 50000 }), 2, 1);
    assert!(report.verdicts.clamped > 0);
    for channel in &report.channel_details {
        assert!(channel.final_fee_ppm <= 2500, "{channel:?}");
    }
    for tracked in &report.series.tracked {
        assert!(tracked.fee_ppm.iter().all(|&f| f <= 2500));
    }
}

#[test]
fn broadcasts_respect_the_daily_cap() {
    let report = run("balance-curve", json!({ "exponent": 0.25 }), 3, 1);
    for channel in &report.channel_details {
        assert!(channel.broadcasts <= 4 * 3, "{channel:?}");
    }
}

/// `days` of the default scenario with one-percent fees and rebalance-ev, rebalances failing
/// in the network at `fail_rate`.
fn run_with_rebalancing(days: u32, fail_rate: f64) -> SimReport {
    let mut scenario = Scenario::builtin("default").unwrap();
    scenario.days = days;
    scenario.market.rebalance_fail_rate = fail_rate;
    let embedded = |name: &str| PolicyUnderTest {
        label: name.into(),
        wasm: embedded::shipped(name).unwrap().wasm.to_vec(),
        source: PolicySource::Embedded(name.into()),
        params: Default::default(),
    };
    simulate(
        &scenario,
        None,
        &embedded("one-percent"),
        Some(&embedded("rebalance-ev")),
        &Sandbox::new(None).unwrap(),
        &mut |_, _| {},
    )
    .unwrap()
}

#[test]
fn rebalances_cost_what_they_paid_and_failures_cost_nothing() {
    let paid = run_with_rebalancing(4, 0.0);
    assert!(paid.rebalances_sent > 0, "{paid:?}");
    assert_eq!(paid.rebalances_completed, paid.rebalances_sent);
    assert!(paid.costs_msat > 0);
    assert_eq!(
        paid.net_msat,
        paid.revenue_msat as i64 - paid.costs_msat as i64
    );

    let failing = run_with_rebalancing(4, 1.0);
    assert!(failing.rebalances_sent > 0, "{failing:?}");
    assert_eq!(failing.rebalances_completed, 0);
    assert_eq!(failing.costs_msat, 0, "a failed payment pays no fee");
}

#[test]
fn hourly_timeseries_has_a_row_per_channel_and_hour_that_adds_up() {
    use revops::sim::{SimOptions, simulate_with};
    let mut scenario = Scenario::builtin("default").unwrap();
    scenario.days = 1;
    let policy = PolicyUnderTest {
        label: "balance-curve".into(),
        wasm: embedded::shipped("balance-curve").unwrap().wasm.to_vec(),
        source: PolicySource::Embedded("balance-curve".into()),
        params: Default::default(),
    };
    let run = simulate_with(
        &scenario,
        Some(6),
        &policy,
        None,
        &Sandbox::new(None).unwrap(),
        SimOptions { hourly: true },
        &mut |_, _| {},
    )
    .unwrap();
    let series = run.timeseries.expect("asked for");
    assert_eq!(series.channels.len(), 6);
    assert_eq!(series.rows.len(), 6 * 24);
    let hours: Vec<u64> = series
        .rows
        .iter()
        .map(|r| (r.at_secs - scenario.start) / 3600)
        .collect();
    assert_eq!(hours.first(), Some(&1));
    assert_eq!(hours.last(), Some(&24));
    let revenue: u64 = series.rows.iter().map(|r| r.revenue_msat).sum();
    assert_eq!(revenue, run.report.revenue_msat, "hourly revenue adds up");
    let broadcasts: u64 = series.rows.iter().map(|r| u64::from(r.broadcasts)).sum();
    assert_eq!(broadcasts, run.report.fee_broadcasts);
    let failed: u64 = series.rows.iter().map(|r| r.failed_forwards).sum();
    assert_eq!(failed, run.report.forwards_failed_local);
    assert!(series.rows.iter().any(|r| r.mode.is_some()));
    // Without asking, no timeseries, and the same report.
    let plain = simulate(
        &scenario,
        Some(6),
        &policy,
        None,
        &Sandbox::new(None).unwrap(),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(plain, run.report);
}
