//! `balance-curve`: the classic balance-proportional fee (charge-lnd's `proportional`
//! strategy, lightning feeadjuster). The emptier our side of a channel, the dearer it is to
//! drain further:
//!
//! `fee_ppm = min_ppm + (max_ppm − min_ppm) · (1 − local/capacity)^exponent`
//!
//! It ignores flow and revenue entirely, which is why it serves as a baseline.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::{format, vec::Vec};
use guest_support::{
    schema::{FloatParam, IntParam, Schema},
    types::Param,
};

wit_bindgen::generate!({
    world: "fee-policy",
    path: "../../wit",
    with: {
        "revops:policy/types@0.1.0": guest_support::types,
        "revops:policy/logging@0.1.0": guest_support::logging,
    },
});

use guest_support::types::{Channel, FeeProposal, PricingMode};

guest_support::panic_handler!();

const MIN_PPM: IntParam =
    IntParam::new("min-ppm", "Fee when all liquidity is on our side, ppm.", 10).range(0, 100_000);
const MAX_PPM: IntParam = IntParam::new(
    "max-ppm",
    "Fee when no liquidity is on our side, ppm.",
    1000,
)
.range(0, 100_000);
const EXPONENT: FloatParam = FloatParam::new(
    "exponent",
    "Curve shape: 1 is linear, above 1 stays cheap longer.",
    1.0,
)
.range(0.25, 4.0);
const BASE_MSAT: IntParam =
    IntParam::new("base-msat", "Base fee for every channel, msat.", 1000).range(0, 100_000);
const SCHEMA: Schema = Schema::new(&[&MIN_PPM, &MAX_PPM, &EXPONENT, &BASE_MSAT]);

struct Curve {
    min_ppm: u32,
    max_ppm: u32,
    exponent: f64,
}

impl Curve {
    fn from_params(params: &[Param]) -> Result<Self, alloc::string::String> {
        let curve = Self {
            min_ppm: MIN_PPM.get_u32(params),
            max_ppm: MAX_PPM.get_u32(params),
            exponent: EXPONENT.get(params),
        };
        if curve.min_ppm > curve.max_ppm {
            return Err(format!(
                "min-ppm ({}) is above max-ppm ({})",
                curve.min_ppm, curve.max_ppm
            ));
        }
        Ok(curve)
    }

    fn fee_ppm(&self, channel: &Channel) -> u32 {
        let total = channel.local_msat.saturating_add(channel.remote_msat);
        if total == 0 {
            return self.max_ppm;
        }
        let local_share = channel.local_msat as f64 / total as f64;
        let scarcity = libm::pow(1.0 - local_share, self.exponent);
        let span = f64::from(self.max_ppm - self.min_ppm);
        self.min_ppm + libm::round(span * scarcity) as u32
    }
}

struct BalanceCurve;

impl Guest for BalanceCurve {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "balance-curve".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "Fee rises as the local balance falls: min-ppm when full, max-ppm when empty."
                    .into(),
            params: SCHEMA.specs(),
        }
    }

    fn propose_fees(
        ctx: Context,
        snapshot: Snapshot,
    ) -> Result<FeeDecision, alloc::string::String> {
        let curve = Curve::from_params(&ctx.params)?;
        let fee_base_msat = BASE_MSAT.get_u32(&ctx.params);
        let proposals: Vec<FeeProposal> = snapshot
            .channels
            .iter()
            .map(|channel| FeeProposal {
                channel: channel.id,
                fee_ppm: curve.fee_ppm(channel),
                fee_base_msat,
                mode: PricingMode::Normal,
                reason: "balance curve".into(),
            })
            .collect();
        Ok(FeeDecision {
            proposals,
            node_state: Vec::new(),
            channel_states: Vec::new(),
        })
    }
}

export!(BalanceCurve);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_consistent() {
        assert_eq!(SCHEMA.check(), Ok(()));
        let curve = Curve::from_params(&[]).unwrap();
        assert_eq!(
            (curve.min_ppm, curve.max_ppm, curve.exponent),
            (10, 1000, 1.0)
        );
    }
}
