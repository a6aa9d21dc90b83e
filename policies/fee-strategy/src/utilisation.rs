//! Value-weighted HTLC slot utilisation (spec: item 14) and proactive slot pricing (item 18).

/// 100,000 sat in msat: one slot's worth of value.
const SLOT_VALUE_MSAT: f64 = 100_000_000.0;
pub const CONGESTION: f64 = 0.8;
/// Below this raw utilisation the cause of congestion has ended: the HTLCs were released.
pub const RELEASED: f64 = 0.5;
const ALPHA_UP: f64 = 0.4;
const ALPHA_DOWN: f64 = 0.1;

/// A pending HTLC's weight in slots: `clamp(amount / 100k sat, 0.01, 10)`. A dust flood of
/// 1,000-sat HTLCs weighs 0.01 each and cannot fake congestion; a 1M-sat HTLC weighs 10.
pub fn slot_weight(amount_msat: u64) -> f64 {
    (amount_msat as f64 / SLOT_VALUE_MSAT).clamp(0.01, 10.0)
}

/// `min(1, Σw / max_accepted_htlcs)`.
pub fn raw_utilisation(weight_sum: f64, max_accepted_htlcs: u16) -> f64 {
    if max_accepted_htlcs == 0 {
        return 1.0;
    }
    (weight_sum / f64::from(max_accepted_htlcs)).min(1.0)
}

/// Asymmetric EMA: fast to rise (α 0.4), slow to fall (α 0.1). Two exceptions make a short
/// burst count (issue 14; the spec's item 14 had only the EMA, which needed 40 minutes to reach
/// 0.8, so a 30-minute whale hold went unpriced): slots actually full by value (raw ≥ 0.8 —
/// dust cannot get there, each dust HTLC weighs 0.01) are congestion at once; and once the
/// HTLCs are released (raw < 0.5) the memory of the burst is dropped, so the congestion price
/// ends in the cycle its cause ends.
pub fn update_ema(ema: f64, raw: f64) -> f64 {
    if raw >= CONGESTION || (ema >= CONGESTION && raw < RELEASED) {
        return raw;
    }
    let alpha = if raw > ema { ALPHA_UP } else { ALPHA_DOWN };
    alpha * raw + (1.0 - alpha) * ema
}

/// 1 up to 0.5 utilisation, then quadratic to 1.5 at 0.8.
pub fn slot_multiplier(utilisation: f64) -> f64 {
    if utilisation <= 0.5 {
        1.0
    } else {
        let x = ((utilisation - 0.5) / 0.3).min(1.0);
        1.0 + 0.5 * x * x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_clamp_at_both_ends() {
        assert_eq!(slot_weight(1_000_000), 0.01, "1k sat");
        assert_eq!(slot_weight(100_000_000), 1.0, "100k sat");
        assert_eq!(slot_weight(1_000_000_000), 10.0, "1M sat");
        assert_eq!(slot_weight(5_000_000_000), 10.0, "5M sat is still 10");
    }

    #[test]
    fn dust_flood_does_not_trigger_congestion() {
        // 483 slots all taken by 1,000-sat HTLCs: raw utilisation 0.01.
        let raw = raw_utilisation(483.0 * slot_weight(1_000_000), 483);
        let mut ema = 0.0;
        for _ in 0..100 {
            ema = update_ema(ema, raw);
        }
        assert!(ema < 0.02, "{ema}");
    }

    #[test]
    fn whale_htlcs_do() {
        // 40 HTLCs of 1M sat on a 483-slot channel: 400 / 483 = 0.83.
        let raw = raw_utilisation(40.0 * slot_weight(1_000_000_000), 483);
        assert!(raw > CONGESTION);
        let mut ema = 0.0;
        let mut cycles = 0;
        while ema < CONGESTION {
            ema = update_ema(ema, raw);
            cycles += 1;
        }
        assert!(cycles <= 10, "fast defence: {cycles} cycles");
    }

    #[test]
    fn ema_rises_fast_and_falls_slowly() {
        assert!((update_ema(0.0, 0.7) - 0.28).abs() < 1e-12);
        assert!((update_ema(0.7, 0.6) - 0.69).abs() < 1e-12);
    }

    /// A whale hold of 30 minutes (three 10-minute cycles) is priced from the first cycle that
    /// sees it, and left in the first cycle after its release.
    #[test]
    fn a_short_whale_burst_counts_and_ends_with_its_cause() {
        let whales = raw_utilisation(45.0 * slot_weight(1_000_000_000), 483);
        let mut ema = 0.1;
        ema = update_ema(ema, whales);
        assert!(ema >= CONGESTION, "{ema}");
        ema = update_ema(ema, whales);
        ema = update_ema(ema, whales);
        ema = update_ema(ema, 0.05);
        assert!(ema < CONGESTION, "{ema}");
        // A partial release (still 0.6 by value) keeps the memory: no flapping at the edge.
        let mut ema = update_ema(0.1, whales);
        ema = update_ema(ema, 0.6);
        assert!(ema > 0.6 && ema < whales, "{ema}");
    }

    #[test]
    fn slot_multiplier_edges() {
        assert_eq!(slot_multiplier(0.0), 1.0);
        assert_eq!(slot_multiplier(0.5), 1.0);
        assert!((slot_multiplier(0.65) - 1.125).abs() < 1e-12);
        assert!((slot_multiplier(0.8) - 1.5).abs() < 1e-12);
        assert!((slot_multiplier(0.95) - 1.5).abs() < 1e-12);
    }
}
