//! The host's own types for what policies see and say.
//!
//! These mirror the WIT contract (`wit/policy.wit`) in host terms — `Msat`, `Ppm`,
//! `ShortChannelId` — so that nothing outside `runtime/` depends on generated bindings.
//! Pure data: no I/O, no clock.

mod decision;
mod kind;
mod params;
pub mod sample;
mod snapshot;

pub use decision::{
    FeeDecision, FeeProposal, PayoutDecision, PayoutLine, PricingMode, RebalanceDecision,
    RebalanceKind, RebalanceProposal, StateUpdate,
};
pub use kind::{PolicyKind, UnknownPolicyKind};
pub use params::{
    ParamError, ParamKind, ParamSpec, ParamValue, PolicyInfo, ResolvedParams, params_from_words,
};
pub use snapshot::{
    CallContext, ChannelView, CompetitorFees, FeerateSample, FlowStats, Investor, LockTier, Opener,
    PayoutInput, PeerView, PendingHtlc, PolicyState, Profit, ProfitabilityClass, RebalanceBudget,
    Snapshot,
};
