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
    // The peers' strategies (`policies/peers/`): other tools' logic, for comparison.
    EmbeddedPolicy {
        name: "clboss",
        kind: PolicyKind::Fee,
        description: "peer: CLBOSS fees, competitor median × size, balance and price-theory modifiers",
        wasm: built!("peer_clboss.wasm"),
    },
    EmbeddedPolicy {
        name: "lndg-autofees",
        kind: PolicyKind::Fee,
        description: "peer: LNDg Auto-Fees, flow and failed-HTLC steps per liquidity band once per AF-UpdateHours",
        wasm: built!("peer_lndg_autofees.wasm"),
    },
    EmbeddedPolicy {
        name: "charge-lnd-proportional",
        kind: PolicyKind::Fee,
        description: "peer: charge-lnd proportional, fee linear in the liquidity ratio between min and max",
        wasm: built!("peer_charge_lnd_proportional.wasm"),
    },
    EmbeddedPolicy {
        name: "lit-autofees",
        kind: PolicyKind::Fee,
        description: "peer: Lightning Terminal Autofees, throughput against the top earners in small three-day steps",
        wasm: built!("peer_lit_autofees.wasm"),
    },
    EmbeddedPolicy {
        name: "cl-revenue-ops",
        kind: PolicyKind::Fee,
        description: "peer: cl-revenue-ops v2, Thompson sampling over the fee with an AIMD defence",
        wasm: built!("peer_cl_revenue_ops.wasm"),
    },
    EmbeddedPolicy {
        name: "clboss-earnings",
        kind: PolicyKind::Rebalance,
        description: "peer: CLBOSS EarningsRebalancer, refills only the top earners within a share of their earnings",
        wasm: built!("peer_clboss_earnings.wasm"),
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
