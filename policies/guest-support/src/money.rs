//! Integer money arithmetic: msat amounts, ppm fees, permille/percent/basis-point shares.
//!
//! No floats. Every product is taken in `u128` (a `u64 × u64` product always fits), so nothing
//! overflows in between; only a *result* above `u64::MAX` can, and each function says what it
//! does then. Rounding is explicit: the `*_of` helpers round **down** (in the payer's favour:
//! a fee, share or rebate is never overstated by rounding) unless named `*_up`; [`mul_div`]
//! takes a [`Round`].
//!
//! ```
//! use guest_support::money::{self, Round};
//! assert_eq!(money::ppm_of(1_234_567, 500), 617); // 617.2835 rounded down
//! assert_eq!(money::ppm_of_up(1_234_567, 500), 618);
//! assert_eq!(money::forward_fee_msat(1_000_000, 1_000, 100), 1_100); // BOLT 7
//! assert_eq!(money::ratio_ppm(250, 1_000), Some(250_000));
//! assert_eq!(money::permille_of(1_000_000, 100), 100_000);
//! assert_eq!(money::pro_rata(900_000, 1_000_000, 4_000_000), 225_000);
//! assert_eq!(money::mul_div(10, 1, 3, Round::Nearest), Some(3));
//! ```

/// Parts per million: fee rates (`fee-ppm`).
pub const PPM: u32 = 1_000_000;
/// Parts per thousand.
pub const PERMILLE: u32 = 1_000;
/// Parts per hundred.
pub const PERCENT: u32 = 100;
/// Parts per ten thousand (1 bp = 0.01 %).
pub const BASIS_POINTS: u32 = 10_000;
/// Millisatoshi per satoshi.
pub const MSAT_PER_SAT: u64 = 1_000;

/// How a quotient is rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    /// Towards zero (floor for these unsigned values).
    Down,
    /// Away from zero (ceiling).
    Up,
    /// To the nearest integer, halves up.
    Nearest,
}

const fn div_round(numerator: u128, denominator: u128, round: Round) -> u128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    let bump = match round {
        Round::Down => false,
        Round::Up => remainder > 0,
        // remainder ≥ denominator / 2, without overflow and exact for odd denominators.
        Round::Nearest => remainder >= denominator - remainder,
    };
    if bump { quotient + 1 } else { quotient }
}

const fn to_u64(value: u128) -> Option<u64> {
    if value > u64::MAX as u128 {
        None
    } else {
        Some(value as u64)
    }
}

const fn saturate(value: Option<u64>) -> u64 {
    match value {
        Some(v) => v,
        None => u64::MAX,
    }
}

/// `a × b / d`, rounded as asked. `None` when `d` is 0 or the result exceeds `u64::MAX`.
pub const fn mul_div(a: u64, b: u64, d: u64, round: Round) -> Option<u64> {
    mul_div_wide(a, b, d as u128, round)
}

/// [`mul_div`] with a `u128` divisor, for sums of many amounts (e.g. total capital).
pub const fn mul_div_wide(a: u64, b: u64, d: u128, round: Round) -> Option<u64> {
    if d == 0 {
        return None;
    }
    to_u64(div_round(a as u128 * b as u128, d, round))
}

/// The fee at `ppm` on `amount_msat`, rounded down; saturates at `u64::MAX` (only reachable
/// with `ppm` above 1,000,000).
pub const fn ppm_of(amount_msat: u64, ppm: u32) -> u64 {
    saturate(mul_div(amount_msat, ppm as u64, PPM as u64, Round::Down))
}

/// [`ppm_of`] rounded up: the least fee that covers the rate.
pub const fn ppm_of_up(amount_msat: u64, ppm: u32) -> u64 {
    saturate(mul_div(amount_msat, ppm as u64, PPM as u64, Round::Up))
}

/// The BOLT 7 forwarding fee: `base + amount × ppm / 1,000,000`, the proportional part rounded
/// down as lightning implementations do; saturating.
pub const fn forward_fee_msat(amount_msat: u64, base_msat: u32, ppm: u32) -> u64 {
    ppm_of(amount_msat, ppm).saturating_add(base_msat as u64)
}

/// `permille`/1000 of `amount`, rounded down; saturating above 1000 ‰.
pub const fn permille_of(amount: u64, permille: u32) -> u64 {
    saturate(mul_div(
        amount,
        permille as u64,
        PERMILLE as u64,
        Round::Down,
    ))
}

/// `percent`/100 of `amount`, rounded down; saturating above 100 %.
pub const fn percent_of(amount: u64, percent: u32) -> u64 {
    saturate(mul_div(amount, percent as u64, PERCENT as u64, Round::Down))
}

/// `bp`/10,000 of `amount`, rounded down; saturating above 10,000 bp.
pub const fn bp_of(amount: u64, bp: u32) -> u64 {
    saturate(mul_div(amount, bp as u64, BASIS_POINTS as u64, Round::Down))
}

/// `part / whole` in ppm, rounded down. `None` when `whole` is 0 (or the ratio exceeds
/// `u64::MAX` ppm). Above 1,000,000 when `part > whole`.
pub const fn ratio_ppm(part: u64, whole: u64) -> Option<u64> {
    mul_div(part, PPM as u64, whole, Round::Down)
}

/// `part / whole` in permille, rounded down; `None` when `whole` is 0.
pub const fn ratio_permille(part: u64, whole: u64) -> Option<u64> {
    mul_div(part, PERMILLE as u64, whole, Round::Down)
}

/// `part / whole` in percent, rounded down; `None` when `whole` is 0.
pub const fn ratio_percent(part: u64, whole: u64) -> Option<u64> {
    mul_div(part, PERCENT as u64, whole, Round::Down)
}

/// `part / whole` in basis points, rounded down; `None` when `whole` is 0.
pub const fn ratio_bp(part: u64, whole: u64) -> Option<u64> {
    mul_div(part, BASIS_POINTS as u64, whole, Round::Down)
}

/// `total × weight / total_weight`, rounded down: one holder's share of `total` when shares
/// follow weights. 0 when `total_weight` is 0. Never above `total` while
/// `weight ≤ total_weight`, and the shares of weights summing to at most `total_weight` sum to
/// at most `total` (each is rounded down). Saturates only if `weight > total_weight` and the
/// result exceeds `u64::MAX`.
pub const fn pro_rata(total: u64, weight: u64, total_weight: u128) -> u64 {
    if total_weight == 0 {
        return 0;
    }
    saturate(mul_div_wide(total, weight, total_weight, Round::Down))
}

/// Whole satoshi in `msat`, rounded down.
pub const fn msat_to_sat(msat: u64) -> u64 {
    msat / MSAT_PER_SAT
}

/// `sat` in msat, saturating.
pub const fn sat_to_msat(sat: u64) -> u64 {
    sat.saturating_mul(MSAT_PER_SAT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_at_ppm_round_down_unless_asked() {
        assert_eq!(ppm_of(0, 500), 0);
        assert_eq!(ppm_of(1_999, 500), 0); // 0.9995
        assert_eq!(ppm_of_up(1_999, 500), 1);
        assert_eq!(ppm_of(2_000, 500), 1);
        assert_eq!(ppm_of_up(2_000, 500), 1, "exact stays exact");
        assert_eq!(ppm_of(1_000_000, 1), 1);
        assert_eq!(ppm_of(u64::MAX, PPM), u64::MAX, "100 % of everything");
        assert_eq!(ppm_of(u64::MAX, u32::MAX), u64::MAX, "saturates");
        assert_eq!(
            ppm_of(u64::MAX, 999_999),
            u64::MAX - u64::MAX / 1_000_000 - 1
        );
        assert_eq!(forward_fee_msat(0, 1_000, 100), 1_000);
        assert_eq!(forward_fee_msat(u64::MAX, u32::MAX, PPM), u64::MAX);
    }

    #[test]
    fn shares_of_an_amount() {
        assert_eq!(permille_of(1_000_000, 100), 100_000);
        assert_eq!(permille_of(999, 1), 0);
        assert_eq!(permille_of(1_001, 1), 1);
        assert_eq!(permille_of(u64::MAX, 1_000), u64::MAX);
        assert_eq!(percent_of(250, 10), 25);
        assert_eq!(percent_of(9, 10), 0);
        assert_eq!(bp_of(1_000_000, 1), 100);
        assert_eq!(bp_of(u64::MAX, u32::MAX), u64::MAX);
    }

    #[test]
    fn ratios_of_a_part_over_a_whole() {
        assert_eq!(ratio_ppm(1, 3), Some(333_333));
        assert_eq!(ratio_ppm(2, 3), Some(666_666));
        assert_eq!(ratio_ppm(5, 0), None);
        assert_eq!(ratio_ppm(3, 2), Some(1_500_000));
        assert_eq!(ratio_ppm(u64::MAX, u64::MAX), Some(1_000_000));
        assert_eq!(ratio_ppm(u64::MAX, 1), None, "above u64::MAX ppm");
        assert_eq!(ratio_permille(1, 3), Some(333));
        assert_eq!(ratio_percent(25, 100), Some(25));
        assert_eq!(ratio_percent(u64::MAX, u64::MAX), Some(100));
        assert_eq!(ratio_bp(1, 3), Some(3_333));
    }

    #[test]
    fn mul_div_rounds_as_asked() {
        assert_eq!(mul_div(10, 1, 4, Round::Down), Some(2));
        assert_eq!(mul_div(10, 1, 4, Round::Up), Some(3));
        assert_eq!(mul_div(10, 1, 4, Round::Nearest), Some(3), "2.5 → 3");
        assert_eq!(mul_div(9, 1, 4, Round::Nearest), Some(2), "2.25 → 2");
        assert_eq!(mul_div(11, 1, 4, Round::Nearest), Some(3), "2.75 → 3");
        assert_eq!(mul_div(4, 1, 3, Round::Nearest), Some(1), "1.33 → 1");
        assert_eq!(mul_div(5, 1, 3, Round::Nearest), Some(2), "1.67 → 2");
        assert_eq!(mul_div(1, 1, 0, Round::Down), None);
        assert_eq!(
            mul_div(u64::MAX, u64::MAX, u64::MAX, Round::Up),
            Some(u64::MAX)
        );
        assert_eq!(mul_div(u64::MAX, 2, 1, Round::Down), None);
        assert_eq!(
            mul_div_wide(u64::MAX, u64::MAX, u128::MAX, Round::Up),
            Some(1)
        );
    }

    #[test]
    fn pro_rata_shares_never_add_up_to_more_than_the_total() {
        assert_eq!(pro_rata(900_000, 1_000_000, 4_000_000), 225_000);
        assert_eq!(pro_rata(900_000, 1, 0), 0);
        assert_eq!(pro_rata(u64::MAX, u64::MAX, u128::from(u64::MAX)), u64::MAX);
        let weights = [u64::MAX, u64::MAX, 7, 1];
        let total_weight: u128 = weights.iter().map(|&w| u128::from(w)).sum();
        let total = u64::MAX - 3;
        let paid: u128 = weights
            .iter()
            .map(|&w| u128::from(pro_rata(total, w, total_weight)))
            .sum();
        assert!(paid <= u128::from(total));
        assert!(
            u128::from(total) - paid < weights.len() as u128,
            "at most 1 lost per share"
        );
    }

    #[test]
    fn sat_and_msat() {
        assert_eq!(msat_to_sat(1_999), 1);
        assert_eq!(sat_to_msat(2), 2_000);
        assert_eq!(sat_to_msat(u64::MAX), u64::MAX);
    }
}
