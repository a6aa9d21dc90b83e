//! One cycle at a time: idempotency, price truth, dry-run, policy failure, lightningd errors.

use super::*;
use revops::{
    config::ConfigSnapshot,
    guards::fee::FeeVerdict,
    model::{PricingMode, sample::SAMPLE_NOW_SECS},
    money::{Msat, Ppm},
    store::FeeRecord,
};

#[test]
fn no_setchannel_that_changes_nothing() {
    // The simulated channels start at 100 ppm / 1000 msat: exactly what `static` proposes.
    let mut bench = Bench::new("static", no_params());
    for _ in 0..3 {
        let report = bench.cycle(&ConfigSnapshot::default());
        assert_eq!(report.counts.unchanged as usize, report.channels);
    }
    assert!(
        bench.node.set_calls.is_empty(),
        "{:?}",
        bench.node.set_calls
    );
}

#[test]
fn a_changed_fee_is_broadcast_once_then_left_alone() {
    let mut bench = Bench::new("static", json!({ "fee-ppm": 400 }));
    let first = bench.cycle(&ConfigSnapshot::default());
    // 100 → 400 is more than the max step (50 % or 50 ppm): clamped to 150 on the way up.
    assert_eq!(first.counts.clamped as usize, first.channels);
    assert!(
        bench
            .node
            .set_calls
            .iter()
            .all(|c| c.fee_ppm == Ppm::new(150))
    );
    let calls = bench.node.set_calls.len();
    // Within the minimum interval nothing more goes out, whatever the policy wants.
    let second = bench.cycle(&ConfigSnapshot::default());
    assert_eq!(second.counts.suppressed as usize, second.channels);
    assert_eq!(bench.node.set_calls.len(), calls);
}

#[test]
fn price_truth_the_chain_wins_over_the_record() {
    let mut bench = Bench::new("static", no_params());
    let channel = bench.node.inner.channel_ids()[0];
    bench
        .store
        .put_fee_record(&FeeRecord {
            channel,
            fee_ppm: Ppm::new(777),
            fee_base: Msat::new(1000),
            broadcast_at: Some(1),
            mode: PricingMode::Normal,
            reason: "a stale record".into(),
        })
        .unwrap();
    let report = bench.cycle(&ConfigSnapshot::default());
    assert_eq!(report.repaired, 1);
    let record = &bench.store.fee_records().unwrap()[&channel];
    assert_eq!(record.fee_ppm, Ppm::new(100), "repaired from the chain");
    assert!(record.reason.contains("repaired"));
    // Judged against the chain (100 = the proposal), so nothing is sent.
    assert!(bench.node.set_calls.is_empty());
}

#[test]
fn dry_run_decides_and_records_but_changes_nothing() {
    let mut bench = Bench::new("static", json!({ "fee-ppm": 120 }));
    let config = ConfigSnapshot::build(
        0,
        &Default::default(),
        serde_json::from_value(json!({ "dry-run": true })).unwrap(),
    )
    .unwrap();
    let report = bench.cycle(&config);
    assert!(report.dry_run);
    assert_eq!(report.counts.applied as usize, report.channels);
    assert!(bench.node.set_calls.is_empty());
    assert!(bench.store.broadcast_history(None, 10).unwrap().is_empty());
    assert_eq!(
        bench.store.decision_count("applied").unwrap() as usize,
        report.channels
    );
}

#[test]
fn a_failing_policy_changes_nothing_and_is_recorded() {
    let hostile =
        std::fs::read(format!("{}/hostile_fee.wasm", embedded::BUILT_POLICIES_DIR)).unwrap();
    // Honest for the canary (at the sample's clock), panics once the simulation moves on.
    let turn = SAMPLE_NOW_SECS + 1;
    let mut bench = Bench::with_wasm(&hostile, json!({ "mode": "panic", "after-secs": turn }));
    bench.node.inner.advance_to(turn + 600);
    let report = bench.cycle(&ConfigSnapshot::default());
    assert!(
        report
            .policy_error
            .as_deref()
            .unwrap()
            .contains("deliberate panic")
    );
    assert!(report.outcomes.is_empty());
    assert!(bench.node.set_calls.is_empty());
    assert!(bench.store.last_successful_cycle("fee").unwrap().is_none());
}

#[test]
fn lightningd_errors_are_recorded_per_channel() {
    let mut bench = Bench::new("static", json!({ "fee-ppm": 120 }));
    bench.node.fail_setchannel = true;
    let report = bench.cycle(&ConfigSnapshot::default());
    assert_eq!(report.counts.failed as usize, report.channels);
    assert!(report.outcomes.iter().all(|o| {
        o.error
            .as_deref()
            .unwrap()
            .contains("simulated lightningd failure")
    }));
    // Nothing was booked as broadcast: the next cycle tries again.
    assert!(bench.store.broadcast_history(None, 10).unwrap().is_empty());
    assert!(
        bench.store.pending_intents().unwrap().is_empty(),
        "intents settled as failed"
    );
    bench.node.fail_setchannel = false;
    let retry = bench.cycle(&ConfigSnapshot::default());
    assert_eq!(retry.counts.applied as usize, retry.channels);
}

#[test]
fn every_outcome_names_its_verdict() {
    let mut bench = Bench::new("balance-curve", no_params());
    let report = bench.cycle(&ConfigSnapshot::default());
    assert_eq!(report.outcomes.len(), report.channels);
    for outcome in &report.outcomes {
        match &outcome.verdict {
            FeeVerdict::Apply { fee_ppm, .. } => assert!(fee_ppm.ppm() <= 2500),
            FeeVerdict::Suppress { reason } => assert!(!reason.is_empty()),
            FeeVerdict::Unchanged => {}
        }
    }
}

#[test]
fn the_default_policy_starts_fresh_from_unreadable_state() {
    use revops::model::{PolicyKind, StateUpdate};
    let mut bench = Bench::new("one-percent", no_params());
    // What an older or foreign version might have left behind.
    let foreign = StateUpdate {
        node: vec![99, 1, 2, 3],
        channels: bench
            .node
            .inner
            .channel_ids()
            .into_iter()
            .map(|id| (id, vec![42; 7]))
            .collect(),
    };
    bench
        .store
        .save_policy_state(PolicyKind::Fee, "main", &foreign)
        .unwrap();
    let report = bench.cycle(&ConfigSnapshot::default());
    assert_eq!(report.policy_error, None);
    assert_eq!(report.outcomes.len(), report.channels);
    let state = bench.store.policy_state(PolicyKind::Fee, "main").unwrap();
    assert_eq!(state.node[0], 1, "rewritten in the policy's own format");
    assert!(state.channels.values().all(|blob| blob[0] == 1));
}

#[test]
fn the_default_policy_is_deterministic_for_a_seed() {
    let decide = || {
        let mut bench = Bench::new("one-percent", no_params());
        let report = bench.cycle(&ConfigSnapshot::default());
        serde_json::to_string(&report.outcomes).unwrap()
    };
    assert_eq!(decide(), decide());
}

#[test]
fn a_shadow_decides_alongside_but_never_acts() {
    let mut bench = Bench::new("static", json!({ "fee-ppm": 130 }));
    bench
        .registry
        .load_bytes(
            revops::model::PolicyKind::Fee,
            revops::cycle::SHADOW_SLOT,
            embedded::shipped("balance-curve").unwrap().wasm,
            PolicySource::Embedded("balance-curve".into()),
            &Default::default(),
            RuntimeLimits::default(),
            &Canary::sample(revops::model::PolicyKind::Fee),
        )
        .unwrap();
    let report = bench.cycle(&ConfigSnapshot::default());
    let shadow = report.shadow.expect("the shadow ran");
    assert_eq!(shadow.compared, report.channels);
    assert!(
        !shadow.differing.is_empty(),
        "balance-curve disagrees with a flat 130 ppm"
    );
    assert_eq!(shadow.error, None);
    // Only the active policy's fees went out.
    assert_eq!(bench.node.set_calls.len(), report.channels);
    assert!(
        bench
            .node
            .set_calls
            .iter()
            .all(|c| c.fee_ppm == Ppm::new(130))
    );
    let summary = bench.store.shadow_summary(&shadow.policy, 10).unwrap();
    assert_eq!(summary.cycles, 1);
    assert_eq!(summary.differing as usize, shadow.differing.len());
}
