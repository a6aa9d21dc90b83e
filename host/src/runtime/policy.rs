//! A loaded, type-checked policy: compiled once, instantiated afresh for every call.

use super::{
    bindings::{fee, payout, rebalance},
    convert,
    errors::CallError,
    invoke::{Called, run},
    limits::{RuntimeLimits, StoreState},
    sandbox::{CompileReport, Sandbox},
    validate,
    wasi::WasiCall,
};
use crate::model::{
    CallContext, FeeDecision, PayoutDecision, PayoutInput, PolicyInfo, PolicyKind, RebalanceBudget,
    RebalanceDecision, ResolvedParams, Snapshot,
};
use std::{path::PathBuf, sync::Arc, time::SystemTime};

/// The type-checked pre-instantiation of a component, by world.
pub(crate) enum PolicyPre {
    Fee(fee::FeePolicyPre<StoreState>),
    Rebalance(rebalance::RebalancePolicyPre<StoreState>),
    Payout(payout::PayoutPolicyPre<StoreState>),
}

/// Where a policy's bytes came from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicySource {
    /// Shipped inside the revops binary.
    Embedded(String),
    /// A file in the policy directory.
    File(PathBuf),
}

impl std::fmt::Display for PolicySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicySource::Embedded(name) => write!(f, "embedded:{name}"),
            PolicySource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

pub struct LoadedPolicy {
    pub kind: PolicyKind,
    pub info: PolicyInfo,
    pub params: ResolvedParams,
    pub sha256: [u8; 32],
    pub size_bytes: usize,
    pub source: PolicySource,
    pub compile: CompileReport,
    pub loaded_at: SystemTime,
    pub limits: RuntimeLimits,
    pub(crate) sandbox: Arc<Sandbox>,
    pub(crate) pre: PolicyPre,
    /// Parameters already in WIT form: converted once at load, not on every call.
    pub(crate) wit_params: Vec<super::bindings::wit::Param>,
    pub(crate) log_name: Arc<str>,
    /// The component imports WASI: each call gets the deterministic WASI of `wasi.rs`.
    pub(crate) uses_wasi: bool,
}

impl LoadedPolicy {
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// `name@version (sha256 prefix)`, for logs.
    pub fn label(&self) -> String {
        format!(
            "{}@{} ({})",
            self.info.name,
            self.info.version,
            &self.sha256_hex()[..12]
        )
    }

    /// True when the component imports (capability-free, deterministic) WASI.
    pub fn uses_wasi(&self) -> bool {
        self.uses_wasi
    }

    /// The WASI of a call: clocks at the call's time, randomness from its seed.
    fn wasi_for(&self, ctx: &CallContext) -> Option<WasiCall> {
        self.uses_wasi.then_some(WasiCall {
            now_secs: ctx.now_secs,
            seed: ctx.seed,
        })
    }

    fn wrong_kind(&self, wanted: PolicyKind) -> CallError {
        CallError::Host(format!(
            "asked a {} policy for a {wanted} decision",
            self.kind
        ))
    }

    pub fn propose_fees(
        &self,
        ctx: &CallContext,
        snapshot: &Snapshot,
    ) -> Result<Called<FeeDecision>, CallError> {
        let PolicyPre::Fee(pre) = &self.pre else {
            return Err(self.wrong_kind(PolicyKind::Fee));
        };
        let wit_ctx = convert::context_to_wit(ctx, &self.wit_params);
        let wit_snapshot = convert::snapshot_to_wit(snapshot, ctx);
        let wasi = self.wasi_for(ctx);
        let called = run(&self.sandbox, &self.log_name, &self.limits, wasi, |store| {
            pre.instantiate(&mut *store)?
                .call_propose_fees(store, &wit_ctx, &wit_snapshot)
        })?;
        let called = called.map(convert::fee_decision_from_wit);
        validate::fee_decision(&called.value, snapshot, &self.limits.output)?;
        Ok(called)
    }

    pub fn propose_rebalances(
        &self,
        ctx: &CallContext,
        snapshot: &Snapshot,
        budget: &RebalanceBudget,
    ) -> Result<Called<RebalanceDecision>, CallError> {
        let PolicyPre::Rebalance(pre) = &self.pre else {
            return Err(self.wrong_kind(PolicyKind::Rebalance));
        };
        let wit_ctx = convert::context_to_wit(ctx, &self.wit_params);
        let wit_snapshot = convert::snapshot_to_wit(snapshot, ctx);
        let wit_budget = convert::budget_to_wit(budget);
        let wasi = self.wasi_for(ctx);
        let called = run(&self.sandbox, &self.log_name, &self.limits, wasi, |store| {
            pre.instantiate(&mut *store)?.call_propose_rebalances(
                store,
                &wit_ctx,
                &wit_snapshot,
                wit_budget,
            )
        })?;
        let called = called.map(convert::rebalance_decision_from_wit);
        validate::rebalance_decision(&called.value, snapshot, &self.limits.output)?;
        Ok(called)
    }

    pub fn propose_payouts(
        &self,
        ctx: &CallContext,
        input: &PayoutInput,
    ) -> Result<Called<PayoutDecision>, CallError> {
        let PolicyPre::Payout(pre) = &self.pre else {
            return Err(self.wrong_kind(PolicyKind::Payout));
        };
        let wit_ctx = convert::context_to_wit(ctx, &self.wit_params);
        let wit_input = convert::payout_input_to_wit(input);
        let wasi = self.wasi_for(ctx);
        let called = run(&self.sandbox, &self.log_name, &self.limits, wasi, |store| {
            pre.instantiate(&mut *store)?
                .call_propose_payouts(store, &wit_ctx, &wit_input)
        })?;
        let called = called.map(convert::payout_decision_from_wit);
        validate::payout_decision(&called.value, input, &self.limits.output)?;
        Ok(called)
    }
}

/// Calls `describe()` on a freshly type-checked component.
/// With `uses_wasi`, the WASI clocks read 0 and the randomness comes from seed 0.
pub(crate) fn describe(
    sandbox: &Sandbox,
    pre: &PolicyPre,
    log_name: &Arc<str>,
    limits: &RuntimeLimits,
    uses_wasi: bool,
) -> Result<PolicyInfo, CallError> {
    let wasi = uses_wasi.then(WasiCall::default);
    let called = run(sandbox, log_name, limits, wasi, |store| {
        let info = match pre {
            PolicyPre::Fee(pre) => pre.instantiate(&mut *store)?.call_describe(store)?,
            PolicyPre::Rebalance(pre) => pre.instantiate(&mut *store)?.call_describe(store)?,
            PolicyPre::Payout(pre) => pre.instantiate(&mut *store)?.call_describe(store)?,
        };
        Ok(Ok(info))
    })?;
    Ok(convert::info_from_wit(called.value))
}
