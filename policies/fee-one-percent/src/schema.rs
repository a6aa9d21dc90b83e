//! The parameters `describe()` declares, and reading them back into `fee_strategy::Params`.

use alloc::{format, string::String, vec, vec::Vec};
use fee_strategy::Params;
use guest_support::{
    Params as RawParams,
    types::{ParamKind, ParamSpec, ParamValue},
};

fn integer(name: &str, description: &str, default: i64, min: f64, max: f64) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        description: description.into(),
        kind: ParamKind::Integer,
        default: ParamValue::Integer(default),
        min: Some(min),
        max: Some(max),
    }
}

fn boolean(name: &str, description: &str, default: bool) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        description: description.into(),
        kind: ParamKind::Boolean,
        default: ParamValue::Boolean(default),
        min: None,
        max: None,
    }
}

pub fn specs() -> Vec<ParamSpec> {
    let d = Params::default();
    vec![
        integer(
            "floor-ppm",
            "Lowest normal fee, ppm (raised by the mempool reflex).",
            d.floor_ppm.into(),
            0.0,
            100_000.0,
        ),
        integer(
            "ceiling-ppm",
            "Fee under congestion and highest normal fee, ppm.",
            d.ceiling_ppm.into(),
            1.0,
            1_000_000.0,
        ),
        integer(
            "step-pct",
            "First step of the price search, % of the price.",
            d.step_pct.into(),
            2.0,
            100.0,
        ),
        integer(
            "min-step-pct",
            "The search has converged below this step, %.",
            d.min_step_pct.into(),
            1.0,
            50.0,
        ),
        integer(
            "epoch-hours",
            "Least time at one price before judging it, hours.",
            d.epoch_hours.into(),
            1.0,
            168.0,
        ),
        integer(
            "epoch-min-forwards",
            "Forwards wanted before judging a price.",
            d.epoch_min_forwards.into(),
            1.0,
            10_000.0,
        ),
        integer(
            "fire-sale-ppm",
            "Fire-sale fee, ppm (never below the floors).",
            d.fire_sale_ppm.into(),
            0.0,
            100_000.0,
        ),
        integer(
            "base-msat",
            "Base fee to set, msat; -1 keeps each channel's own.",
            -1,
            -1.0,
            100_000.0,
        ),
        ParamSpec {
            name: "liquidity-strength".into(),
            description:
                "How strongly price follows liquidity (dearer as our side empties); 0 = off.".into(),
            kind: ParamKind::Float,
            default: ParamValue::Float(d.liquidity_strength),
            min: Some(0.0),
            max: Some(3.0),
        },
        boolean(
            "flow-asymmetry-premium",
            "Opt-in: ×1.5 floor on one-way channels above 50,000 sat/day.",
            d.asymmetry_premium,
        ),
        boolean(
            "peer-sync",
            "Opt-in: raise floors to the highest normal fee of the same peer.",
            d.peer_sync,
        ),
    ]
}

pub fn read(raw: &RawParams<'_>) -> Result<Params, String> {
    let d = Params::default();
    let params = Params {
        floor_ppm: raw.u32("floor-ppm", d.floor_ppm),
        ceiling_ppm: raw.u32("ceiling-ppm", d.ceiling_ppm),
        step_pct: raw.u32("step-pct", d.step_pct),
        min_step_pct: raw.u32("min-step-pct", d.min_step_pct),
        epoch_hours: raw.u32("epoch-hours", d.epoch_hours),
        epoch_min_forwards: raw.u32("epoch-min-forwards", d.epoch_min_forwards),
        fire_sale_ppm: raw.u32("fire-sale-ppm", d.fire_sale_ppm),
        base_msat: u32::try_from(raw.integer("base-msat", -1)).ok(),
        liquidity_strength: raw.float("liquidity-strength", d.liquidity_strength),
        asymmetry_premium: raw.boolean("flow-asymmetry-premium", d.asymmetry_premium),
        peer_sync: raw.boolean("peer-sync", d.peer_sync),
    };
    if params.floor_ppm > params.ceiling_ppm {
        return Err(format!(
            "floor-ppm ({}) is above ceiling-ppm ({})",
            params.floor_ppm, params.ceiling_ppm
        ));
    }
    if params.min_step_pct >= params.step_pct {
        return Err(format!(
            "min-step-pct ({}) must be below step-pct ({})",
            params.min_step_pct, params.step_pct
        ));
    }
    Ok(params)
}
