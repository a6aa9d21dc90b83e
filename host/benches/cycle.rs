//! Fee-cycle benchmark without RPC latency (a bench binary): `cargo bench -p revops --bench cycle`.
//!
//! The production cycle (snapshot, policy, guards, `setchannel`, ledger) against the simulated
//! node in-process, with the production database settings, for 1,000 channels.

use revops::{
    analytics::FlowTracker,
    config::ConfigSnapshot,
    cycle::{CycleDeps, ingest_forwards, run_fee_cycle},
    embedded::shipped,
    model::PolicyKind,
    runtime::{Canary, PolicySource, Registry, RuntimeLimits, Sandbox},
    sim::{Scenario, SimNetwork},
    store::{Durability, Store},
};
use std::{collections::BTreeMap, time::Duration};

const CHANNELS: usize = 1000;
const CYCLES: u64 = 60;

fn main() {
    for policy in ["one-percent", "balance-curve"] {
        bench(policy);
    }
}

fn bench(policy: &str) {
    let scenario = Scenario::builtin("default").unwrap();
    let mut node = SimNetwork::new(&scenario, Some(CHANNELS));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("revops.sqlite3"), Durability::Normal).unwrap();
    let registry = Registry::new(Sandbox::new(None).unwrap(), None, 3);
    registry
        .load_bytes(
            PolicyKind::Fee,
            "default",
            shipped(policy).unwrap().wasm,
            PolicySource::Embedded(policy.into()),
            &BTreeMap::new(),
            RuntimeLimits::default(),
            &Canary::sample(PolicyKind::Fee),
        )
        .unwrap();
    let mut flows = FlowTracker::default();
    let config = ConfigSnapshot::default();
    let mut durations = Vec::new();
    for step in 0..CYCLES {
        node.advance_to(scenario.start + (step + 1) * 600);
        let mut deps = CycleDeps {
            node: &mut node,
            store: &mut store,
            registry: &registry,
            flows: &mut flows,
        };
        ingest_forwards(deps.node, deps.store, deps.flows).unwrap();
        let report = run_fee_cycle(&mut deps, &config, "default", step, false).unwrap();
        durations.push(Duration::from_micros(report.duration_us));
    }
    durations.sort();
    println!(
        "fee cycle, {CHANNELS} channels, {policy:<14} median {:>8.2} ms   p90 {:>8.2} ms   (n={CYCLES})",
        durations[durations.len() / 2].as_secs_f64() * 1e3,
        durations[durations.len() * 9 / 10].as_secs_f64() * 1e3,
    );
}
