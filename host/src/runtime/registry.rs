//! Named policies per kind, hot-swapped atomically, with last-known-good and quarantine.
//!
//! Loading prepares and canary-tests a policy completely before the swap, so a bad policy never
//! replaces a good one. A call takes an `Arc` of the active version: a swap during a call lets
//! that call finish on the version it started with. After `failure_threshold` consecutive
//! failures the active version is quarantined and the last-known-good one serves again; without
//! one, the slot holds (every call answers `CallError::Held` and the caller changes nothing).
//!
//! Every change of a slot's layout (load, rollback, quarantine, failure count, removal) is
//! reported to the observer the owner installs (`observe`), in the owner's version ids, so the
//! owner can persist it and `restore` exactly that layout after a restart.

use super::{
    canary::Canary,
    errors::{CallError, LoadError},
    invoke::Called,
    limits::RuntimeLimits,
    loader::{self, LoadRequest, PolicyDir},
    policy::{LoadedPolicy, PolicySource},
    sandbox::{CompileReport, Sandbox},
    slot::{
        Entry, Key, Prepared, RestoredSlot, Slot, SlotChange, SlotObserver, SlotStatus, VersionId,
        quarantine, status_of,
    },
};
use crate::model::{
    CallContext, FeeDecision, PayoutDecision, PayoutInput, PolicyKind, RebalanceBudget,
    RebalanceDecision, Snapshot,
};
use serde::Serialize;
use serde_json::Value;
use std::{
    collections::BTreeMap,
    path::Path,
    sync::{Arc, Mutex, MutexGuard, OnceLock},
    time::Duration,
};

/// Default number of consecutive failures that quarantines a policy.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;

/// What a successful load did.
#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    pub kind: PolicyKind,
    pub slot: String,
    pub policy: String,
    pub version: String,
    pub sha256: String,
    pub size_bytes: usize,
    pub source: String,
    pub compile: CompileReport,
    #[serde(rename = "canary_elapsed_us", with = "super::duration_micros")]
    pub canary_elapsed: Duration,
    pub canary_fuel: u64,
    /// The version it replaced, now the last-known-good.
    pub replaced: Option<String>,
}

pub struct Registry {
    sandbox: Arc<Sandbox>,
    policy_dir: Option<PolicyDir>,
    failure_threshold: u32,
    slots: Mutex<BTreeMap<Key, Slot>>,
    observer: OnceLock<SlotObserver>,
}

impl Registry {
    /// Without a `policy_dir`, only `load_bytes` (embedded policies) is possible.
    pub fn new(
        sandbox: Arc<Sandbox>,
        policy_dir: Option<PolicyDir>,
        failure_threshold: u32,
    ) -> Self {
        Self {
            sandbox,
            policy_dir,
            failure_threshold: failure_threshold.max(1),
            slots: Mutex::new(BTreeMap::new()),
            observer: OnceLock::new(),
        }
    }

    /// Installs the observer of slot changes (once; a second one is refused and returned).
    pub fn observe(&self, observer: SlotObserver) -> Result<(), SlotObserver> {
        self.observer.set(observer)
    }

    fn changed(&self, key: &Key, slot: &Slot) {
        if let Some(observer) = self.observer.get() {
            observer(&SlotChange::Changed {
                kind: key.0,
                slot: &key.1,
                layout: slot.layout(),
            });
        }
    }

    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    fn slots(&self) -> MutexGuard<'_, BTreeMap<Key, Slot>> {
        // A panic while holding this lock cannot leave a slot half-updated (every update is a
        // few field assignments), so a poisoned lock is still consistent.
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Loads `path` (inside the policy directory) into slot `name` of `kind`, unrecorded.
    pub fn load_file(
        &self,
        kind: PolicyKind,
        name: &str,
        path: &Path,
        params: &BTreeMap<String, Value>,
        limits: RuntimeLimits,
        canary: &Canary,
    ) -> Result<LoadReport, LoadError> {
        let prepared = self.prepare_file(kind, path, params, limits, canary)?;
        Ok(self.activate(kind, name, prepared, None))
    }

    /// Loads `wasm` into slot `name` of `kind`, unrecorded.
    #[allow(
        clippy::too_many_arguments,
        reason = "each is a distinct part of a load request"
    )]
    pub fn load_bytes(
        &self,
        kind: PolicyKind,
        name: &str,
        wasm: &[u8],
        source: PolicySource,
        params: &BTreeMap<String, Value>,
        limits: RuntimeLimits,
        canary: &Canary,
    ) -> Result<LoadReport, LoadError> {
        let prepared = self.prepare_bytes(kind, wasm, source, params, limits, canary)?;
        Ok(self.activate(kind, name, prepared, None))
    }

    /// Prepares and canary-tests `path` (inside the policy directory); nothing is swapped yet.
    pub fn prepare_file(
        &self,
        kind: PolicyKind,
        path: &Path,
        params: &BTreeMap<String, Value>,
        limits: RuntimeLimits,
        canary: &Canary,
    ) -> Result<Prepared, LoadError> {
        let dir = self
            .policy_dir
            .as_ref()
            .ok_or_else(|| LoadError::OutsidePolicyDir {
                path: path.to_owned(),
                dir: "(no policy directory configured)".into(),
            })?;
        let (resolved, wasm) = dir.read(path)?;
        self.prepare_bytes(
            kind,
            &wasm,
            PolicySource::File(resolved),
            params,
            limits,
            canary,
        )
    }

    /// Prepares and canary-tests `wasm`; nothing is swapped yet.
    pub fn prepare_bytes(
        &self,
        kind: PolicyKind,
        wasm: &[u8],
        source: PolicySource,
        params: &BTreeMap<String, Value>,
        limits: RuntimeLimits,
        canary: &Canary,
    ) -> Result<Prepared, LoadError> {
        assert_eq!(
            canary.kind(),
            kind,
            "canary input must match the policy kind"
        );
        let request = LoadRequest {
            kind: Some(kind),
            wasm,
            source,
            params,
            limits,
        };
        let policy = Arc::new(loader::prepare(&self.sandbox, request)?);
        let canary = canary.run(&policy).map_err(LoadError::Canary)?;
        Ok(Prepared { policy, canary })
    }

    /// Makes a prepared policy the active version of slot `name` (the one it replaces becomes
    /// the last-known-good), known to the owner as `version`.
    pub fn activate(
        &self,
        kind: PolicyKind,
        name: &str,
        prepared: Prepared,
        version: Option<VersionId>,
    ) -> LoadReport {
        let Prepared { policy, canary } = prepared;
        let replaced = self.swap_in(
            kind,
            name,
            Entry {
                policy: policy.clone(),
                version,
            },
        );
        tracing::info!(%kind, slot = %name, policy = %policy.label(), replaced = %replaced.as_deref().unwrap_or("nothing"), "policy activated");
        LoadReport {
            kind,
            slot: name.to_owned(),
            policy: policy.info.name.clone(),
            version: policy.info.version.clone(),
            sha256: policy.sha256_hex(),
            size_bytes: policy.size_bytes,
            source: policy.source.to_string(),
            compile: policy.compile.clone(),
            canary_elapsed: canary.elapsed,
            canary_fuel: canary.fuel_used,
            replaced,
        }
    }

    fn swap_in(&self, kind: PolicyKind, name: &str, entry: Entry) -> Option<String> {
        let mut slots = self.slots();
        let key = (kind, name.to_owned());
        let slot = slots.entry(key.clone()).or_default();
        let previous = slot.active.replace(entry);
        if previous.is_some() {
            slot.last_known_good = previous;
        }
        slot.quarantined = None;
        slot.consecutive_failures = 0;
        slot.last_error = None;
        self.changed(&key, slot);
        slot.last_known_good.as_ref().map(Entry::label)
    }

    /// Puts a slot back as it was before a restart (replacing whatever is in it).
    pub fn restore(&self, kind: PolicyKind, name: &str, restored: RestoredSlot) -> SlotStatus {
        let entry = |(prepared, version): (Prepared, VersionId)| Entry {
            policy: prepared.policy,
            version: Some(version),
        };
        let slot = Slot {
            active: restored.active.map(entry),
            last_known_good: restored.last_known_good.map(entry),
            quarantined: restored.quarantined,
            consecutive_failures: restored.consecutive_failures,
            last_error: restored.last_error,
        };
        let key = (kind, name.to_owned());
        let status = status_of(&key, &slot);
        let mut slots = self.slots();
        self.changed(&key, &slot);
        slots.insert(key, slot);
        status
    }

    /// The version that serves `name` now.
    pub fn active(&self, kind: PolicyKind, name: &str) -> Result<Arc<LoadedPolicy>, CallError> {
        let slots = self.slots();
        let slot = slots
            .get(&(kind, name.to_owned()))
            .ok_or_else(|| CallError::NotLoaded {
                kind,
                name: name.to_owned(),
            })?;
        slot.active
            .as_ref()
            .map(|e| e.policy.clone())
            .ok_or(CallError::Held)
    }

    /// Records how a call to `policy` ended, quarantining it after too many failures in a row.
    /// Outcomes of a version that has meanwhile been swapped out are ignored.
    pub fn record_outcome(&self, policy: &Arc<LoadedPolicy>, outcome: Result<(), &CallError>) {
        let mut slots = self.slots();
        let Some((key, slot)) = slots.iter_mut().find(|(_, slot)| {
            slot.active
                .as_ref()
                .is_some_and(|active| Arc::ptr_eq(&active.policy, policy))
        }) else {
            return;
        };
        match outcome {
            Ok(()) if slot.consecutive_failures > 0 => {
                slot.consecutive_failures = 0;
                self.changed(key, slot);
            }
            Ok(()) => {}
            Err(error) if error.is_policy_fault() => {
                slot.consecutive_failures += 1;
                slot.last_error = Some(error.to_string());
                tracing::warn!(kind = %key.0, slot = %key.1, policy = %policy.label(), failures = slot.consecutive_failures, %error, "policy call failed");
                if slot.consecutive_failures >= self.failure_threshold {
                    quarantine(key, slot);
                }
                self.changed(key, slot);
            }
            Err(_) => {}
        }
    }

    /// Runs the fee policy of slot `name` and books the outcome.
    pub fn propose_fees(
        &self,
        name: &str,
        ctx: &CallContext,
        snapshot: &Snapshot,
    ) -> Result<Called<FeeDecision>, CallError> {
        let policy = self.active(PolicyKind::Fee, name)?;
        let result = policy.propose_fees(ctx, snapshot);
        self.record_outcome(&policy, result.as_ref().map(|_| ()));
        result
    }

    /// Runs the rebalance policy of slot `name` and books the outcome.
    pub fn propose_rebalances(
        &self,
        name: &str,
        ctx: &CallContext,
        snapshot: &Snapshot,
        budget: &RebalanceBudget,
    ) -> Result<Called<RebalanceDecision>, CallError> {
        let policy = self.active(PolicyKind::Rebalance, name)?;
        let result = policy.propose_rebalances(ctx, snapshot, budget);
        self.record_outcome(&policy, result.as_ref().map(|_| ()));
        result
    }

    pub fn propose_payouts(
        &self,
        name: &str,
        ctx: &CallContext,
        input: &PayoutInput,
    ) -> Result<Called<PayoutDecision>, CallError> {
        let policy = self.active(PolicyKind::Payout, name)?;
        let result = policy.propose_payouts(ctx, input);
        self.record_outcome(&policy, result.as_ref().map(|_| ()));
        result
    }

    /// Makes the last-known-good version active again; the current one becomes last-known-good.
    pub fn rollback(&self, kind: PolicyKind, name: &str) -> Result<SlotStatus, LoadError> {
        let mut slots = self.slots();
        let key = (kind, name.to_owned());
        let slot = slots.get_mut(&key).ok_or_else(|| LoadError::NotLoaded {
            kind,
            name: name.to_owned(),
        })?;
        let previous = slot
            .last_known_good
            .take()
            .ok_or_else(|| LoadError::NothingToRollBack {
                kind,
                name: name.to_owned(),
            })?;
        slot.last_known_good = slot.active.replace(previous);
        slot.consecutive_failures = 0;
        slot.quarantined = None;
        tracing::info!(%kind, slot = %name, "policy rolled back to last-known-good");
        self.changed(&key, slot);
        Ok(status_of(&key, slot))
    }

    /// Unloads a slot entirely (ends a shadow experiment, or removes a named slot).
    pub fn remove(&self, kind: PolicyKind, name: &str) -> Result<(), LoadError> {
        let mut slots = self.slots();
        slots
            .remove(&(kind, name.to_owned()))
            .ok_or_else(|| LoadError::NotLoaded {
                kind,
                name: name.to_owned(),
            })?;
        tracing::info!(%kind, slot = %name, "policy slot removed");
        if let Some(observer) = self.observer.get() {
            observer(&SlotChange::Removed { kind, slot: name });
        }
        Ok(())
    }

    /// Whether slot `name` of `kind` exists (serving or holding).
    pub fn contains(&self, kind: PolicyKind, name: &str) -> bool {
        self.slots().contains_key(&(kind, name.to_owned()))
    }

    pub fn status(&self) -> Vec<SlotStatus> {
        self.slots()
            .iter()
            .map(|(key, slot)| status_of(key, slot))
            .collect()
    }
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
