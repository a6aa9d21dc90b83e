//! The strategy's parameters, with the defaults the shipped policy declares.

#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Lowest fee in normal pricing (before the Vegas multiplier), ppm.
    pub floor_ppm: u32,
    /// Fee under congestion, and the highest fee of normal pricing, ppm.
    pub ceiling_ppm: u32,
    /// First step of the price search, % of the price.
    pub step_pct: u32,
    /// Below this step the search has converged and stays put, %.
    pub min_step_pct: u32,
    /// Shortest time at one price before judging it, hours.
    pub epoch_hours: u32,
    /// Forwards wanted before judging a price (an epoch may last up to 3 × `epoch_hours` to get them).
    pub epoch_min_forwards: u32,
    /// Fire-sale fee, ppm (never below the floors).
    pub fire_sale_ppm: u32,
    /// Base fee to set, msat; `None` keeps each channel's current base fee.
    pub base_msat: Option<u32>,
    /// How strongly price follows the liquidity band (dearer as our side empties, cheaper as
    /// it fills): the band factor is raised to this power; 0 turns bands off.
    pub liquidity_strength: f64,
    /// Opt-in: ×1.5 floor on channels almost nobody pays into, when busy (spec: item 15).
    pub asymmetry_premium: bool,
    /// Opt-in: raise each channel's floor to the highest normal fee among its peer's channels.
    pub peer_sync: bool,
}

impl Params {
    /// The defaults, as a constant so that a policy's parameter schema can declare them.
    pub const DEFAULT: Self = Self {
        floor_ppm: 25,
        ceiling_ppm: 2500,
        step_pct: 50,
        min_step_pct: 4,
        epoch_hours: 12,
        epoch_min_forwards: 4,
        fire_sale_ppm: 5,
        base_msat: None,
        liquidity_strength: 1.5,
        asymmetry_premium: false,
        peer_sync: false,
    };
}

impl Default for Params {
    fn default() -> Self {
        Self::DEFAULT
    }
}
