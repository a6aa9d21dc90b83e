//! The input a new policy must pass before it may serve.

use super::{errors::CallError, invoke::Called, policy::LoadedPolicy};
use crate::model::{
    CallContext, PayoutInput, PolicyKind, RebalanceBudget, Snapshot,
    sample::{SAMPLE_NOW_SECS, sample_snapshot},
};

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

    pub(super) fn kind(&self) -> PolicyKind {
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
