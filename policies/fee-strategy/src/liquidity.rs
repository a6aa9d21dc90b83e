//! Liquidity bands: our side of a channel is inventory. Dearer as it empties (ration what is
//! left), cheaper as it fills (sell what sits idle). Bands, with hysteresis at their edges, so
//! that balance drifting within a band never moves the fee.

/// Upper edges of the local-share bands 0..=3 (band 4 runs to 1.0).
const EDGES: [f64; 4] = [0.10, 0.25, 0.60, 0.85];
const FACTORS: [f64; 5] = [2.0, 1.4, 1.0, 0.85, 0.7];
/// How far past an edge the share must go before the band changes.
const MARGIN: f64 = 0.05;
pub const NEUTRAL_BAND: u8 = 2;

fn band_of(share: f64) -> u8 {
    EDGES.iter().take_while(|&&edge| share >= edge).count() as u8
}

/// The band for `share`, staying in `current` unless the share is clearly outside it.
pub fn next_band(current: u8, share: f64) -> u8 {
    let current = current.min(4);
    let low = if current == 0 {
        0.0
    } else {
        EDGES[usize::from(current) - 1]
    };
    let high = if current == 4 {
        1.0
    } else {
        EDGES[usize::from(current)]
    };
    if share < low - MARGIN || share > high + MARGIN || (current == 4 && share >= high) {
        band_of(share)
    } else {
        current
    }
}

pub fn factor(band: u8) -> f64 {
    FACTORS[usize::from(band.min(4))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_have_hysteresis() {
        assert_eq!(band_of(0.05), 0);
        assert_eq!(band_of(0.5), 2);
        assert_eq!(band_of(0.95), 4);
        // Just over the edge: stay.
        assert_eq!(next_band(2, 0.64), 2);
        assert_eq!(next_band(2, 0.21), 2);
        // Clearly over: move.
        assert_eq!(next_band(2, 0.66), 3);
        assert_eq!(next_band(2, 0.19), 1);
        assert_eq!(next_band(2, 0.01), 0);
        assert!(factor(0) > factor(2) && factor(2) > factor(4));
        assert_eq!(factor(NEUTRAL_BAND), 1.0);
    }
}
