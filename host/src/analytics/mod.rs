//! Analytics the host computes from its own ledger, incrementally: never a full
//! `listforwards` per cycle.

pub mod capacity;
pub mod competitors;
pub mod defibrillator;
mod flow;
pub mod mempool;
pub mod profit_cache;
pub mod profitability;

pub use flow::FlowTracker;
