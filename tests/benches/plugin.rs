//! Plugin benchmark through the stand-in lightningd (a bench binary, not a test):
//! `cargo bench -p revops-tests --bench plugin`.
//!
//! - ingestion of 1,000,000 forwards served by the stand-in's `listforwards`;
//! - peak resident memory of the idle plugin with three policies loaded.

use revops_tests::{
    built_guest,
    standin::{StandIn, simulated_node},
};
use serde_json::json;
use std::time::{Duration, Instant};

const FORWARDS: u64 = 1_000_000;

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    ingestion();
    idle_memory();
}

fn ingestion() {
    let mut standin = StandIn::start(
        simulated_node(10),
        json!({ "revenue-ingest-interval-secs": 86_400 }),
    );
    standin.daemon.lock().unwrap().synthetic_forwards = Some(FORWARDS);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(600);
    // revenue-run ingests everything new before its cycle.
    standin
        .call("revenue-run", json!(["fee"]))
        .expect("cycle runs");
    let elapsed = started.elapsed();
    let status = standin.call("revenue-status", json!([])).unwrap();
    let ingested = status["forwards_ingested_up_to"].as_u64().unwrap();
    assert_eq!(ingested, FORWARDS, "all forwards ingested");
    assert!(Instant::now() < deadline);
    println!(
        "{:<52} {:>10.2} s   {:>10.0} forwards/s   (peak RSS {} MiB)",
        "ingest 1,000,000 forwards (listforwards pages of 1,000)",
        elapsed.as_secs_f64(),
        FORWARDS as f64 / elapsed.as_secs_f64(),
        rss_kib(standin.pid(), "VmHWM:") / 1024
    );
}

fn idle_memory() {
    let mut standin = StandIn::start(simulated_node(50), json!({}));
    let policies = standin.dir().join("revops").join("policies");
    std::fs::copy(
        built_guest("fee_static.wasm"),
        policies.join("fee_static.wasm"),
    )
    .unwrap();
    standin.call("revenue-run", json!(["fee"])).unwrap();
    for path in [
        "embedded:balance-curve",
        "fee_static.wasm",
        "embedded:one-percent",
    ] {
        standin
            .call("revenue-policy-load", json!(["fee", "default", path]))
            .expect("loads");
    }
    standin.call("revenue-run", json!(["fee"])).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let pid = standin.pid();
    println!(
        "{:<52} {:>10} MiB now, {} MiB peak",
        "idle RSS, 50 channels, three policies loaded",
        rss_kib(pid, "VmRSS:") / 1024,
        rss_kib(pid, "VmHWM:") / 1024
    );
}
