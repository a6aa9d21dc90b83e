//! Issue 14: protective prices follow their cause. A 30-minute whale hold is priced from the
//! first cycle that sees it and left in the first cycle after its release — past the daily
//! broadcast cap — while a dust flood of the same slots is not congestion at all.

use revops::{
    config::ConfigSnapshot,
    embedded,
    runtime::{PolicySource, Sandbox},
    sim::{PolicyUnderTest, Scenario, SimReport, simulate},
};

const CYCLE_SECS: u64 = 600;

/// Two channels: a 30-slot one that gets flooded through, and one the flood enters by.
fn flooded(count: u32, amount_sat: u64) -> Scenario {
    let text = format!(
        r#"
name = "whale-hold"
days = 2
seed = 7
[market]
payments-per-channel-day = 4.0
amount-sat-min = 10000
amount-sat-max = 200000
elasticity = 2.5
hold-secs-min = 2
hold-secs-max = 30
[feerate]
base-perkb = 2000
[generate]
count = 2
capacity-sat = [10000000]
competitor-ppm-min = 300
competitor-ppm-max = 300
fee-ppm = 300
[[channel]]
label = "jammed"
capacity-sat = 20000000
local-share = 0.9
out-weight = 1.0
in-weight = 0.0
competitor-ppm = 300
max-accepted-htlcs = 30
[[channel]]
label = "entry"
capacity-sat = 20000000
local-share = 0.1
out-weight = 0.0
in-weight = 1.0
competitor-ppm = 300
[[event]]
kind = "htlc-flood"
channel = 0
start-day = 1.0
hours = 0.5
count = {count}
amount-sat = {amount_sat}
"#
    );
    toml::from_str(&text).unwrap()
}

fn run(scenario: &Scenario) -> SimReport {
    let policy = PolicyUnderTest {
        label: "one-percent".into(),
        wasm: embedded::shipped("one-percent").unwrap().wasm.to_vec(),
        source: PolicySource::Embedded("one-percent".into()),
        params: Default::default(),
    };
    simulate(
        scenario,
        None,
        &policy,
        None,
        &Sandbox::new(None).unwrap(),
        &mut |_, _| {},
    )
    .unwrap()
}

/// The jammed channel's fee after the cycle at `start + day + minutes`.
fn fee_at(report: &SimReport, scenario: &Scenario, minutes_after_day_one: u64) -> u32 {
    let at = scenario.start + 86_400 + minutes_after_day_one * 60;
    let index = report
        .series
        .at_secs
        .iter()
        .position(|&t| t == at)
        .unwrap_or_else(|| panic!("no sample at {at}: every cycle is sampled on a 2-day run"));
    report.series.tracked[0].fee_ppm[index]
}

#[test]
fn a_short_whale_hold_is_priced_and_left_with_its_cause() {
    let scenario = flooded(6, 1_000_000);
    let report = run(&scenario);
    let ceiling = ConfigSnapshot::default().fee.max_ppm.ppm();
    assert_eq!(
        report.series.at_secs[1] - report.series.at_secs[0],
        CYCLE_SECS
    );
    let before = fee_at(&report, &scenario, 0);
    assert!(before < ceiling, "{before}");
    // The HTLCs arrive right after the cycle at day 1; the next cycle prices them.
    assert_eq!(
        fee_at(&report, &scenario, 10),
        ceiling,
        "congestion at once"
    );
    assert_eq!(fee_at(&report, &scenario, 20), ceiling);
    // Released 30 minutes in: the cycle at 30 minutes leaves congestion.
    let after = fee_at(&report, &scenario, 30);
    assert!(
        after < ceiling,
        "left within one cycle of the release: {after}"
    );
}

#[test]
fn a_dust_flood_of_every_slot_is_not_congestion() {
    let scenario = flooded(30, 1_000);
    let report = run(&scenario);
    let ceiling = ConfigSnapshot::default().fee.max_ppm.ppm();
    for minutes in [10, 20] {
        assert!(fee_at(&report, &scenario, minutes) < ceiling, "{minutes}");
    }
}
