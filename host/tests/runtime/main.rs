//! Runtime tests against real components built from `policies/` (shipped and hostile guests).

mod cache;
mod guest_langs;
mod hostile;
mod hot_swap;

use revops::{
    embedded::BUILT_POLICIES_DIR,
    model::{
        CallContext, PolicyKind, Snapshot,
        sample::{SAMPLE_NOW_SECS, sample_snapshot},
    },
    runtime::{Canary, LoadError, LoadReport, PolicyDir, Registry, RuntimeLimits, Sandbox},
};
use serde_json::Value;
use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

/// A policy directory holding a copy of every built guest, and a registry that loads from it.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub registry: Registry,
}

pub const GUESTS: [&str; 5] = [
    "fee_static.wasm",
    "fee_balance_curve.wasm",
    "hostile_fee.wasm",
    "noop_rebalance.wasm",
    "noop_payout.wasm",
];

impl Default for Fixture {
    fn default() -> Self {
        Self::with_sandbox(Sandbox::new(None).expect("sandbox"))
    }
}

impl Fixture {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_sandbox(sandbox: Arc<Sandbox>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for guest in GUESTS {
            std::fs::copy(
                Path::new(BUILT_POLICIES_DIR).join(guest),
                dir.path().join(guest),
            )
            .expect("copy built guest");
        }
        let policy_dir = PolicyDir::new(dir.path()).expect("policy dir");
        let registry = Registry::new(sandbox, Some(policy_dir), 3);
        Self { dir, registry }
    }

    pub fn load(
        &self,
        slot: &str,
        file: &str,
        params: Value,
        limits: RuntimeLimits,
    ) -> Result<LoadReport, LoadError> {
        let params: BTreeMap<String, Value> = serde_json::from_value(params).expect("param map");
        self.registry.load_file(
            PolicyKind::Fee,
            slot,
            Path::new(file),
            &params,
            limits,
            &Canary::sample(PolicyKind::Fee),
        )
    }
}

/// Limits that make hostile tests quick: a short deadline, no fuel, a small memory cap.
pub fn tight_limits() -> RuntimeLimits {
    RuntimeLimits {
        deadline: Duration::from_millis(50),
        fuel: None,
        memory_bytes: 16 << 20,
        ..RuntimeLimits::default()
    }
}

pub fn context_at(now_secs: u64) -> CallContext {
    CallContext {
        now_secs,
        seed: 7,
        ..CallContext::default()
    }
}

pub fn sample() -> Snapshot {
    sample_snapshot(20, 1)
}

pub const LATER: u64 = SAMPLE_NOW_SECS + 3600;
