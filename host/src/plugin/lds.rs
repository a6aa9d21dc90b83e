//! The Liquidity Dividend System on the plugin: snapshots, solvency, payout preview and run,
//! each on a worker thread with lightningd, the store and LNbits.

use super::state::{LdsSetup, Revops, unix_now};
use crate::{
    embedded,
    lds::solvency::Solvency,
    model::PolicyKind,
    money::Msat,
    node::{ClnNode, Node},
    payout::{
        LnbitsVault, PAYOUT_SLOT, PayoutError, PayoutOutcome, PayoutPlan, SnapshotReport,
        plan_payout, run_payout, solvency_on, take_snapshot,
    },
    runtime::Registry,
    store::Store,
};
use std::collections::BTreeMap;
use tokio::runtime::Handle;

/// The shipped payout policy loaded when LDS is configured and no payout policy was restored.
pub const DEFAULT_PAYOUT_POLICY: &str = "payout-twab";

#[derive(Debug, thiserror::Error)]
pub enum LdsError {
    #[error("the Liquidity Dividend System is off: start revops with revenue-lnbits-url")]
    Off,
    #[error(transparent)]
    Payout(#[from] PayoutError),
}

impl Revops {
    pub fn lds_setup(&self) -> Option<&LdsSetup> {
        self.setup.lds.as_ref()
    }

    fn vault(&self, runtime: &Handle) -> Result<LnbitsVault, LdsError> {
        let client = self.lnbits.clone().ok_or(LdsError::Off)?;
        Ok(LnbitsVault {
            client,
            runtime: runtime.clone(),
            operator_key: self.lds_setup().and_then(|l| l.operator_key.clone()),
        })
    }

    /// Loads the shipped payout policy into the default payout slot if LDS is on and the slot
    /// has never been loaded (a restored operator choice wins, and a holding slot stays holding).
    pub(super) fn ensure_payout_policy(&self) {
        if self.lds_setup().is_none()
            || self.registry.contains(PolicyKind::Payout, PAYOUT_SLOT)
            || embedded::shipped(DEFAULT_PAYOUT_POLICY).is_none()
        {
            return;
        }
        let source = format!("embedded:{DEFAULT_PAYOUT_POLICY}");
        if let Err(error) = self.load_policy(
            PolicyKind::Payout,
            PAYOUT_SLOT,
            &source,
            &BTreeMap::new(),
            true,
        ) {
            tracing::warn!(%error, "cannot load the default payout policy");
        }
    }

    /// Reads every investor balance into a snapshot now (blocking: call from a worker thread).
    pub fn lds_snapshot_blocking(&self, runtime: &Handle) -> Result<SnapshotReport, LdsError> {
        let vault = self.vault(runtime)?;
        let now = unix_now();
        Ok(take_snapshot(&mut self.store(), &vault, now)?)
    }

    /// The solvency check on the node as it is now, without a payout.
    pub fn lds_solvency_blocking(&self, runtime: &Handle) -> Result<Solvency, LdsError> {
        let vault = self.vault(runtime)?;
        let investors = self.store().investors().map_err(PayoutError::from)?;
        let mut liabilities = Msat::ZERO;
        for investor in &investors {
            let balance = crate::payout::InvestorVault::balance(&vault, &investor.invoice_key)
                .map_err(PayoutError::from)?;
            liabilities = liabilities.saturating_add(balance);
        }
        let node = self.connect(runtime).map_err(PayoutError::from)?;
        let funds = node.funds().map_err(PayoutError::from)?;
        let check = solvency_on(&node, &funds, liabilities)?;
        self.store()
            .record_solvency(unix_now(), None, &check)
            .map_err(PayoutError::from)?;
        Ok(check)
    }

    /// What a payout of `period` would pay now; nothing is sent.
    pub fn payout_preview_blocking(
        &self,
        runtime: &Handle,
        period: &str,
    ) -> Result<PayoutPlan, LdsError> {
        let setup = self.payout_setup(runtime, false)?;
        Ok(setup.plan(&mut self.store(), &self.registry, period, unix_now())?)
    }

    /// Runs the payout of `period`, or continues it (exactly once per investor).
    pub fn payout_run_blocking(
        &self,
        runtime: &Handle,
        period: &str,
    ) -> Result<PayoutOutcome, LdsError> {
        let setup = self.payout_setup(runtime, true)?;
        let now = unix_now();
        let mut store = self.store();
        Ok(run_payout(
            &mut store,
            &setup.vault,
            period,
            now,
            |store| setup.plan(store, &self.registry, period, now),
        )?)
    }

    /// LNbits, lightningd after an ingestion, the minimum payout and a seed; with
    /// `needs_payer`, refused before anything else when there is no operator wallet.
    fn payout_setup(&self, runtime: &Handle, needs_payer: bool) -> Result<PayoutSetup, LdsError> {
        let vault = self.vault(runtime)?;
        if needs_payer && vault.operator_key.is_none() {
            return Err(PayoutError::NoPayer.into());
        }
        self.ingest_before_payout(runtime);
        Ok(PayoutSetup {
            vault,
            node: self.connect(runtime).map_err(PayoutError::from)?,
            minimum: self.config.snapshot().lds.min_payout,
            seed: self.next_seed(),
        })
    }

    fn ingest_before_payout(&self, runtime: &Handle) {
        // Profit counts what the ledger holds: bring it up to date, but a failure here only
        // means the payout sees the ledger as of the last ingestion.
        if let Err(error) = self.ingest_blocking(runtime) {
            tracing::warn!(%error, "ingestion before the payout failed; using the ledger as it is");
        }
    }
}

/// What a payout preview or run works with.
struct PayoutSetup {
    vault: LnbitsVault,
    node: ClnNode,
    minimum: Msat,
    seed: u64,
}

impl PayoutSetup {
    fn plan(
        &self,
        store: &mut Store,
        registry: &Registry,
        period: &str,
        now: u64,
    ) -> Result<PayoutPlan, PayoutError> {
        plan_payout(
            &self.node,
            store,
            registry,
            &self.vault,
            period,
            now,
            self.seed,
            self.minimum,
        )
    }
}
