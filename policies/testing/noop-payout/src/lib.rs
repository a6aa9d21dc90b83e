//! Test guest: a valid payout policy that withholds everything it is offered.
#![no_std]

extern crate alloc;

use alloc::{string::String, vec::Vec};

wit_bindgen::generate!({
    world: "payout-policy",
    path: "../../../wit",
    with: { "revops:policy/types@0.1.0": guest_support::types },
});

use revops::policy::logging::{Level, log};

fn log_panic(message: &str) {
    log(Level::Error, message);
}
guest_support::panic_handler!(log_panic);

struct NoopPayout;

impl Guest for NoopPayout {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "noop-payout".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Pays nobody and withholds everything (test guest).".into(),
            params: Vec::new(),
        }
    }

    fn propose_payouts(ctx: Context, input: PayoutInput) -> Result<PayoutDecision, String> {
        Ok(PayoutDecision {
            lines: Vec::new(),
            withheld_msat: input.distributable_msat,
            node_state: ctx.node_state,
        })
    }
}

export!(NoopPayout);
