//! Hot swap: atomic replacement, last-known-good, quarantine, hold, rollback, and calls that
//! keep flowing while policies change under them.

use super::*;
use revops::runtime::CallError;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

fn fees(fixture: &Fixture, now: u64) -> Result<Vec<u32>, CallError> {
    fixture
        .registry
        .propose_fees("main", &context_at(now), &sample())
        .map(|called| {
            called
                .value
                .proposals
                .iter()
                .map(|p| p.fee_ppm.ppm())
                .collect()
        })
}

#[test]
fn parameters_reach_the_policy() {
    let fixture = Fixture::new();
    fixture
        .load(
            "main",
            "fee_static.wasm",
            json!({ "fee-ppm": 250 }),
            RuntimeLimits::default(),
        )
        .unwrap();
    assert_eq!(fees(&fixture, LATER).unwrap(), vec![250; 20]);
}

#[test]
fn swap_keeps_previous_as_last_known_good_and_rollback_restores_it() {
    let fixture = Fixture::new();
    fixture
        .load(
            "main",
            "fee_static.wasm",
            json!({}),
            RuntimeLimits::default(),
        )
        .unwrap();
    let report = fixture
        .load(
            "main",
            "fee_balance_curve.wasm",
            json!({}),
            RuntimeLimits::default(),
        )
        .unwrap();
    assert!(report.replaced.unwrap().starts_with("static@"));
    assert_ne!(fees(&fixture, LATER).unwrap(), vec![100; 20]);

    let status = fixture.registry.rollback(PolicyKind::Fee, "main").unwrap();
    assert!(status.active.unwrap().starts_with("static@"));
    assert!(
        status
            .last_known_good
            .unwrap()
            .starts_with("balance-curve@")
    );
    assert_eq!(fees(&fixture, LATER).unwrap(), vec![100; 20]);
}

#[test]
fn repeated_failures_quarantine_and_fall_back_to_last_known_good() {
    let fixture = Fixture::new();
    fixture
        .load(
            "main",
            "fee_static.wasm",
            json!({}),
            RuntimeLimits::default(),
        )
        .unwrap();
    // Honest at load time (the canary passes), panics once the clock reaches LATER.
    fixture
        .load(
            "main",
            "hostile_fee.wasm",
            json!({ "mode": "panic", "after-secs": LATER }),
            tight_limits(),
        )
        .unwrap();
    for attempt in 1..=3 {
        let error = fees(&fixture, LATER).unwrap_err();
        assert!(
            matches!(error, CallError::Panicked(_)),
            "attempt {attempt}: {error}"
        );
    }
    let status = &fixture.registry.status()[0];
    assert_eq!(status.state, "fallback");
    assert!(
        status
            .quarantined
            .as_deref()
            .unwrap()
            .starts_with("hostile-fee@")
    );
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap()
            .contains("deliberate panic")
    );
    assert_eq!(
        fees(&fixture, LATER).unwrap(),
        vec![100; 20],
        "static serves again"
    );
}

#[test]
fn success_resets_the_failure_count() {
    let fixture = Fixture::new();
    fixture
        .load(
            "main",
            "hostile_fee.wasm",
            json!({ "mode": "error", "after-secs": LATER }),
            tight_limits(),
        )
        .unwrap();
    for _ in 0..5 {
        fees(&fixture, LATER).unwrap_err();
        fees(&fixture, LATER).unwrap_err();
        fees(&fixture, LATER - 1).expect("before LATER it behaves");
    }
    assert_eq!(fixture.registry.status()[0].state, "serving");
}

#[test]
fn without_last_known_good_the_slot_holds() {
    let fixture = Fixture::new();
    fixture
        .load(
            "main",
            "hostile_fee.wasm",
            json!({ "mode": "loop", "after-secs": LATER }),
            tight_limits(),
        )
        .unwrap();
    for _ in 0..3 {
        assert!(matches!(fees(&fixture, LATER), Err(CallError::Deadline(_))));
    }
    assert_eq!(fees(&fixture, LATER), Err(CallError::Held));
    assert_eq!(fixture.registry.status()[0].state, "holding");
    // Loading a good policy ends the hold.
    fixture
        .load(
            "main",
            "fee_static.wasm",
            json!({}),
            RuntimeLimits::default(),
        )
        .unwrap();
    assert_eq!(fees(&fixture, LATER).unwrap(), vec![100; 20]);
}

#[test]
fn unknown_slot_is_not_loaded() {
    let fixture = Fixture::new();
    assert!(matches!(
        fees(&fixture, LATER),
        Err(CallError::NotLoaded { .. })
    ));
    assert!(matches!(
        fixture.registry.rollback(PolicyKind::Fee, "main"),
        Err(LoadError::NotLoaded { .. })
    ));
}

#[test]
fn calls_in_flight_survive_swaps_and_never_see_a_mixture() {
    let fixture = Arc::new(Fixture::new());
    fixture
        .load(
            "main",
            "fee_static.wasm",
            json!({}),
            RuntimeLimits::default(),
        )
        .unwrap();
    let curve = {
        let scratch = Fixture::new();
        scratch
            .load(
                "main",
                "fee_balance_curve.wasm",
                json!({}),
                RuntimeLimits::default(),
            )
            .unwrap();
        fees(&scratch, LATER).unwrap()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let caller = {
        let (fixture, stop, served) = (fixture.clone(), stop.clone(), served.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let got = fees(&fixture, LATER).expect("no call fails during a swap");
                assert!(
                    got == vec![100; 20] || got == curve,
                    "mixed decision: {got:?}"
                );
                served.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    for round in 0..10 {
        let file = if round % 2 == 0 {
            "fee_balance_curve.wasm"
        } else {
            "fee_static.wasm"
        };
        fixture
            .load("main", file, json!({}), RuntimeLimits::default())
            .unwrap();
    }
    // Let the caller see the final version at least once.
    let before = served.load(Ordering::Relaxed);
    while served.load(Ordering::Relaxed) < before + 3 {
        std::thread::yield_now();
    }
    stop.store(true, Ordering::Relaxed);
    caller.join().expect("caller thread saw no failure");
    assert!(served.load(Ordering::Relaxed) > 0);
}

#[test]
fn same_input_same_output() {
    let fixture = Fixture::new();
    fixture
        .load(
            "main",
            "fee_balance_curve.wasm",
            json!({ "exponent": 2.0 }),
            RuntimeLimits::default(),
        )
        .unwrap();
    assert_eq!(
        fees(&fixture, LATER).unwrap(),
        fees(&fixture, LATER).unwrap()
    );
}
