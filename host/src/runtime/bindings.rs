//! Rust bindings generated from `wit/policy.wit`: one module per world. The shared `types`
//! and `logging` interfaces are generated once (in `fee`) and reused by the other worlds,
//! so one conversion and one `log` implementation serve all three.
//!
//! Nothing here leaves `runtime/`: `convert` maps these types to `crate::model`.

pub mod fee {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "fee-policy",
    });
}

pub mod rebalance {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "rebalance-policy",
        with: {
            "revops:policy/types": super::fee::revops::policy::types,
            "revops:policy/logging": super::fee::revops::policy::logging,
        },
    });
}

pub mod payout {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "payout-policy",
        with: {
            "revops:policy/types": super::fee::revops::policy::types,
            "revops:policy/logging": super::fee::revops::policy::logging,
        },
    });
}

pub use fee::revops::policy::{logging, types as wit};
