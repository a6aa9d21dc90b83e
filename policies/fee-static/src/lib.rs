//! `static`: the same fee on every channel. The simplest baseline, and what an operator who
//! never touches fees effectively runs.
#![no_std]

extern crate alloc;

use alloc::{string::String, vec::Vec};
use guest_support::Params;

wit_bindgen::generate!({
    world: "fee-policy",
    path: "../../wit",
    with: { "revops:policy/types@0.1.0": guest_support::types },
});

use guest_support::types::{FeeProposal, ParamKind, ParamSpec, ParamValue, PricingMode};
use revops::policy::logging::{Level, log};

fn log_panic(message: &str) {
    log(Level::Error, message);
}
guest_support::panic_handler!(log_panic);

const DEFAULT_FEE_PPM: i64 = 100;
const DEFAULT_BASE_MSAT: i64 = 1000;

struct StaticFee;

impl Guest for StaticFee {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "static".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Sets one fixed fee on every channel.".into(),
            params: alloc::vec![
                ParamSpec {
                    name: "fee-ppm".into(),
                    description: "Proportional fee for every channel, ppm.".into(),
                    kind: ParamKind::Integer,
                    default: ParamValue::Integer(DEFAULT_FEE_PPM),
                    min: Some(0.0),
                    max: Some(100_000.0),
                },
                ParamSpec {
                    name: "base-msat".into(),
                    description: "Base fee for every channel, msat.".into(),
                    kind: ParamKind::Integer,
                    default: ParamValue::Integer(DEFAULT_BASE_MSAT),
                    min: Some(0.0),
                    max: Some(100_000.0),
                },
            ],
        }
    }

    fn propose_fees(ctx: Context, snapshot: Snapshot) -> Result<FeeDecision, String> {
        let params = Params(&ctx.params);
        let fee_ppm = params.u32("fee-ppm", DEFAULT_FEE_PPM as u32);
        let fee_base_msat = params.u32("base-msat", DEFAULT_BASE_MSAT as u32);
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
