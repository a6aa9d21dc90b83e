//! Test guest: proposes one rebalance per call, `amount-sat` from the channel with the largest
//! local share into the one with the smallest, offering `max-fee-ppm` of the amount. Simple on
//! purpose: the tests it serves are about the host's guards and executor.
#![no_std]

extern crate alloc;

use alloc::{string::String, vec, vec::Vec};
use guest_support::Params;

wit_bindgen::generate!({
    world: "rebalance-policy",
    path: "../../../wit",
    with: { "revops:policy/types@0.1.0": guest_support::types },
});

use guest_support::types::{
    Channel, ParamKind, ParamSpec, ParamValue, RebalanceKind, RebalanceProposal,
};
use revops::policy::logging::{Level, log};

fn log_panic(message: &str) {
    log(Level::Error, message);
}
guest_support::panic_handler!(log_panic);

fn share(channel: &Channel) -> u64 {
    channel.local_msat.saturating_mul(1000) / channel.capacity_msat.max(1)
}

fn spec(name: &str, default: i64, max: f64) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        description: String::new(),
        kind: ParamKind::Integer,
        default: ParamValue::Integer(default),
        min: Some(1.0),
        max: Some(max),
    }
}

struct SimpleRebalance;

impl Guest for SimpleRebalance {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "simple-rebalance".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Fullest into emptiest (test guest).".into(),
            params: vec![
                spec("amount-sat", 100_000, 10_000_000.0),
                spec("max-fee-ppm", 2_000, 100_000.0),
            ],
        }
    }

    fn propose_rebalances(
        ctx: Context,
        snapshot: Snapshot,
        _budget: RebalanceBudget,
    ) -> Result<RebalanceDecision, String> {
        let params = Params(&ctx.params);
        let amount_msat = params.integer("amount-sat", 100_000) as u64 * 1000;
        let max_fee_msat = amount_msat * params.integer("max-fee-ppm", 2_000) as u64 / 1_000_000;
        let fullest = snapshot.channels.iter().max_by_key(|c| share(c));
        let emptiest = snapshot.channels.iter().min_by_key(|c| share(c));
        let mut proposals = Vec::new();
        if let (Some(from), Some(to)) = (fullest, emptiest)
            && from.id != to.id
            && from.local_msat > amount_msat
        {
            proposals.push(RebalanceProposal {
                source: from.id,
                destination: to.id,
                amount_msat,
                max_fee_msat,
                kind: RebalanceKind::Normal,
                reason: String::from("fullest into emptiest"),
            });
        }
        Ok(RebalanceDecision {
            proposals,
            node_state: Vec::new(),
            channel_states: Vec::new(),
        })
    }
}

export!(SimpleRebalance);
