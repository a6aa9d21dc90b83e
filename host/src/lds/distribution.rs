//! Profit distribution arithmetic (spec: Liquidity Dividend System, distribution). Pure and in
//! integer millisatoshi: the high-water mark, the reference split the shipped payout policy
//! follows, and the host's enforcement of whatever a payout policy proposes.

use crate::money::Msat;
use serde::Serialize;
use std::collections::BTreeSet;

pub use crate::model::LockTier;

/// The share of their profit an investor of `tier` keeps (the rest is the operator's
/// management fee), in permille (spec: Liquid 0.80, 30-day 0.90, 90-day 1.00).
pub fn rebate_permille(tier: LockTier) -> u64 {
    match tier {
        LockTier::Liquid => 800,
        LockTier::Days30 => 900,
        LockTier::Days90 => 1000,
    }
}

/// What may be distributed now: profit above the high-water mark, plus what earlier runs
/// carried (rounding remainders, lines below the minimum). Losses are recovered first: while
/// cumulative net profit is below the mark, nothing is distributable.
pub fn distributable(cumulative_net_msat: i64, high_water_msat: i64, carried: Msat) -> Msat {
    let above = i128::from(cumulative_net_msat) - i128::from(high_water_msat);
    let above = u64::try_from(above.max(0)).unwrap_or(u64::MAX);
    Msat::new(above).saturating_add(carried)
}

/// One investor as the split sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stake {
    pub investor_id: String,
    pub tier: LockTier,
    pub twab: Msat,
}

/// The reference split: `reserve_permille` of the distributable is withheld; the rest is
/// shared by capital (native + Σ investor TWABs); each investor's share is reduced by their
/// tier's rebate; everything rounds down in msat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Split {
    pub withheld: Msat,
    pub lines: Vec<(String, Msat)>,
    /// The investors' shares kept by the operator (1 − rebate).
    pub management_fee: Msat,
    /// The native capital's share: the operator's own.
    pub native_share: Msat,
}

pub fn reference_split(
    distributable: Msat,
    reserve_permille: u64,
    native_capital: Msat,
    stakes: &[Stake],
) -> Split {
    let total = u128::from(distributable.msat());
    let withheld = total * u128::from(reserve_permille.min(1000)) / 1000;
    let shared = total - withheld;
    let capital: u128 = u128::from(native_capital.msat())
        + stakes
            .iter()
            .map(|s| u128::from(s.twab.msat()))
            .sum::<u128>();
    let mut lines = Vec::new();
    let mut management_fee = 0u128;
    let mut investors_gross = 0u128;
    for stake in stakes {
        let gross = (shared * u128::from(stake.twab.msat()))
            .checked_div(capital)
            .unwrap_or(0);
        let kept = gross * u128::from(rebate_permille(stake.tier)) / 1000;
        investors_gross += gross;
        management_fee += gross - kept;
        lines.push((stake.investor_id.clone(), to_msat(kept)));
    }
    let native = (shared * u128::from(native_capital.msat()))
        .checked_div(capital)
        .unwrap_or(0);
    debug_assert!(investors_gross + native <= shared);
    Split {
        withheld: to_msat(withheld),
        lines,
        management_fee: to_msat(management_fee),
        native_share: to_msat(native),
    }
}

fn to_msat(value: u128) -> Msat {
    Msat::new(u64::try_from(value).unwrap_or(u64::MAX))
}

/// A payout decision the host accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Enforced {
    /// Lines to pay, each at least the minimum.
    pub pay: Vec<(String, Msat)>,
    /// Lines below the minimum: not paid now, their amounts carried to the next period.
    pub deferred: Vec<(String, Msat)>,
    pub withheld: Msat,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayoutRefused {
    #[error("payout to unknown investor {0:?}")]
    UnknownInvestor(String),
    #[error("investor {0:?} has two payout lines")]
    Duplicate(String),
    #[error("payouts {proposed} plus withheld {withheld} exceed the distributable {distributable}")]
    OverDistributable {
        proposed: Msat,
        withheld: Msat,
        distributable: Msat,
    },
}

/// The host's rules on a proposed payout: known investors, one line each, Σ lines + withheld ≤
/// distributable (checked, never wrapped), lines under `minimum` deferred rather than paid.
pub fn enforce(
    lines: &[(String, Msat)],
    withheld: Msat,
    distributable: Msat,
    known_investors: &BTreeSet<String>,
    minimum: Msat,
) -> Result<Enforced, PayoutRefused> {
    let mut seen = BTreeSet::new();
    for (id, _) in lines {
        if !known_investors.contains(id) {
            return Err(PayoutRefused::UnknownInvestor(id.clone()));
        }
        if !seen.insert(id) {
            return Err(PayoutRefused::Duplicate(id.clone()));
        }
    }
    let proposed = Msat::checked_sum(lines.iter().map(|(_, a)| *a)).unwrap_or(Msat::MAX);
    let fits = proposed
        .checked_add(withheld)
        .is_some_and(|total| total <= distributable);
    if !fits {
        return Err(PayoutRefused::OverDistributable {
            proposed,
            withheld,
            distributable,
        });
    }
    let (pay, deferred) = lines
        .iter()
        .filter(|(_, amount)| *amount > Msat::ZERO)
        .cloned()
        .partition(|(_, amount)| *amount >= minimum);
    Ok(Enforced {
        pay,
        deferred,
        withheld,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    fn stake(id: &str, tier: LockTier, twab: u64) -> Stake {
        Stake {
            investor_id: id.into(),
            tier,
            twab: Msat::new(twab),
        }
    }

    #[test]
    fn the_high_water_mark_recovers_losses_first() {
        assert_eq!(distributable(1_000, 0, Msat::ZERO), Msat::new(1_000));
        assert_eq!(distributable(800, 1_000, Msat::ZERO), Msat::ZERO);
        assert_eq!(distributable(-5_000, 1_000, Msat::new(7)), Msat::new(7));
        assert_eq!(distributable(1_500, 1_000, Msat::new(7)), Msat::new(507));
    }

    #[test]
    fn a_worked_example() {
        // 1,000,000 msat, 10 % reserve; capital: native 2 M, alice 1 M (liquid), bob 1 M (90 d).
        let split = reference_split(
            Msat::new(1_000_000),
            100,
            Msat::new(2_000_000),
            &[
                stake("alice", LockTier::Liquid, 1_000_000),
                stake("bob", LockTier::Days90, 1_000_000),
            ],
        );
        assert_eq!(split.withheld, Msat::new(100_000));
        // 900,000 shared: a quarter each is 225,000; alice keeps 80 %.
        assert_eq!(
            split.lines,
            vec![
                ("alice".to_owned(), Msat::new(180_000)),
                ("bob".to_owned(), Msat::new(225_000))
            ]
        );
        assert_eq!(split.management_fee, Msat::new(45_000));
        assert_eq!(split.native_share, Msat::new(450_000));
    }

    #[test]
    fn random_splits_never_exceed_the_distributable() {
        let mut rng = SplitMix64::new(7);
        let tiers = [LockTier::Liquid, LockTier::Days30, LockTier::Days90];
        for _ in 0..2_000 {
            let distributable = Msat::new(rng.below(u64::MAX / 4));
            let stakes: Vec<Stake> = (0..rng.between(0, 12))
                .map(|i| {
                    let twab = match rng.below(4) {
                        0 => 0,
                        1 => rng.below(1_000),
                        _ => rng.below(u64::MAX / 64),
                    };
                    stake(&format!("i{i}"), tiers[rng.below(3) as usize], twab)
                })
                .collect();
            let native = Msat::new(rng.below(u64::MAX / 64));
            let split = reference_split(distributable, rng.below(1_001), native, &stakes);
            let paid = Msat::checked_sum(split.lines.iter().map(|(_, a)| *a)).unwrap();
            let parts = Msat::checked_sum([
                paid,
                split.withheld,
                split.management_fee,
                split.native_share,
            ])
            .unwrap();
            assert!(parts <= distributable, "{split:?} of {distributable}");
            let known = stakes.iter().map(|s| s.investor_id.clone()).collect();
            let enforced = enforce(
                &split.lines,
                split.withheld,
                distributable,
                &known,
                Msat::new(1_000),
            )
            .expect("the reference split is always acceptable");
            let deferred: u64 = enforced.deferred.iter().map(|(_, a)| a.msat()).sum();
            assert_eq!(
                enforced.pay.iter().map(|(_, a)| a.msat()).sum::<u64>() + deferred,
                paid.msat()
            );
        }
    }

    #[test]
    fn the_host_refuses_overpayment_strangers_and_duplicates() {
        let known: BTreeSet<String> = ["alice".to_owned(), "bob".to_owned()].into();
        let line = |id: &str, m: u64| (id.to_owned(), Msat::new(m));
        let over = enforce(
            &[line("alice", 600), line("bob", 400)],
            Msat::new(1),
            Msat::new(1_000),
            &known,
            Msat::ZERO,
        );
        assert!(matches!(over, Err(PayoutRefused::OverDistributable { .. })));
        let huge = enforce(
            &[line("alice", u64::MAX), line("bob", u64::MAX)],
            Msat::ZERO,
            Msat::new(1_000),
            &known,
            Msat::ZERO,
        );
        assert!(
            matches!(huge, Err(PayoutRefused::OverDistributable { .. })),
            "no wrap-around"
        );
        assert_eq!(
            enforce(
                &[line("mallory", 1)],
                Msat::ZERO,
                Msat::new(10),
                &known,
                Msat::ZERO
            ),
            Err(PayoutRefused::UnknownInvestor("mallory".into()))
        );
        assert_eq!(
            enforce(
                &[line("bob", 1), line("bob", 1)],
                Msat::ZERO,
                Msat::new(10),
                &known,
                Msat::ZERO
            ),
            Err(PayoutRefused::Duplicate("bob".into()))
        );
        let small = enforce(
            &[line("alice", 999), line("bob", 1_000)],
            Msat::ZERO,
            Msat::new(5_000),
            &known,
            Msat::new(1_000),
        )
        .unwrap();
        assert_eq!(small.pay, vec![line("bob", 1_000)]);
        assert_eq!(small.deferred, vec![line("alice", 999)]);
    }
}
