//! Hostile guests: every misbehaviour ends in a typed error, the host keeps serving, and the
//! policy that was active before still answers.

use super::*;
use revops::{
    model::PricingMode,
    runtime::{CallError, OutputError},
};
use serde_json::json;

/// Loads the static policy, then tries to replace it with the hostile guest in `mode`; returns
/// the load error and checks the static policy still serves.
fn replace_with_hostile(mode: &str, limits: RuntimeLimits) -> LoadError {
    let fixture = Fixture::new();
    fixture
        .load(
            "main",
            "fee_static.wasm",
            json!({}),
            RuntimeLimits::default(),
        )
        .expect("static policy loads");
    let error = fixture
        .load("main", "hostile_fee.wasm", json!({ "mode": mode }), limits)
        .expect_err("a hostile policy must not load");
    assert_still_static(&fixture);
    error
}

fn assert_still_static(fixture: &Fixture) {
    let decision = fixture
        .registry
        .propose_fees("main", &context_at(LATER), &sample())
        .expect("the previous policy keeps serving")
        .value;
    assert_eq!(decision.proposals.len(), 20);
    assert!(decision.proposals.iter().all(|p| p.fee_ppm.ppm() == 100));
    let status = fixture.registry.status();
    assert_eq!(status[0].state, "serving");
    assert!(status[0].active.as_deref().unwrap().starts_with("static@"));
}

fn canary_error(error: LoadError) -> CallError {
    match error {
        LoadError::Canary(call) => call,
        other => panic!("expected a canary failure, got {other}"),
    }
}

#[test]
fn infinite_loop_hits_the_deadline() {
    let error = canary_error(replace_with_hostile("loop", tight_limits()));
    assert_eq!(error, CallError::Deadline(Duration::from_millis(50)));
}

#[test]
fn infinite_loop_exhausts_fuel_when_budgeted() {
    let limits = RuntimeLimits {
        fuel: Some(5_000_000),
        deadline: Duration::from_secs(5),
        ..tight_limits()
    };
    let error = canary_error(replace_with_hostile("loop", limits));
    assert_eq!(error, CallError::FuelExhausted(5_000_000));
}

#[test]
fn memory_bomb_hits_the_memory_cap() {
    let error = canary_error(replace_with_hostile("oom", tight_limits()));
    assert_eq!(error, CallError::OutOfMemory(16 << 20));
}

#[test]
fn stack_overflow_is_caught() {
    let error = canary_error(replace_with_hostile("stack", tight_limits()));
    assert_eq!(error, CallError::StackOverflow);
}

#[test]
fn panic_message_reaches_the_operator() {
    let error = canary_error(replace_with_hostile("panic", tight_limits()));
    match error {
        CallError::Panicked(message) => {
            assert!(message.contains("deliberate panic"), "{message}")
        }
        other => panic!("expected a panic, got {other}"),
    }
}

#[test]
fn policy_error_is_a_refusal_not_a_trap() {
    let error = canary_error(replace_with_hostile("error", tight_limits()));
    assert_eq!(
        error,
        CallError::Refused("deliberate refusal from the hostile guest".into())
    );
}

#[test]
fn nonsense_output_is_rejected_with_its_reason() {
    type Expectation = fn(&OutputError) -> bool;
    let cases: [(&str, Expectation); 6] = [
        ("unknown-channel", |e| {
            matches!(e, OutputError::UnknownChannel(_))
        }),
        ("duplicate", |e| {
            matches!(e, OutputError::DuplicateChannel(_))
        }),
        (
            "absurd-fee",
            |e| matches!(e, OutputError::OutOfRange { field: "fee_ppm", value, .. } if *value == u64::from(u32::MAX)),
        ),
        ("too-many", |e| {
            matches!(
                e,
                OutputError::TooMany {
                    count: 100_000,
                    max: 20,
                    ..
                }
            )
        }),
        ("huge-reason", |e| {
            matches!(e, OutputError::TooLarge { what: "reason", .. })
        }),
        ("huge-state", |e| {
            matches!(
                e,
                OutputError::TooLarge {
                    what: "node state",
                    ..
                }
            )
        }),
    ];
    for (mode, expected) in cases {
        match canary_error(replace_with_hostile(mode, RuntimeLimits::default())) {
            CallError::InvalidOutput(output) => assert!(expected(&output), "{mode}: {output}"),
            other => panic!("{mode}: expected invalid output, got {other}"),
        }
    }
}

#[test]
fn log_flood_is_rate_limited_not_fatal() {
    let fixture = Fixture::new();
    fixture
        .load(
            "main",
            "hostile_fee.wasm",
            json!({ "mode": "log-flood" }),
            RuntimeLimits::default(),
        )
        .expect("flooding the log is rude, not fatal");
    let decision = fixture
        .registry
        .propose_fees("main", &context_at(LATER), &sample())
        .unwrap()
        .value;
    assert!(
        decision
            .proposals
            .iter()
            .all(|p| p.mode == PricingMode::Normal)
    );
}

#[test]
fn wrong_world_is_refused_by_name() {
    let fixture = Fixture::new();
    let error = fixture
        .load(
            "main",
            "noop_rebalance.wasm",
            json!({}),
            RuntimeLimits::default(),
        )
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, LoadError::WrongWorld { .. }), "{message}");
    assert!(
        message.contains("is a rebalance-policy, not a fee-policy"),
        "{message}"
    );
}

#[test]
fn garbage_files_are_not_components() {
    let fixture = Fixture::new();
    std::fs::write(fixture.dir.path().join("random.wasm"), [0x42u8; 4096]).unwrap();
    std::fs::write(fixture.dir.path().join("core.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(
        fixture.dir.path().join("truncated.wasm"),
        b"\0asm\x0d\0\x01\0\x01",
    )
    .unwrap();
    for file in ["random.wasm", "core.wasm", "truncated.wasm"] {
        let error = fixture
            .load("main", file, json!({}), RuntimeLimits::default())
            .unwrap_err();
        assert!(
            matches!(error, LoadError::NotAComponent(_)),
            "{file}: {error}"
        );
    }
}

#[test]
fn bad_parameters_are_refused_before_activation() {
    let fixture = Fixture::new();
    for params in [
        json!({ "fee-ppm": -1 }),
        json!({ "fee-ppm": "cheap" }),
        json!({ "no-such-knob": 1 }),
    ] {
        let error = fixture
            .load(
                "main",
                "fee_static.wasm",
                params.clone(),
                RuntimeLimits::default(),
            )
            .unwrap_err();
        assert!(matches!(error, LoadError::Params(_)), "{params}: {error}");
    }
    assert!(
        fixture.registry.status().is_empty(),
        "nothing was activated"
    );
}

#[test]
fn paths_outside_the_policy_dir_are_refused() {
    let fixture = Fixture::new();
    let outside = tempfile::NamedTempFile::new().unwrap();
    let error = fixture
        .load(
            "main",
            outside.path().to_str().unwrap(),
            json!({}),
            RuntimeLimits::default(),
        )
        .unwrap_err();
    assert!(
        matches!(error, LoadError::OutsidePolicyDir { .. }),
        "{error}"
    );
}
