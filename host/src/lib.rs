//! revops: revenue operations for a Core Lightning routing node.
//!
//! Policies decide, the host guarantees. Every decision — fees, rebalances, payouts — is made
//! by a policy: a WASM component behind the WIT contract in `wit/`, sandboxed and swappable at
//! run time (`runtime`). Policies see host-side types from `model` and propose; the host
//! enforces every invariant and performs every side effect.
//!
//! Modules:
//! - `money`, `scid`, `rng`: integer msat/ppm with checked arithmetic, short channel ids,
//!   a deterministic RNG.
//! - `model`: what policies see (snapshots, context, state) and say (proposals), plus the
//!   parameter schema.
//! - `runtime`: wasmtime sandbox, loader, validation, registry with hot swap and quarantine.
//! - `embedded`: the policies shipped in the binary.
//! - `cli`: the `revops` command line.

pub mod analytics;
pub mod cli;
pub mod config;
pub mod cycle;
pub mod embedded;
pub mod failpoint;
pub mod guards;
pub mod lds;
pub mod lnbits;
pub mod model;
pub mod money;
pub mod node;
pub mod payout;
pub mod plugin;
pub mod rebalance;
pub mod rng;
pub mod runtime;
pub mod scid;
pub mod sim;
pub mod store;
pub mod text;
