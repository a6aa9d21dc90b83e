//! A registry slot: the active version, the last-known-good one, what is quarantined, and the
//! layout of all that in the owner's version ids (what must survive a restart).

use super::{invoke::Called, policy::LoadedPolicy};
use crate::model::PolicyKind;
use serde::Serialize;
use std::sync::Arc;

/// One slot's state, for status reports.
#[derive(Clone, Debug, Serialize)]
pub struct SlotStatus {
    pub kind: PolicyKind,
    pub slot: String,
    /// `serving`, `fallback` (quarantined, last-known-good serving) or `holding`.
    pub state: &'static str,
    pub active: Option<String>,
    pub last_known_good: Option<String>,
    pub quarantined: Option<String>,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
}

/// The owner's id for a loaded version (the plugin: its row in the store's version log); opaque
/// here. A version loaded without one (an experiment, a test) has `None`.
pub type VersionId = u64;

/// A quarantined version: kept by label only, since it never serves again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarantinedVersion {
    pub label: String,
    pub version: Option<VersionId>,
}

/// A slot as it must survive a restart, in the owner's version ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotLayout {
    pub active: Option<VersionId>,
    pub last_known_good: Option<VersionId>,
    pub quarantined: Option<QuarantinedVersion>,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
}

/// A change the observer is told about, after it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotChange<'a> {
    Changed {
        kind: PolicyKind,
        slot: &'a str,
        layout: SlotLayout,
    },
    Removed {
        kind: PolicyKind,
        slot: &'a str,
    },
}

/// Called with every slot change, in order, while the change is being made (so it must not
/// call back into the registry).
pub type SlotObserver = Box<dyn Fn(&SlotChange<'_>) + Send + Sync>;

/// A policy prepared and canary-tested, ready to `activate`.
pub struct Prepared {
    pub(super) policy: Arc<LoadedPolicy>,
    pub(super) canary: Called<()>,
}

impl Prepared {
    pub fn policy(&self) -> &LoadedPolicy {
        &self.policy
    }
}

/// What `restore` puts back into a slot.
#[derive(Default)]
pub struct RestoredSlot {
    pub active: Option<(Prepared, VersionId)>,
    pub last_known_good: Option<(Prepared, VersionId)>,
    pub quarantined: Option<QuarantinedVersion>,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
}

#[derive(Clone)]
pub(super) struct Entry {
    pub(super) policy: Arc<LoadedPolicy>,
    pub(super) version: Option<VersionId>,
}

impl Entry {
    pub(super) fn label(&self) -> String {
        self.policy.label()
    }
}

/// A slot's key in the registry: its kind and name.
pub(super) type Key = (PolicyKind, String);

#[derive(Default)]
pub(super) struct Slot {
    pub(super) active: Option<Entry>,
    pub(super) last_known_good: Option<Entry>,
    pub(super) quarantined: Option<QuarantinedVersion>,
    pub(super) consecutive_failures: u32,
    pub(super) last_error: Option<String>,
}

impl Slot {
    pub(super) fn layout(&self) -> SlotLayout {
        SlotLayout {
            active: self.active.as_ref().and_then(|e| e.version),
            last_known_good: self.last_known_good.as_ref().and_then(|e| e.version),
            quarantined: self.quarantined.clone(),
            consecutive_failures: self.consecutive_failures,
            last_error: self.last_error.clone(),
        }
    }
}

/// A policy's failure is the policy's, not the host's: logged as a warning, never an error
/// (which lightningd shows as BROKEN, its word for its own bugs).
pub(super) fn quarantine(key: &Key, slot: &mut Slot) {
    let failed = slot.active.take();
    let label = failed.as_ref().map(Entry::label).unwrap_or_default();
    slot.quarantined = failed.map(|entry| QuarantinedVersion {
        label: label.clone(),
        version: entry.version,
    });
    slot.consecutive_failures = 0;
    match slot.last_known_good.take() {
        Some(good) => {
            tracing::warn!(kind = %key.0, slot = %key.1, quarantined = %label, serving = %good.label(), "policy quarantined; last-known-good version serves");
            slot.active = Some(good);
        }
        None => {
            tracing::warn!(kind = %key.0, slot = %key.1, quarantined = %label, "policy quarantined with no last-known-good version; holding: no changes until a policy is loaded");
        }
    }
}

pub(super) fn status_of(key: &Key, slot: &Slot) -> SlotStatus {
    let state = match (&slot.active, &slot.quarantined) {
        (None, _) => "holding",
        (Some(_), Some(_)) => "fallback",
        (Some(_), None) => "serving",
    };
    SlotStatus {
        kind: key.0,
        slot: key.1.clone(),
        state,
        active: slot.active.as_ref().map(Entry::label),
        last_known_good: slot.last_known_good.as_ref().map(Entry::label),
        quarantined: slot.quarantined.as_ref().map(|q| q.label.clone()),
        consecutive_failures: slot.consecutive_failures,
        last_error: slot.last_error.clone(),
    }
}
