//! Rebalancing: moving liquidity between two of our channels with a payment to ourselves.
//!
//! `executor` turns an order (source, destination, amount, fee cap) into a circular payment
//! exactly as DESIGN.md describes it — our hop out over the source channel, a route found by
//! askrene `getroutes` from that peer to the destination's peer, our hop back in over the
//! destination channel — with the intent recorded before anything is sent, the outcome settled
//! after, the actual fee booked, and pending payments reconciled from `listsendpays`.
//! Deciding *what* to rebalance (policy, budgets, scarcity guards) is not here.

mod executor;
mod reconcile;

pub use executor::{RebalanceOrder, RebalanceOutcome, execute};
pub use reconcile::{in_flight, reconcile};
