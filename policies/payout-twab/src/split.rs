//! The split itself, in integer msat: exactly the host's reference split (spec: Liquidity
//! Dividend System, distribution), so that the host can verify every line.
//!
//! ```text
//! withheld = distributable × reserve_permille / 1000            rounded down
//! shared   = distributable − withheld
//! capital  = native_capital + Σ twab_i                          u128
//! gross_i  = shared × twab_i / capital   (0 when capital = 0)    rounded down
//! line_i   = gross_i × rebate_permille(tier_i) / 1000            rounded down
//! ```
//!
//! Permille rates are clamped to 0..=1000, so `withheld ≤ distributable`; each `gross_i` is a
//! rounded-down share of `shared` by weights summing to at most `capital`, so `Σ gross_i ≤
//! shared`; and `line_i ≤ gross_i`. Hence `Σ line_i + withheld ≤ distributable`, with every
//! product in `u128` (no overflow for any `u64` input).

use alloc::vec::Vec;
use guest_support::{
    money::{PERMILLE, permille_of, pro_rata},
    types::LockTier,
};

/// The policy's rates, each in permille and clamped to 0..=1000 by [`Rates::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rates {
    pub reserve_permille: u32,
    pub rebate_liquid_permille: u32,
    pub rebate_days30_permille: u32,
    pub rebate_days90_permille: u32,
}

impl Rates {
    pub fn new(reserve: u32, liquid: u32, days30: u32, days90: u32) -> Self {
        Self {
            reserve_permille: reserve.min(PERMILLE),
            rebate_liquid_permille: liquid.min(PERMILLE),
            rebate_days30_permille: days30.min(PERMILLE),
            rebate_days90_permille: days90.min(PERMILLE),
        }
    }

    /// The share of their gross an investor of `tier` is paid, permille.
    pub fn rebate_permille(&self, tier: LockTier) -> u32 {
        match tier {
            LockTier::Liquid => self.rebate_liquid_permille,
            LockTier::Days30 => self.rebate_days30_permille,
            LockTier::Days90 => self.rebate_days90_permille,
        }
    }
}

/// One investor's share, in input order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    /// Their pro-rata part of `shared`, before the rebate.
    pub gross_msat: u64,
    /// What they are paid: `gross × rebate / 1000`.
    pub amount_msat: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub withheld_msat: u64,
    pub shared_msat: u64,
    /// Native capital plus every investor's TWAB.
    pub capital_msat: u128,
    pub shares: Vec<Share>,
}

impl Split {
    /// Σ amounts + withheld, in `u128` (never wraps).
    pub fn committed_msat(&self) -> u128 {
        self.shares
            .iter()
            .map(|s| u128::from(s.amount_msat))
            .sum::<u128>()
            + u128::from(self.withheld_msat)
    }
}

/// The reference split of `distributable` among `stakes` (TWAB and tier per investor).
pub fn split(
    distributable_msat: u64,
    native_capital_msat: u64,
    stakes: &[(u64, LockTier)],
    rates: &Rates,
) -> Split {
    let withheld_msat = permille_of(distributable_msat, rates.reserve_permille.min(PERMILLE));
    let shared_msat = distributable_msat - withheld_msat;
    let capital_msat = u128::from(native_capital_msat)
        + stakes
            .iter()
            .map(|&(twab, _)| u128::from(twab))
            .sum::<u128>();
    let shares = stakes
        .iter()
        .map(|&(twab, tier)| {
            let gross_msat = pro_rata(shared_msat, twab, capital_msat);
            let rebate = rates.rebate_permille(tier).min(PERMILLE);
            Share {
                gross_msat,
                amount_msat: permille_of(gross_msat, rebate),
            }
        })
        .collect();
    Split {
        withheld_msat,
        shared_msat,
        capital_msat,
        shares,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use guest_support::rng::Rng;

    const DEFAULT: Rates = Rates {
        reserve_permille: 100,
        rebate_liquid_permille: 800,
        rebate_days30_permille: 900,
        rebate_days90_permille: 1000,
    };

    /// The formula as the host states it, written out independently in `u128`.
    fn reference(
        distributable: u64,
        reserve: u32,
        native: u64,
        stakes: &[(u64, LockTier)],
        rebates: [u32; 3],
    ) -> (u64, Vec<u64>) {
        let total = u128::from(distributable);
        let withheld = total * u128::from(reserve.min(1000)) / 1000;
        let shared = total - withheld;
        let capital: u128 =
            u128::from(native) + stakes.iter().map(|s| u128::from(s.0)).sum::<u128>();
        let lines = stakes
            .iter()
            .map(|&(twab, tier)| {
                let gross = (shared * u128::from(twab))
                    .checked_div(capital)
                    .unwrap_or(0);
                let rebate = match tier {
                    LockTier::Liquid => rebates[0],
                    LockTier::Days30 => rebates[1],
                    LockTier::Days90 => rebates[2],
                };
                u64::try_from(gross * u128::from(rebate.min(1000)) / 1000).unwrap()
            })
            .collect();
        (u64::try_from(withheld).unwrap(), lines)
    }

    #[test]
    fn the_worked_example() {
        // 1,000,000 msat, 10 % reserve; capital: native 2 M, alice 1 M (liquid), bob 1 M (90 d).
        let split = split(
            1_000_000,
            2_000_000,
            &[(1_000_000, LockTier::Liquid), (1_000_000, LockTier::Days90)],
            &DEFAULT,
        );
        assert_eq!(split.withheld_msat, 100_000);
        assert_eq!(split.shared_msat, 900_000);
        assert_eq!(split.capital_msat, 4_000_000);
        // 900,000 shared: a quarter each is 225,000; alice keeps 80 %.
        assert_eq!(
            split.shares,
            vec![
                Share {
                    gross_msat: 225_000,
                    amount_msat: 180_000
                },
                Share {
                    gross_msat: 225_000,
                    amount_msat: 225_000
                },
            ]
        );
        assert_eq!(split.committed_msat(), 505_000);
    }

    #[test]
    fn thirty_day_tier_and_rounding_down() {
        // 999 msat, 1 ‰ reserve → 0 withheld (0.999 rounds down); thirds of 999 are 333.
        let split = split(
            999,
            0,
            &[
                (1, LockTier::Days30),
                (1, LockTier::Liquid),
                (1, LockTier::Days90),
            ],
            &Rates::new(1, 800, 900, 1000),
        );
        assert_eq!(split.withheld_msat, 0);
        let amounts: Vec<u64> = split.shares.iter().map(|s| s.amount_msat).collect();
        assert_eq!(amounts, [299, 266, 333]); // 333 × 0.9 = 299.7, 333 × 0.8 = 266.4
    }

    #[test]
    fn no_capital_no_shares() {
        let split = split(1_000_000, 0, &[(0, LockTier::Liquid)], &DEFAULT);
        assert_eq!(split.withheld_msat, 100_000);
        assert_eq!(split.shares[0].amount_msat, 0);
        let nobody = super::split(1_000_000, 0, &[], &DEFAULT);
        assert!(nobody.shares.is_empty());
        assert_eq!(nobody.committed_msat(), 100_000);
    }

    #[test]
    fn rates_are_clamped_to_a_thousand_permille() {
        let rates = Rates::new(5_000, 1_001, u32::MAX, 1_000);
        assert_eq!(rates, Rates::new(1_000, 1_000, 1_000, 1_000));
        let split = split(u64::MAX, 0, &[(1, LockTier::Liquid)], &rates);
        assert_eq!(split.withheld_msat, u64::MAX, "everything withheld");
        assert_eq!(split.shares[0].amount_msat, 0);
    }

    #[test]
    fn extremes_do_not_overflow() {
        let stakes = vec![(u64::MAX, LockTier::Days90); 1_000];
        let split = split(u64::MAX, u64::MAX, &stakes, &Rates::new(0, 0, 0, 1_000));
        assert_eq!(split.capital_msat, 1_001 * u128::from(u64::MAX));
        assert!(split.committed_msat() <= u128::from(u64::MAX));
        let each = split.shares[0].amount_msat;
        assert_eq!(each, u64::MAX / 1_001);
    }

    #[test]
    fn random_splits_match_the_reference_and_never_exceed_the_distributable() {
        let mut rng = Rng::new(7);
        let tiers = [LockTier::Liquid, LockTier::Days30, LockTier::Days90];
        for round in 0..3_000 {
            let distributable = match rng.below(3) {
                0 => rng.below(10_000),
                1 => rng.next_u64(),
                _ => u64::MAX - rng.below(3),
            };
            let stakes: Vec<(u64, LockTier)> = (0..rng.between(0, 12))
                .map(|_| {
                    let twab = match rng.below(4) {
                        0 => 0,
                        1 => rng.below(1_000),
                        2 => u64::MAX - rng.below(1_000),
                        _ => rng.next_u64(),
                    };
                    (twab, tiers[rng.below(3) as usize])
                })
                .collect();
            let native = if rng.chance(1, 4) { 0 } else { rng.next_u64() };
            let reserve = rng.below(1_200) as u32;
            let rebates = [
                rng.below(1_100) as u32,
                rng.below(1_100) as u32,
                rng.below(1_100) as u32,
            ];
            let rates = Rates::new(reserve, rebates[0], rebates[1], rebates[2]);
            let ours = split(distributable, native, &stakes, &rates);
            let (withheld, lines) = reference(distributable, reserve, native, &stakes, rebates);
            assert_eq!(ours.withheld_msat, withheld, "round {round}");
            assert_eq!(
                ours.shares
                    .iter()
                    .map(|s| s.amount_msat)
                    .collect::<Vec<_>>(),
                lines,
                "round {round}"
            );
            assert!(
                ours.committed_msat() <= u128::from(distributable),
                "round {round}: {ours:?}"
            );
        }
    }
}
