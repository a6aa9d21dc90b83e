//! `balance-curve`: the classic balance-proportional fee (charge-lnd's `proportional`
//! strategy, lightning feeadjuster). The emptier our side of a channel, the dearer it is to
//! drain further:
//!
//! `fee_ppm = min_ppm + (max_ppm − min_ppm) · (1 − local/capacity)^exponent`
//!
//! It ignores flow and revenue entirely, which is why it serves as a baseline.
#![no_std]

extern crate alloc;

use alloc::{format, vec::Vec};
use guest_support::Params;

wit_bindgen::generate!({
    world: "fee-policy",
    path: "../../wit",
    with: { "revops:policy/types@0.1.0": guest_support::types },
});

use guest_support::types::{Channel, FeeProposal, ParamKind, ParamSpec, ParamValue, PricingMode};
use revops::policy::logging::{Level, log};

fn log_panic(message: &str) {
    log(Level::Error, message);
}
guest_support::panic_handler!(log_panic);

struct Curve {
    min_ppm: u32,
    max_ppm: u32,
    exponent: f64,
}

impl Curve {
    fn from_params(params: &Params<'_>) -> Result<Self, alloc::string::String> {
        let curve = Self {
            min_ppm: params.u32("min-ppm", 10),
            max_ppm: params.u32("max-ppm", 1000),
            exponent: params.float("exponent", 1.0),
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

fn integer_spec(name: &str, description: &str, default: i64, max: f64) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        description: description.into(),
        kind: ParamKind::Integer,
        default: ParamValue::Integer(default),
        min: Some(0.0),
        max: Some(max),
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
            params: alloc::vec![
                integer_spec(
                    "min-ppm",
                    "Fee when all liquidity is on our side, ppm.",
                    10,
                    100_000.0
                ),
                integer_spec(
                    "max-ppm",
                    "Fee when no liquidity is on our side, ppm.",
                    1000,
                    100_000.0
                ),
                ParamSpec {
                    name: "exponent".into(),
                    description: "Curve shape: 1 is linear, above 1 stays cheap longer.".into(),
                    kind: ParamKind::Float,
                    default: ParamValue::Float(1.0),
                    min: Some(0.25),
                    max: Some(4.0),
                },
                integer_spec(
                    "base-msat",
                    "Base fee for every channel, msat.",
                    1000,
                    100_000.0
                ),
            ],
        }
    }

    fn propose_fees(
        ctx: Context,
        snapshot: Snapshot,
    ) -> Result<FeeDecision, alloc::string::String> {
        let params = Params(&ctx.params);
        let curve = Curve::from_params(&params)?;
        let fee_base_msat = params.u32("base-msat", 1000);
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
