//! Named policies per kind, hot-swapped atomically, with last-known-good and quarantine.
//!
//! Loading prepares and canary-tests a policy completely before the swap, so a bad policy never
//! replaces a good one. A call takes an `Arc` of the active version: a swap during a call lets
//! that call finish on the version it started with. After `failure_threshold` consecutive
//! failures the active version is quarantined and the last-known-good one serves again; without
//! one, the slot holds (every call answers `CallError::Held` and the caller changes nothing).

use super::{
    errors::{CallError, LoadError},
    invoke::Called,
    limits::RuntimeLimits,
    loader::{self, LoadRequest, PolicyDir},
    policy::{LoadedPolicy, PolicySource},
    sandbox::{CompileReport, Sandbox},
};
use crate::model::{
    CallContext, FeeDecision, PayoutDecision, PayoutInput, PolicyKind, RebalanceBudget,
    RebalanceDecision, Snapshot,
    sample::{SAMPLE_NOW_SECS, sample_snapshot},
};
use serde::Serialize;
use serde_json::Value;
use std::{
    collections::BTreeMap,
    path::Path,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

/// Default number of consecutive failures that quarantines a policy.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;

/// The input a new policy is tried on before it may serve.
pub enum Canary {
    Fee(CallContext, Snapshot),
    Rebalance(CallContext, Snapshot, RebalanceBudget),
    Payout(CallContext, PayoutInput),
}

impl Canary {
    /// A built-in sample for `kind`, used when no live snapshot is at hand.
    pub fn sample(kind: PolicyKind) -> Self {
        let ctx = CallContext {
            now_secs: SAMPLE_NOW_SECS,
            seed: 1,
            ..CallContext::default()
        };
        match kind {
            PolicyKind::Fee => Canary::Fee(ctx, sample_snapshot(20, 1)),
            PolicyKind::Rebalance => {
                Canary::Rebalance(ctx, sample_snapshot(20, 1), RebalanceBudget::default())
            }
            PolicyKind::Payout => Canary::Payout(ctx, PayoutInput::default()),
        }
    }

    fn kind(&self) -> PolicyKind {
        match self {
            Canary::Fee(..) => PolicyKind::Fee,
            Canary::Rebalance(..) => PolicyKind::Rebalance,
            Canary::Payout(..) => PolicyKind::Payout,
        }
    }

    /// Runs the canary; returns the call's cost.
    pub fn run(&self, policy: &LoadedPolicy) -> Result<Called<()>, CallError> {
        match self {
            Canary::Fee(ctx, snapshot) => policy.propose_fees(ctx, snapshot).map(|c| c.map(drop)),
            Canary::Rebalance(ctx, snapshot, budget) => policy
                .propose_rebalances(ctx, snapshot, budget)
                .map(|c| c.map(drop)),
            Canary::Payout(ctx, input) => policy.propose_payouts(ctx, input).map(|c| c.map(drop)),
        }
    }
}

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

#[derive(Default)]
struct Slot {
    active: Option<Arc<LoadedPolicy>>,
    last_known_good: Option<Arc<LoadedPolicy>>,
    quarantined: Option<Arc<LoadedPolicy>>,
    consecutive_failures: u32,
    last_error: Option<String>,
}

pub struct Registry {
    sandbox: Arc<Sandbox>,
    policy_dir: Option<PolicyDir>,
    failure_threshold: u32,
    slots: Mutex<BTreeMap<(PolicyKind, String), Slot>>,
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
        }
    }

    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    fn slots(&self) -> MutexGuard<'_, BTreeMap<(PolicyKind, String), Slot>> {
        // A panic while holding this lock cannot leave a slot half-updated (every update is a
        // few field assignments), so a poisoned lock is still consistent.
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Loads `path` (inside the policy directory) into slot `name` of `kind`.
    pub fn load_file(
        &self,
        kind: PolicyKind,
        name: &str,
        path: &Path,
        params: &BTreeMap<String, Value>,
        limits: RuntimeLimits,
        canary: &Canary,
    ) -> Result<LoadReport, LoadError> {
        let dir = self
            .policy_dir
            .as_ref()
            .ok_or_else(|| LoadError::OutsidePolicyDir {
                path: path.to_owned(),
                dir: "(no policy directory configured)".into(),
            })?;
        let (resolved, wasm) = dir.read(path)?;
        self.load_bytes(
            kind,
            name,
            &wasm,
            PolicySource::File(resolved),
            params,
            limits,
            canary,
        )
    }

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
        let canary_call = canary.run(&policy).map_err(LoadError::Canary)?;
        let replaced = self.swap_in(kind, name, policy.clone());
        tracing::info!(%kind, slot = name, policy = %policy.label(), replaced = ?replaced, "policy activated");
        Ok(LoadReport {
            kind,
            slot: name.to_owned(),
            policy: policy.info.name.clone(),
            version: policy.info.version.clone(),
            sha256: policy.sha256_hex(),
            size_bytes: policy.size_bytes,
            source: policy.source.to_string(),
            compile: policy.compile.clone(),
            canary_elapsed: canary_call.elapsed,
            canary_fuel: canary_call.fuel_used,
            replaced,
        })
    }

    fn swap_in(&self, kind: PolicyKind, name: &str, policy: Arc<LoadedPolicy>) -> Option<String> {
        let mut slots = self.slots();
        let slot = slots.entry((kind, name.to_owned())).or_default();
        let previous = slot.active.replace(policy);
        if previous.is_some() {
            slot.last_known_good = previous;
        }
        slot.quarantined = None;
        slot.consecutive_failures = 0;
        slot.last_error = None;
        slot.last_known_good.as_ref().map(|p| p.label())
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
        slot.active.clone().ok_or(CallError::Held)
    }

    /// Records how a call to `policy` ended, quarantining it after too many failures in a row.
    /// Outcomes of a version that has meanwhile been swapped out are ignored.
    pub fn record_outcome(&self, policy: &Arc<LoadedPolicy>, outcome: Result<(), &CallError>) {
        let mut slots = self.slots();
        let Some((key, slot)) = slots.iter_mut().find(|(_, slot)| {
            slot.active
                .as_ref()
                .is_some_and(|active| Arc::ptr_eq(active, policy))
        }) else {
            return;
        };
        match outcome {
            Ok(()) => slot.consecutive_failures = 0,
            Err(error) if error.is_policy_fault() => {
                slot.consecutive_failures += 1;
                slot.last_error = Some(error.to_string());
                tracing::warn!(kind = %key.0, slot = key.1, policy = %policy.label(), failures = slot.consecutive_failures, %error, "policy call failed");
                if slot.consecutive_failures >= self.failure_threshold {
                    quarantine(key, slot);
                }
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
        tracing::info!(%kind, slot = name, "policy rolled back to last-known-good");
        Ok(status_of(&key, slot))
    }

    /// Unloads a slot entirely (e.g. ends a shadow experiment).
    pub fn remove(&self, kind: PolicyKind, name: &str) -> Result<(), LoadError> {
        self.slots()
            .remove(&(kind, name.to_owned()))
            .map(drop)
            .ok_or_else(|| LoadError::NotLoaded {
                kind,
                name: name.to_owned(),
            })
    }

    pub fn status(&self) -> Vec<SlotStatus> {
        self.slots()
            .iter()
            .map(|(key, slot)| status_of(key, slot))
            .collect()
    }
}

fn quarantine(key: &(PolicyKind, String), slot: &mut Slot) {
    let failed = slot.active.take();
    let label = failed.as_ref().map(|p| p.label()).unwrap_or_default();
    slot.quarantined = failed;
    slot.consecutive_failures = 0;
    match slot.last_known_good.take() {
        Some(good) => {
            tracing::warn!(kind = %key.0, slot = key.1, quarantined = label, serving = %good.label(), "policy quarantined; last-known-good version serves");
            slot.active = Some(good);
        }
        None => {
            tracing::error!(kind = %key.0, slot = key.1, quarantined = label, "policy quarantined with no last-known-good version; holding: no changes until a policy is loaded");
        }
    }
}

fn status_of(key: &(PolicyKind, String), slot: &Slot) -> SlotStatus {
    let state = match (&slot.active, &slot.quarantined) {
        (None, _) => "holding",
        (Some(_), Some(_)) => "fallback",
        (Some(_), None) => "serving",
    };
    SlotStatus {
        kind: key.0,
        slot: key.1.clone(),
        state,
        active: slot.active.as_ref().map(|p| p.label()),
        last_known_good: slot.last_known_good.as_ref().map(|p| p.label()),
        quarantined: slot.quarantined.as_ref().map(|p| p.label()),
        consecutive_failures: slot.consecutive_failures,
        last_error: slot.last_error.clone(),
    }
}
