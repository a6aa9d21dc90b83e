//! The channel defibrillator end to end on the simulated node: a dead channel gets two
//! diagnostic rebalances and zero-fee probes, then is confirmed a zombie and only then
//! recommended for closing; a drained channel that senders still try is refilled on that
//! failed-forward demand.

use super::*;
use revops::{
    analytics::{
        capacity::{Recommendation, advise},
        defibrillator::PROBE_SECS,
        profitability::{ChannelProfitability, WINDOW_DAYS, profitability},
    },
    cycle::{RebalanceCycleReport, ingest_forwards, run_rebalance_cycle},
    guards::rebalance::RebalanceVerdict,
    model::{ProfitabilityClass, RebalanceKind, sample::SAMPLE_NOW_SECS},
    money::Ppm,
    rebalance::RebalanceOutcome,
    scid::ShortChannelId,
};

const HOUR: u64 = 3600;

/// popular-sink, source, dead, one-way-out, routing-a and drained; no events.
fn bench() -> Bench {
    let mut bench = Bench::new("one-percent", no_params());
    let mut scenario = Scenario::builtin("default").unwrap();
    let drained = scenario
        .channels
        .iter()
        .position(|c| c.label == "drained")
        .expect("the default scenario has a drained channel");
    scenario.channels.swap(5, drained);
    scenario.events.clear();
    bench.node.inner = SimNetwork::new(&scenario, Some(6));
    bench.load_shipped_rebalancer("rebalance-ev");
    bench
}

fn channel(bench: &Bench, label: &str) -> ShortChannelId {
    let labels = bench.node.inner.labels();
    let index = labels.iter().position(|l| l == label).unwrap();
    bench.node.inner.channel_ids()[index]
}

/// Every hour: ingest, a rebalance cycle, a fee cycle. Returns the rebalance reports.
fn run_hours(bench: &mut Bench, hours: std::ops::Range<u64>) -> Vec<(u64, RebalanceCycleReport)> {
    let config = ConfigSnapshot::default();
    let mut reports = Vec::new();
    for hour in hours {
        bench.node.inner.advance_to(SAMPLE_NOW_SECS + hour * HOUR);
        let mut deps = CycleDeps {
            node: &mut bench.node,
            store: &mut bench.store,
            registry: &bench.registry,
            flows: &mut bench.flows,
        };
        ingest_forwards(deps.node, deps.store, deps.flows).unwrap();
        let report = run_rebalance_cycle(&mut deps, &config, "main", hour, false).unwrap();
        run_fee_cycle(&mut deps, &config, "main", hour, false).unwrap();
        reports.push((hour, report));
    }
    reports
}

/// (hour, completed) of each diagnostic rebalance into `destination`.
fn diagnostics_into(
    reports: &[(u64, RebalanceCycleReport)],
    destination: ShortChannelId,
) -> Vec<(u64, bool)> {
    reports
        .iter()
        .flat_map(|(hour, report)| report.decisions.iter().map(move |d| (*hour, d)))
        .filter(|(_, d)| {
            d.proposal.kind == RebalanceKind::Diagnostic && d.proposal.destination == destination
        })
        .filter(|(_, d)| matches!(d.verdict, RebalanceVerdict::Go { .. }))
        .map(|(hour, d)| {
            (
                hour,
                matches!(d.outcome, Some(RebalanceOutcome::Completed { .. })),
            )
        })
        .collect()
}

fn zero_fee_set(bench: &Bench, channel: ShortChannelId) -> bool {
    bench
        .node
        .set_calls
        .iter()
        .any(|call| call.channel == channel && call.fee_ppm == Ppm::new(0))
}

/// The channel's row of the profitability report, as the plugin would compute it now.
fn analysed(bench: &Bench, channel: ShortChannelId) -> ChannelProfitability {
    let now = bench.node.now_secs();
    let activity = bench
        .store
        .channel_activity_windows(WINDOW_DAYS.map(|d| now - d * 86_400))
        .unwrap();
    let report = profitability(
        &bench.node.channels().unwrap(),
        bench.node.info().unwrap().blockheight,
        &activity,
        &bench.store.channel_history(now).unwrap(),
    );
    report.into_iter().find(|c| c.channel == channel).unwrap()
}

#[test]
fn a_dead_channel_is_tried_twice_then_called_a_zombie_and_a_drained_one_is_revived() {
    let mut bench = bench();
    let dead = channel(&bench, "dead");
    let drained = channel(&bench, "drained");

    // A week of watching first: before it, an idle week proves nothing.
    let week = run_hours(&mut bench, 0..7 * 24);
    assert!(
        diagnostics_into(&week, dead).is_empty(),
        "diagnosed before a week of watching"
    );
    let early = analysed(&bench, dead);
    assert_eq!(early.class, ProfitabilityClass::Unknown, "{early:?}");
    assert_eq!(
        advise(&early, early.diagnostic_attempts_14d).recommendation,
        Recommendation::Keep
    );

    let rest = run_hours(&mut bench, 7 * 24..11 * 24 + 2);
    let dead_tries = diagnostics_into(&rest, dead);
    assert_eq!(dead_tries.len(), 2, "exactly two attempts: {dead_tries:?}");
    assert!(dead_tries.iter().all(|(_, completed)| *completed));
    assert!(
        dead_tries[1].0 - dead_tries[0].0 >= PROBE_SECS / HOUR,
        "the second attempt waits for the first probe: {dead_tries:?}"
    );
    for (_, report) in &rest {
        for d in &report.decisions {
            if let (RebalanceKind::Diagnostic, RebalanceVerdict::Go { max_fee }) =
                (d.proposal.kind, &d.verdict)
            {
                assert!(*max_fee <= Msat::from_sat(100).unwrap(), "{d:?}");
            }
        }
    }
    assert!(
        zero_fee_set(&bench, dead),
        "the probe priced the dead channel at zero"
    );
    let probes = bench.store.probe_history(100).unwrap();
    let dead_probes: Vec<_> = probes.iter().filter(|p| p.channel == dead).collect();
    assert_eq!(dead_probes.len(), 2, "{probes:?}");
    assert!(
        dead_probes
            .iter()
            .all(|p| p.end_reason.as_deref() == Some("expired")),
        "{probes:?}"
    );

    // Confirmed only now, after two attempts and 48 h of silence: the pruner may say close.
    let zombie = analysed(&bench, dead);
    assert_eq!(zombie.class, ProfitabilityClass::Zombie, "{zombie:?}");
    assert_eq!(
        advise(&zombie, zombie.diagnostic_attempts_14d).recommendation,
        Recommendation::Close
    );

    // The drained channel was revived: senders kept trying it, so rebalance-ev refilled it on
    // that failed-forward demand (issue 14) — or, had nobody tried, the defibrillator's
    // diagnostic would have, its probe ending because it routed.
    let refills: Vec<_> = week
        .iter()
        .chain(&rest)
        .flat_map(|(_, report)| &report.decisions)
        .filter(|d| d.proposal.destination == drained)
        .filter(|d| matches!(d.outcome, Some(RebalanceOutcome::Completed { .. })))
        .map(|d| d.proposal.kind)
        .collect();
    assert!(
        !refills.is_empty(),
        "the drained channel was never refilled"
    );
    if !diagnostics_into(&rest, drained).is_empty() {
        assert!(
            probes
                .iter()
                .any(|p| p.channel == drained && p.end_reason.as_deref() == Some("routed")),
            "{probes:?}"
        );
    }
    println!("drained channel refilled by {refills:?}");
    let drained_row = analysed(&bench, drained);
    assert_ne!(
        drained_row.class,
        ProfitabilityClass::Zombie,
        "{drained_row:?}"
    );
    assert!(drained_row.windows[1].forwards_out > 0, "{drained_row:?}");
}
