//! `static`: the same fee on every channel. The simplest baseline, and what an operator who
//! never touches fees effectively runs.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::{string::String, vec::Vec};
use guest_support::schema::{IntParam, Schema};

wit_bindgen::generate!({
    world: "fee-policy",
    path: "../../wit",
    with: {
        "revops:policy/types@0.1.0": guest_support::types,
        "revops:policy/logging@0.1.0": guest_support::logging,
    },
});

use guest_support::types::{FeeProposal, PricingMode};

guest_support::panic_handler!();

const FEE_PPM: IntParam =
    IntParam::new("fee-ppm", "Proportional fee for every channel, ppm.", 100).range(0, 100_000);
const BASE_MSAT: IntParam =
    IntParam::new("base-msat", "Base fee for every channel, msat.", 1000).range(0, 100_000);
const SCHEMA: Schema = Schema::new(&[&FEE_PPM, &BASE_MSAT]);

struct StaticFee;

impl Guest for StaticFee {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "static".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Sets one fixed fee on every channel.".into(),
            params: SCHEMA.specs(),
        }
    }

    fn propose_fees(ctx: Context, snapshot: Snapshot) -> Result<FeeDecision, String> {
        let fee_ppm = FEE_PPM.get_u32(&ctx.params);
        let fee_base_msat = BASE_MSAT.get_u32(&ctx.params);
        let proposals: Vec<FeeProposal> = snapshot
            .channels
            .iter()
            .map(|channel| FeeProposal {
                channel: channel.id,
                fee_ppm,
                fee_base_msat,
                mode: PricingMode::Normal,
                reason: String::from("static fee"),
            })
            .collect();
        Ok(FeeDecision {
            proposals,
            node_state: Vec::new(),
            channel_states: Vec::new(),
        })
    }
}

export!(StaticFee);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_consistent() {
        assert_eq!(SCHEMA.check(), Ok(()));
        assert_eq!(FEE_PPM.get_u32(&[]), 100);
        assert_eq!(BASE_MSAT.get_u32(&[]), 1000);
    }
}
