//! The parameters `describe()` declares, and reading them back into `fee_strategy::Params`.
//! Defaults come from `fee_strategy::Params::DEFAULT`, the strategy's own.

use alloc::{format, string::String, vec::Vec};
use fee_strategy::Params;
use guest_support::{
    schema::{BoolParam, FloatParam, IntParam, Schema},
    types::{Param, ParamSpec},
};

const D: Params = Params::DEFAULT;

const FLOOR_PPM: IntParam = IntParam::new(
    "floor-ppm",
    "Lowest normal fee, ppm (raised by the mempool reflex).",
    D.floor_ppm as i64,
)
.range(0, 100_000);
const CEILING_PPM: IntParam = IntParam::new(
    "ceiling-ppm",
    "Fee under congestion and highest normal fee, ppm.",
    D.ceiling_ppm as i64,
)
.range(1, 1_000_000);
const STEP_PCT: IntParam = IntParam::new(
    "step-pct",
    "First step of the price search, % of the price.",
    D.step_pct as i64,
)
.range(2, 100);
const MIN_STEP_PCT: IntParam = IntParam::new(
    "min-step-pct",
    "The search has converged below this step, %.",
    D.min_step_pct as i64,
)
.range(1, 50);
const EPOCH_HOURS: IntParam = IntParam::new(
    "epoch-hours",
    "Least time at one price before judging it, hours.",
    D.epoch_hours as i64,
)
.range(1, 168);
const EPOCH_MIN_FORWARDS: IntParam = IntParam::new(
    "epoch-min-forwards",
    "Forwards wanted before judging a price.",
    D.epoch_min_forwards as i64,
)
.range(1, 10_000);
const FIRE_SALE_PPM: IntParam = IntParam::new(
    "fire-sale-ppm",
    "Fire-sale fee, ppm (never below the floors).",
    D.fire_sale_ppm as i64,
)
.range(0, 100_000);
/// -1 stands for `base_msat: None` (keep each channel's own).
const BASE_MSAT: IntParam = IntParam::new(
    "base-msat",
    "Base fee to set, msat; -1 keeps each channel's own.",
    -1,
)
.range(-1, 100_000);
const LIQUIDITY_STRENGTH: FloatParam = FloatParam::new(
    "liquidity-strength",
    "How strongly price follows liquidity (dearer as our side empties); 0 = off.",
    D.liquidity_strength,
)
.range(0.0, 3.0);
const ASYMMETRY_PREMIUM: BoolParam = BoolParam::new(
    "flow-asymmetry-premium",
    "Opt-in: ×1.5 floor on one-way channels above 50,000 sat/day.",
    D.asymmetry_premium,
);
const PEER_SYNC: BoolParam = BoolParam::new(
    "peer-sync",
    "Opt-in: raise floors to the highest normal fee of the same peer.",
    D.peer_sync,
);

const SCHEMA: Schema = Schema::new(&[
    &FLOOR_PPM,
    &CEILING_PPM,
    &STEP_PCT,
    &MIN_STEP_PCT,
    &EPOCH_HOURS,
    &EPOCH_MIN_FORWARDS,
    &FIRE_SALE_PPM,
    &BASE_MSAT,
    &LIQUIDITY_STRENGTH,
    &ASYMMETRY_PREMIUM,
    &PEER_SYNC,
]);

pub fn specs() -> Vec<ParamSpec> {
    SCHEMA.specs()
}

pub fn read(raw: &[Param]) -> Result<Params, String> {
    let params = Params {
        floor_ppm: FLOOR_PPM.get_u32(raw),
        ceiling_ppm: CEILING_PPM.get_u32(raw),
        step_pct: STEP_PCT.get_u32(raw),
        min_step_pct: MIN_STEP_PCT.get_u32(raw),
        epoch_hours: EPOCH_HOURS.get_u32(raw),
        epoch_min_forwards: EPOCH_MIN_FORWARDS.get_u32(raw),
        fire_sale_ppm: FIRE_SALE_PPM.get_u32(raw),
        base_msat: u32::try_from(BASE_MSAT.get(raw)).ok(),
        liquidity_strength: LIQUIDITY_STRENGTH.get(raw),
        asymmetry_premium: ASYMMETRY_PREMIUM.get(raw),
        peer_sync: PEER_SYNC.get(raw),
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

#[cfg(test)]
mod tests {
    use super::*;
    use guest_support::types::ParamValue;

    #[test]
    fn schema_is_consistent_and_defaults_are_the_strategys() {
        assert_eq!(SCHEMA.check(), Ok(()));
        assert_eq!(read(&[]), Ok(Params::default()));
    }

    #[test]
    fn inconsistent_parameters_are_refused() {
        let param = |name: &str, v: i64| Param {
            name: name.into(),
            value: ParamValue::Integer(v),
        };
        assert!(read(&[param("floor-ppm", 3000)]).is_err());
        assert!(read(&[param("min-step-pct", 50)]).is_err());
        assert_eq!(read(&[param("base-msat", 7)]).unwrap().base_msat, Some(7));
    }
}
