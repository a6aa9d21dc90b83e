//! The host's whole view of lightningd, as a trait (`Node`), and its production
//! implementation over CLN's JSON-RPC socket (`ClnNode`, the only user of cln-rpc).
//! The simulator (`crate::sim`) implements the same trait.

mod cln;
mod cln_json;
mod types;

pub use cln::ClnNode;
pub use types::*;
