//! Test guest: a valid rebalance policy that never proposes anything. Loaded as a fee policy it
//! is the "wrong world" case of the runtime tests.
#![no_std]

extern crate alloc;

use alloc::{string::String, vec::Vec};

wit_bindgen::generate!({
    world: "rebalance-policy",
    path: "../../../wit",
    with: { "revops:policy/types@0.1.0": guest_support::types },
});

use revops::policy::logging::{Level, log};

fn log_panic(message: &str) {
    log(Level::Error, message);
}
guest_support::panic_handler!(log_panic);

struct NoopRebalance;

impl Guest for NoopRebalance {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "noop-rebalance".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Never proposes a rebalance (test guest).".into(),
            params: Vec::new(),
        }
    }

    fn propose_rebalances(
        ctx: Context,
        _snapshot: Snapshot,
        _budget: RebalanceBudget,
    ) -> Result<RebalanceDecision, String> {
        Ok(RebalanceDecision {
            proposals: Vec::new(),
            node_state: ctx.node_state,
            channel_states: Vec::new(),
        })
    }
}

export!(NoopRebalance);
