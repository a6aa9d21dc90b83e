//! Plugin benchmark through the stand-in lightningd (a bench binary, not a test):
//! `cargo bench -p revops-tests --bench plugin`.
//!
//! - ingestion of 1,000,000 forwards served by the stand-in's `listforwards`;
//! - resident and virtual memory of the idle plugin with three Rust policies loaded, with the
//!   instance pool (the default) and without (`revenue-wasm-pooling=false`);
//! - the same after loading the Python example policy (`policies/python/example-fee`, built by
//!   its `build.sh`; skipped with a note when it is not built).

use revops_tests::{
    built_guest,
    standin::{StandIn, simulated_node},
};
use serde_json::json;
use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

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

/// `cargo bench -p revops-tests --bench plugin [ingestion|memory]`: one part, or both.
fn main() {
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    if only.as_deref().is_none_or(|o| o == "ingestion") {
        ingestion();
    }
    if only.as_deref().is_none_or(|o| o == "memory") {
        for pooling in [true, false] {
            idle_memory(pooling);
        }
    }
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
    let ingested = status["forwards_ingested_up_to"]["created_index"]
        .as_u64()
        .unwrap();
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

/// The Python example policy as its `build.sh` leaves it.
fn python_policy() -> Option<PathBuf> {
    let built = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../policies/python/example-fee/target/example-fee.wasm");
    built.exists().then_some(built)
}

fn print_memory(what: &str, pid: u32) {
    println!(
        "{:<52} {:>6} MiB RSS now, {:>6} MiB peak, {:>8} MiB virtual",
        what,
        rss_kib(pid, "VmRSS:") / 1024,
        rss_kib(pid, "VmHWM:") / 1024,
        rss_kib(pid, "VmSize:") / 1024
    );
}

fn idle_memory(pooling: bool) {
    let mut standin = StandIn::start(
        simulated_node(50),
        json!({ "revenue-wasm-pooling": pooling }),
    );
    let allocation = if pooling { "pooling" } else { "on demand" };
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
    print_memory(
        &format!("idle, 50 channels, three Rust policies ({allocation})"),
        standin.pid(),
    );
    let Some(python) = python_policy() else {
        println!("(Python policy not built: run policies/python/example-fee/build.sh)");
        return;
    };
    std::fs::copy(&python, policies.join("example-fee.wasm")).unwrap();
    standin
        .call(
            "revenue-policy-load",
            json!(["fee", "python", "example-fee.wasm"]),
        )
        .expect("the Python policy loads");
    let channel = standin.daemon.lock().unwrap().node.channel_ids()[0].to_string();
    standin
        .call("revenue-policy-assign", json!(["fee", "python", channel]))
        .unwrap();
    standin.call("revenue-run", json!(["fee"])).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    print_memory(
        &format!("idle, after loading and running Python ({allocation})"),
        standin.pid(),
    );
    // A restart restores the Python slot from the compiled-policy cache: no compiler.
    let (dir, node, _) = standin.stop();
    let mut restarted = StandIn::start_in(dir, node, json!({ "revenue-wasm-pooling": pooling }));
    restarted.call("revenue-run", json!(["fee"])).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    print_memory(
        &format!("idle, restarted with Python from the cache ({allocation})"),
        restarted.pid(),
    );
}
