//! The one decision cycle production and simulation share:
//! gather → snapshot → decide (policy) → guard → execute → record.
//!
//! `ingest` pulls new forwards into the ledger and the flow analytics; `gather` builds the
//! policy's snapshot from the node, repairing the fee record where the chain disagrees (price
//! truth); `fee` runs the fee cycle. A policy failure is not a cycle error: the cycle records it
//! and changes nothing. Only the node or the store failing is an error.

mod fee;
mod fee_intents;
mod gather;
mod ingest;
pub mod partition;
mod rebalance;
mod shadow;

pub use fee::{FeeCycleReport, FeeOutcome, SlotRun, VerdictCounts, run_fee_cycle};
pub use gather::FEERATE_HISTORY_SECS;
pub use ingest::ingest_forwards;
pub use rebalance::{RebalanceCycleReport, RebalanceDecisionOutcome, run_rebalance_cycle};
pub use shadow::{SHADOW_SLOT, ShadowDiff, ShadowReport};

use crate::{
    analytics::FlowTracker, node::Node, node::NodeError, runtime::Registry, store::Store,
    store::StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Everything a cycle touches. The caller owns them; a cycle borrows them for its duration.
pub struct CycleDeps<'a> {
    pub node: &'a mut dyn Node,
    pub store: &'a mut Store,
    pub registry: &'a Registry,
    pub flows: &'a mut FlowTracker,
}
