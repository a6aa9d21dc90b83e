//! Policy runtime benchmark (a bench binary, not a test): `cargo bench -p revops --bench runtime`.
//!
//! Measures compile time, cached load, the fixed cost of a call (fresh store + instantiate),
//! a 1,000-channel fee call against the same logic compiled natively, and hot swaps under a
//! concurrent caller. Prints medians and 90th percentiles.
//!
//! `REVOPS_BENCH_GUESTS=a.wasm,b.wasm` instead measures those fee components (the Python and JS
//! examples, built with their `build.sh`): compile, cached load, calls of 0 and 1,000 channels.

use revops::{
    embedded::shipped,
    model::{
        CallContext, FeeProposal, PolicyKind, PricingMode, Snapshot,
        sample::{SAMPLE_NOW_SECS, sample_snapshot},
    },
    money::{Msat, Ppm},
    runtime::{
        Canary, CompileSource, LoadRequest, LoadedPolicy, PolicySource, Registry, RuntimeLimits,
        Sandbox, loader,
    },
};
use std::{
    collections::BTreeMap,
    hint::black_box,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

fn stats(label: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p90 = samples[samples.len() * 9 / 10];
    println!(
        "{label:<44} median {:>10.1} µs   p90 {:>10.1} µs   (n={})",
        median.as_secs_f64() * 1e6,
        p90.as_secs_f64() * 1e6,
        samples.len()
    );
    median
}

fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let started = Instant::now();
    black_box(f());
    started.elapsed()
}

fn prepare(sandbox: &Arc<Sandbox>, wasm: &[u8]) -> LoadedPolicy {
    loader::prepare(
        sandbox,
        LoadRequest {
            kind: Some(PolicyKind::Fee),
            wasm,
            source: PolicySource::Embedded("bench".into()),
            params: &BTreeMap::new(),
            limits: RuntimeLimits::default(),
        },
    )
    .expect("shipped policy loads")
}

/// The balance-curve policy's decision logic, natively: the yardstick for the WASM call.
fn native_balance_curve(snapshot: &Snapshot) -> Vec<FeeProposal> {
    let (min_ppm, max_ppm, exponent) = (10u32, 1000u32, 1.0f64);
    snapshot
        .channels
        .iter()
        .map(|c| {
            let total = c.local.msat().saturating_add(c.remote.msat());
            let fee = if total == 0 {
                max_ppm
            } else {
                let share = c.local.msat() as f64 / total as f64;
                min_ppm
                    + (f64::from(max_ppm - min_ppm) * (1.0 - share).powf(exponent)).round() as u32
            };
            FeeProposal {
                channel: c.id,
                fee_ppm: Ppm::new(fee),
                fee_base: Msat::new(1000),
                mode: PricingMode::Normal,
                reason: "balance curve".into(),
            }
        })
        .collect()
}

/// Compile, cached load and call times of one (large) fee component.
fn bench_guest(path: &str, ctx: &CallContext) {
    let wasm = std::fs::read(path).expect("reading the component");
    println!("\n{path} ({:.1} MB)", wasm.len() as f64 / 1e6);
    let sandbox = Sandbox::new(None).unwrap();
    stats(
        "compile (no cache)",
        (0..3)
            .map(|_| prepare(&sandbox, &wasm).compile.elapsed)
            .collect(),
    );
    let cache_dir = tempfile::tempdir().unwrap();
    let cached = Sandbox::new(Some(cache_dir.path())).unwrap();
    prepare(&cached, &wasm);
    let mut loads = Vec::new();
    let mut prepares = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let policy = prepare(&cached, &wasm);
        prepares.push(started.elapsed());
        assert_eq!(policy.compile.source, CompileSource::Cache);
        loads.push(policy.compile.elapsed);
    }
    stats("cached load (deserialize .cwasm)", loads);
    stats("cached load + type-check + describe()", prepares);
    let policy = prepare(&cached, &wasm);
    stats(
        "call, 0 channels (store + instantiate)",
        (0..50)
            .map(|_| time(|| policy.propose_fees(ctx, &Snapshot::default()).unwrap()))
            .collect(),
    );
    for (channels, n) in [(20, 50), (1000, 30)] {
        let snapshot = sample_snapshot(channels, 1);
        policy.propose_fees(ctx, &snapshot).unwrap();
        stats(
            &format!("call, {channels} channels (end to end)"),
            (0..n)
                .map(|_| time(|| policy.propose_fees(ctx, &snapshot).unwrap()))
                .collect(),
        );
        let fuel = policy.propose_fees(ctx, &snapshot).unwrap().fuel_used;
        println!("{:<44} {fuel}", format!("fuel used, {channels} channels"));
    }
}

fn main() {
    if let Some(guests) = std::env::var_os("REVOPS_BENCH_GUESTS") {
        let ctx = CallContext {
            now_secs: SAMPLE_NOW_SECS,
            seed: 1,
            ..CallContext::default()
        };
        for path in guests.to_string_lossy().split(',') {
            bench_guest(path, &ctx);
        }
        return;
    }
    let wasm = shipped("balance-curve").expect("shipped").wasm;
    let static_wasm = shipped("static").expect("shipped").wasm;
    let ctx = CallContext {
        now_secs: SAMPLE_NOW_SECS,
        seed: 1,
        ..CallContext::default()
    };
    println!(
        "revops policy runtime benchmark (balance-curve, {} bytes)",
        wasm.len()
    );

    let sandbox = Sandbox::new(None).unwrap();
    if std::env::var_os("REVOPS_BENCH_PROFILE").is_some() {
        // Only the 1,000-channel call, for a profiler: `perf record` this.
        let policy = prepare(&sandbox, wasm);
        let big = sample_snapshot(1000, 1);
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            black_box(policy.propose_fees(&ctx, &big).unwrap());
        }
        return;
    }
    stats(
        "compile (no cache)",
        (0..10)
            .map(|_| prepare(&sandbox, wasm).compile.elapsed)
            .collect(),
    );

    let cache_dir = tempfile::tempdir().unwrap();
    let cached = Sandbox::new(Some(cache_dir.path())).unwrap();
    prepare(&cached, wasm);
    let mut loads = Vec::new();
    let mut prepares = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        let policy = prepare(&cached, wasm);
        prepares.push(started.elapsed());
        assert_eq!(policy.compile.source, CompileSource::Cache);
        loads.push(policy.compile.elapsed);
    }
    stats("cached load (deserialize .cwasm)", loads);
    stats("cached load + type-check + describe()", prepares);

    let policy = prepare(&sandbox, wasm);
    let empty = Snapshot::default();
    stats(
        "call, 0 channels (store + instantiate)",
        (0..500)
            .map(|_| time(|| policy.propose_fees(&ctx, &empty).unwrap()))
            .collect(),
    );
    let big = sample_snapshot(1000, 1);
    for _ in 0..50 {
        policy.propose_fees(&ctx, &big).unwrap();
    }
    let wasm_median = stats(
        "call, 1,000 channels (WASM, end to end)",
        (0..500)
            .map(|_| time(|| policy.propose_fees(&ctx, &big).unwrap()))
            .collect(),
    );
    let native_median = stats(
        "same logic, 1,000 channels (native Rust)",
        (0..500)
            .map(|_| time(|| native_balance_curve(black_box(&big))))
            .collect(),
    );
    println!(
        "{:<44} {:.1}×",
        "WASM / native",
        wasm_median.as_secs_f64() / native_median.as_secs_f64()
    );
    let fuel = policy.propose_fees(&ctx, &big).unwrap().fuel_used;
    println!("{:<44} {fuel}", "fuel used, 1,000 channels");

    swap_under_load(&cached, wasm, static_wasm, &ctx);
}

fn swap_under_load(sandbox: &Arc<Sandbox>, a: &'static [u8], b: &'static [u8], ctx: &CallContext) {
    let registry = Arc::new(Registry::new(sandbox.clone(), None, 3));
    let canary = Canary::sample(PolicyKind::Fee);
    let load = |wasm: &[u8]| {
        registry
            .load_bytes(
                PolicyKind::Fee,
                "main",
                wasm,
                PolicySource::Embedded("bench".into()),
                &BTreeMap::new(),
                RuntimeLimits::default(),
                &canary,
            )
            .unwrap()
    };
    load(a);
    load(b);
    let stop = Arc::new(AtomicBool::new(false));
    let (served, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let caller = {
        let (registry, stop) = (registry.clone(), stop.clone());
        let (served, failed, ctx) = (served.clone(), failed.clone(), ctx.clone());
        std::thread::spawn(move || {
            let snapshot = sample_snapshot(1000, 1);
            while !stop.load(Ordering::Relaxed) {
                match registry.propose_fees("main", &ctx, &snapshot) {
                    Ok(_) => served.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        })
    };
    let started = Instant::now();
    let swaps: Vec<Duration> = (0..100)
        .map(|i| time(|| load(if i % 2 == 0 { a } else { b })))
        .collect();
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    caller.join().unwrap();
    stats("hot swap (cached load + canary + swap)", swaps);
    println!(
        "{:<44} {} calls served, {} failed, during 100 swaps in {:.0} ms",
        "concurrent 1,000-channel caller",
        served.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        elapsed.as_secs_f64() * 1e3
    );
}
