//! Money and fee units: integer millisatoshi and parts-per-million, with checked arithmetic.
//!
//! No float ever holds an amount of money. Operations that can overflow return `Option`; the
//! caller decides whether overflow is an error or a saturation, visibly.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in millisatoshi.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Msat(u64);

/// A proportional fee in parts per million of the forwarded amount.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Ppm(u32);

const MSAT_PER_SAT: u64 = 1000;
const PPM_DENOMINATOR: u128 = 1_000_000;

impl Msat {
    pub const ZERO: Msat = Msat(0);
    pub const MAX: Msat = Msat(u64::MAX);

    pub const fn new(msat: u64) -> Self {
        Msat(msat)
    }

    /// `None` if the amount does not fit in u64 millisatoshi.
    pub const fn from_sat(sat: u64) -> Option<Self> {
        match sat.checked_mul(MSAT_PER_SAT) {
            Some(msat) => Some(Msat(msat)),
            None => None,
        }
    }

    pub const fn msat(self) -> u64 {
        self.0
    }

    /// Whole satoshi, rounded down.
    pub const fn sat_floor(self) -> u64 {
        self.0 / MSAT_PER_SAT
    }

    pub fn checked_add(self, other: Msat) -> Option<Msat> {
        self.0.checked_add(other.0).map(Msat)
    }

    pub fn checked_sub(self, other: Msat) -> Option<Msat> {
        self.0.checked_sub(other.0).map(Msat)
    }

    pub fn saturating_sub(self, other: Msat) -> Msat {
        Msat(self.0.saturating_sub(other.0))
    }

    /// For running totals that must not fail: beyond 2^64 msat (184 k BTC) they stick at MAX.
    pub fn saturating_add(self, other: Msat) -> Msat {
        Msat(self.0.saturating_add(other.0))
    }

    pub fn checked_mul(self, factor: u64) -> Option<Msat> {
        self.0.checked_mul(factor).map(Msat)
    }

    /// Sum of amounts, `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Msat>>(amounts: I) -> Option<Msat> {
        amounts
            .into_iter()
            .try_fold(Msat::ZERO, |acc, amount| acc.checked_add(amount))
    }
}

impl fmt::Display for Msat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}msat", self.0)
    }
}

impl Ppm {
    pub const ZERO: Ppm = Ppm(0);
    /// 100 %: the largest proportional fee that means anything.
    pub const ONE_HUNDRED_PERCENT: Ppm = Ppm(1_000_000);

    pub const fn new(ppm: u32) -> Self {
        Ppm(ppm)
    }

    pub const fn ppm(self) -> u32 {
        self.0
    }

    /// The proportional fee this rate charges on `amount`, rounded down (as BOLT 7 does).
    pub fn fee_on(self, amount: Msat) -> Msat {
        let fee = u128::from(amount.msat()) * u128::from(self.0) / PPM_DENOMINATOR;
        // Fits u64 for any ppm ≤ 100 %; an absurd ppm saturates rather than wraps.
        Msat(u64::try_from(fee).unwrap_or(u64::MAX))
    }

    /// The absolute difference as a share of `self`, in ppm of `self` (`None` when `self` is 0).
    pub fn relative_change_ppm(self, to: Ppm) -> Option<u64> {
        if self.0 == 0 {
            return None;
        }
        let delta = u64::from(self.0.abs_diff(to.0));
        Some(delta * 1_000_000 / u64::from(self.0))
    }
}

impl fmt::Display for Ppm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ppm", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sat_conversion_is_checked() {
        assert_eq!(Msat::from_sat(21), Some(Msat::new(21_000)));
        assert_eq!(Msat::from_sat(u64::MAX), None);
        assert_eq!(Msat::new(1999).sat_floor(), 1);
    }

    #[test]
    fn arithmetic_reports_overflow() {
        assert_eq!(Msat::MAX.checked_add(Msat::new(1)), None);
        assert_eq!(Msat::ZERO.checked_sub(Msat::new(1)), None);
        assert_eq!(Msat::new(5).saturating_sub(Msat::new(9)), Msat::ZERO);
        assert_eq!(Msat::checked_sum([Msat::MAX, Msat::new(1)]), None);
        assert_eq!(
            Msat::checked_sum([Msat::new(1), Msat::new(2)]),
            Some(Msat::new(3))
        );
    }

    #[test]
    fn proportional_fee_rounds_down() {
        assert_eq!(Ppm::new(1000).fee_on(Msat::new(1_000_000)), Msat::new(1000));
        assert_eq!(Ppm::new(1).fee_on(Msat::new(999_999)), Msat::ZERO);
        assert_eq!(Ppm::new(u32::MAX).fee_on(Msat::MAX), Msat::MAX);
    }

    #[test]
    fn relative_change() {
        assert_eq!(
            Ppm::new(100).relative_change_ppm(Ppm::new(105)),
            Some(50_000)
        );
        assert_eq!(Ppm::new(0).relative_change_ppm(Ppm::new(5)), None);
    }
}
