//! The "one-percent node" fee strategy (spec: fee cycle), free of any WASM or WIT concern so
//! that every rule is unit-tested natively. `policies/fee-one-percent` wraps it as a component.
//!
//! Per channel, first rule that applies wins:
//! 1. congestion — value-weighted HTLC utilisation EMA ≥ 0.8 → the ceiling;
//! 2. zero-fee probe — an active defibrillator probe → 0 ppm;
//! 3. fire sale — old zombie or deep-underwater channel, unless the momentum guard holds;
//! 4. normal — a revenue-seeking controller (`controller`), shaped by the liquidity band,
//!    proactive slot pricing and the Vegas-reflex floor, then (opt-in) the flow-asymmetry
//!    premium and peer-level floor sync.
//!
//! Deterministic: the only randomness is the host's seed.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod controller;
pub mod fire_sale;
pub mod liquidity;
pub mod params;
mod prior;
pub mod quantize;
pub mod state;
pub mod utilisation;
pub mod vegas;

mod decide;

pub use decide::{ChannelInput, Decision, Flow, Mode, NodeInput, decide};
pub use params::Params;
pub use state::{ChannelState, NodeState};
