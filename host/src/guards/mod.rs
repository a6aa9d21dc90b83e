//! The host's invariants, as pure functions: facts in, a verdict out. No I/O, no clock (the
//! time is an argument). A proposal that breaks an invariant is clamped or suppressed here,
//! with the reason, never passed through.

pub mod fee;
pub mod rebalance;
