//! What `revenue-profitability` costs on a big node (a bench binary):
//! `cargo bench -p revops --bench profitability`.
//!
//! 1,000 simulated channels, 30 days of market ingested into the production database, then the
//! three window aggregates and the per-channel report, as the RPC computes them.

use revops::{
    analytics::{
        FlowTracker,
        profitability::{WINDOW_DAYS, profitability},
    },
    cycle::ingest_forwards,
    node::Node,
    sim::{Scenario, SimNetwork},
    store::{Durability, Store},
};
use std::time::Instant;

const CHANNELS: usize = 1000;
const DAYS: u64 = 30;
const RUNS: usize = 20;

fn main() {
    let scenario = Scenario::builtin("default").unwrap();
    let mut node = SimNetwork::new(&scenario, Some(CHANNELS));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("revops.sqlite3"), Durability::Normal).unwrap();
    let mut flows = FlowTracker::default();
    let started = Instant::now();
    for hour in 1..=DAYS * 24 {
        node.advance_to(scenario.start + hour * 3600);
        ingest_forwards(&node, &mut store, &mut flows).unwrap();
    }
    let forwards = store.forward_totals().unwrap().settled;
    println!(
        "{CHANNELS} channels, {DAYS} days: {forwards} settled forwards ingested in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let now = node.now_secs();
    let blockheight = node.info().unwrap().blockheight;
    let channels = node.channels().unwrap();
    let mut durations = Vec::new();
    let mut rows = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let activity = store
            .channel_activity_windows(WINDOW_DAYS.map(|days| now - days * 86_400))
            .unwrap();
        let defib = store.channel_history(now).unwrap();
        rows = profitability(&channels, blockheight, &activity, &defib).len();
        durations.push(start.elapsed());
    }
    durations.sort();
    println!(
        "profitability report for {rows} channels: median {:.1} ms, p90 {:.1} ms ({RUNS} runs)",
        durations[RUNS / 2].as_secs_f64() * 1000.0,
        durations[RUNS * 9 / 10].as_secs_f64() * 1000.0
    );
}
