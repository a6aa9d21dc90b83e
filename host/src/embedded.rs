//! The policies shipped inside the binary (built from `policies/` by `build.rs`).

use crate::model::PolicyKind;

pub struct EmbeddedPolicy {
    pub name: &'static str,
    pub kind: PolicyKind,
    pub description: &'static str,
    pub wasm: &'static [u8],
}

macro_rules! built {
    ($file:literal) => {
        include_bytes!(concat!(env!("REVOPS_BUILT_POLICIES"), "/", $file))
    };
}

pub const SHIPPED: &[EmbeddedPolicy] = &[
    EmbeddedPolicy {
        name: "one-percent",
        kind: PolicyKind::Fee,
        description: "revenue-seeking search with congestion, probe, fire-sale, slot and mempool rules",
        wasm: built!("fee_one_percent.wasm"),
    },
    EmbeddedPolicy {
        name: "rebalance-ev",
        kind: PolicyKind::Rebalance,
        description: "refills channels short of liquidity when expected fee income beats route and opportunity costs",
        wasm: built!("rebalance_ev.wasm"),
    },
    EmbeddedPolicy {
        name: "payout-twab",
        kind: PolicyKind::Payout,
        description: "profit share by 72 h time-weighted balance over node capital, rebated by lock tier, with a reserve withheld",
        wasm: built!("payout_twab.wasm"),
    },
    EmbeddedPolicy {
        name: "balance-curve",
        kind: PolicyKind::Fee,
        description: "baseline: fee rises as the local balance falls (charge-lnd proportional)",
        wasm: built!("fee_balance_curve.wasm"),
    },
    EmbeddedPolicy {
        name: "static",
        kind: PolicyKind::Fee,
        description: "baseline: one fixed fee on every channel",
        wasm: built!("fee_static.wasm"),
    },
];

/// The fee policy that runs when the operator has loaded none.
pub const DEFAULT_FEE_POLICY: &str = "one-percent";

pub fn shipped(name: &str) -> Option<&'static EmbeddedPolicy> {
    SHIPPED.iter().find(|p| p.name == name)
}

/// Where `build.rs` left every guest built from `policies/`, test guests included. A path on
/// the build machine: for tests and benchmarks, never for the installed binary.
pub const BUILT_POLICIES_DIR: &str = env!("REVOPS_BUILT_POLICIES");
