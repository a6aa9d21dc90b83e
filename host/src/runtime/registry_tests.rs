//! The registry's slot layout and what its observer is told, on shipped policies.

use super::*;
use crate::{
    embedded,
    runtime::slot::{QuarantinedVersion, SlotLayout},
};

/// What the observer saw: the slot, and its layout (`None`: removed).
type Seen = Arc<Mutex<Vec<(String, Option<SlotLayout>)>>>;

fn observed_registry() -> (Registry, Seen) {
    let registry = Registry::new(Sandbox::new(None).unwrap(), None, 3);
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    registry
        .observe(Box::new(move |change| {
            let entry = match change {
                SlotChange::Changed { slot, layout, .. } => {
                    (slot.to_string(), Some(layout.clone()))
                }
                SlotChange::Removed { slot, .. } => (slot.to_string(), None),
            };
            sink.lock().unwrap().push(entry);
        }))
        .map_err(drop)
        .unwrap();
    (registry, seen)
}

fn prepared(registry: &Registry, name: &str) -> Prepared {
    let shipped = embedded::shipped(name).unwrap();
    registry
        .prepare_bytes(
            PolicyKind::Fee,
            shipped.wasm,
            PolicySource::Embedded(name.into()),
            &BTreeMap::new(),
            RuntimeLimits::default(),
            &Canary::sample(PolicyKind::Fee),
        )
        .unwrap()
}

fn last(seen: &Seen) -> (String, Option<SlotLayout>) {
    seen.lock().unwrap().last().cloned().unwrap()
}

fn fail(registry: &Registry, slot: &str) {
    let policy = registry.active(PolicyKind::Fee, slot).unwrap();
    registry.record_outcome(&policy, Err(&CallError::Trap("boom".into())));
}

#[test]
fn loads_and_rollbacks_report_the_layout_in_version_ids() {
    let (registry, seen) = observed_registry();
    registry.activate(
        PolicyKind::Fee,
        "main",
        prepared(&registry, "static"),
        Some(1),
    );
    assert_eq!(
        last(&seen),
        (
            "main".into(),
            Some(SlotLayout {
                active: Some(1),
                ..SlotLayout::default()
            })
        )
    );
    let report = registry.activate(
        PolicyKind::Fee,
        "main",
        prepared(&registry, "balance-curve"),
        Some(2),
    );
    assert!(report.replaced.unwrap().starts_with("static@"));
    assert_eq!(last(&seen).1.unwrap().last_known_good, Some(1));
    registry.rollback(PolicyKind::Fee, "main").unwrap();
    let layout = last(&seen).1.unwrap();
    assert_eq!((layout.active, layout.last_known_good), (Some(1), Some(2)));
    registry.remove(PolicyKind::Fee, "main").unwrap();
    assert_eq!(last(&seen), ("main".into(), None));
    assert_eq!(seen.lock().unwrap().len(), 4);
}

#[test]
fn failures_and_quarantine_are_reported_as_they_happen() {
    let (registry, seen) = observed_registry();
    registry.activate(
        PolicyKind::Fee,
        "main",
        prepared(&registry, "static"),
        Some(1),
    );
    registry.activate(
        PolicyKind::Fee,
        "main",
        prepared(&registry, "balance-curve"),
        Some(2),
    );
    fail(&registry, "main");
    assert_eq!(last(&seen).1.unwrap().consecutive_failures, 1);
    let policy = registry.active(PolicyKind::Fee, "main").unwrap();
    let before = seen.lock().unwrap().len();
    registry.record_outcome(&policy, Ok(()));
    assert_eq!(
        last(&seen).1.unwrap().consecutive_failures,
        0,
        "reset reported"
    );
    registry.record_outcome(&policy, Ok(()));
    assert_eq!(
        seen.lock().unwrap().len(),
        before + 1,
        "an unchanged slot is not reported"
    );
    for _ in 0..3 {
        fail(&registry, "main");
    }
    let layout = last(&seen).1.unwrap();
    assert_eq!(layout.active, Some(1), "the last-known-good serves");
    assert_eq!(layout.last_known_good, None);
    let quarantined = layout.quarantined.unwrap();
    assert!(quarantined.label.starts_with("balance-curve@"));
    assert_eq!(quarantined.version, Some(2));
    assert_eq!(layout.last_error.as_deref(), Some("policy trapped: boom"));
    for _ in 0..3 {
        fail(&registry, "main");
    }
    let holding = last(&seen).1.unwrap();
    assert_eq!((holding.active, holding.last_known_good), (None, None));
    assert!(holding.quarantined.unwrap().label.starts_with("static@"));
    assert_eq!(
        registry.active(PolicyKind::Fee, "main").err(),
        Some(CallError::Held)
    );
}

#[test]
fn a_restored_slot_is_exactly_the_stored_layout() {
    let (registry, seen) = observed_registry();
    let quarantined = QuarantinedVersion {
        label: "hostile@1 (abc)".into(),
        version: Some(7),
    };
    let status = registry.restore(
        PolicyKind::Fee,
        "held",
        RestoredSlot {
            quarantined: Some(quarantined.clone()),
            last_error: Some("policy panicked".into()),
            ..RestoredSlot::default()
        },
    );
    assert_eq!(status.state, "holding");
    assert_eq!(
        registry.active(PolicyKind::Fee, "held").err(),
        Some(CallError::Held)
    );
    let status = registry.restore(
        PolicyKind::Fee,
        "main",
        RestoredSlot {
            active: Some((prepared(&registry, "static"), 4)),
            last_known_good: Some((prepared(&registry, "balance-curve"), 3)),
            consecutive_failures: 2,
            ..RestoredSlot::default()
        },
    );
    assert_eq!(status.state, "serving");
    assert!(status.active.unwrap().starts_with("static@"));
    assert!(
        status
            .last_known_good
            .unwrap()
            .starts_with("balance-curve@")
    );
    assert_eq!(status.consecutive_failures, 2);
    assert_eq!(
        last(&seen).1.unwrap(),
        SlotLayout {
            active: Some(4),
            last_known_good: Some(3),
            quarantined: None,
            consecutive_failures: 2,
            last_error: None,
        }
    );
    // One more failure reaches the threshold the restart carried over.
    fail(&registry, "main");
    let layout = last(&seen).1.unwrap();
    assert_eq!(
        (layout.active, layout.quarantined.unwrap().version),
        (Some(3), Some(4))
    );
    assert!(registry.contains(PolicyKind::Fee, "held"));
    assert!(!registry.contains(PolicyKind::Fee, "other"));
}
