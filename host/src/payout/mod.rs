//! Payout runs of the Liquidity Dividend System (spec: LDS): hourly balance snapshots, the
//! solvency check, the payout policy's proposal under the host's rules, and exactly-once
//! execution — every line is on disk before money moves, and a rerun reconciles with LNbits.

mod execute;
#[cfg(test)]
mod fake_vault;
mod period;
mod plan;
#[cfg(test)]
mod plan_tests;
mod snapshot;
mod vault;

pub use execute::{PayoutOutcome, run_payout};
pub use period::{Period, PeriodError};
pub use plan::{PayoutPlan, PlannedInvestor, plan_payout, solvency_on};
pub use snapshot::{SnapshotReport, take_snapshot};
pub use vault::{InvestorVault, LnbitsVault};

use crate::{
    lds::{distribution::PayoutRefused, solvency::Solvency},
    lnbits::LnbitsError,
    node::NodeError,
    runtime::{CallError, LoadError},
    store::StoreError,
};

/// The payout policy slot.
pub const PAYOUT_SLOT: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum PayoutError {
    #[error("no investors: add one with revenue-lds-investor-add")]
    NoInvestors,
    #[error(transparent)]
    Period(#[from] PeriodError),
    #[error("LNbits: {0}; nothing was paid")]
    Lnbits(#[from] LnbitsError),
    #[error("payout halted: {}", .0.reason)]
    Insolvent(Box<Solvency>),
    #[error("the payout policy produced no decision: {0}")]
    Policy(#[from] CallError),
    #[error("payout policy: {0}")]
    NoPolicy(#[from] LoadError),
    #[error("the payout policy's lines were refused: {0}")]
    Refused(#[from] PayoutRefused),
    #[error("lightningd: {0}")]
    Node(#[from] NodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "no operator wallet to pay from: set revenue-lds-operator-key (an admin key of a dedicated LNbits wallet)"
    )]
    NoPayer,
}

impl From<crate::cycle::CycleError> for PayoutError {
    fn from(error: crate::cycle::CycleError) -> Self {
        match error {
            crate::cycle::CycleError::Node(e) => PayoutError::Node(e),
            crate::cycle::CycleError::Store(e) => PayoutError::Store(e),
        }
    }
}
