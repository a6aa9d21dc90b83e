//! Profit distribution arithmetic (spec: Liquidity Dividend System, distribution). Pure and in
//! integer millisatoshi: the high-water mark, the reference split the shipped payout policy
//! follows, and the host's enforcement of whatever a payout policy proposes.

use crate::money::Msat;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

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

/// How a tier is written, in and out: `liquid`, `30d`, `90d`.
pub fn tier_name(tier: LockTier) -> &'static str {
    match tier {
        LockTier::Liquid => "liquid",
        LockTier::Days30 => "30d",
        LockTier::Days90 => "90d",
    }
}

/// Serializes a tier as it is written (`serialize_with`).
pub fn serialize_tier<S: serde::Serializer>(tier: &LockTier, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tier_name(*tier))
}

/// New profit to share: profit above the high-water mark, plus any carry the ledger could not
/// attribute to an investor (only from databases older than per-investor carry). Losses are
/// recovered first: while cumulative net profit is below the mark, nothing is distributable.
/// What earlier runs carried for an investor is not in here: it is owed to them (`settle`).
pub fn distributable(cumulative_net_msat: i64, high_water_msat: i64, unattributed: Msat) -> Msat {
    let above = i128::from(cumulative_net_msat) - i128::from(high_water_msat);
    let above = u64::try_from(above.max(0)).unwrap_or(u64::MAX);
    Msat::new(above).saturating_add(unattributed)
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

/// A payout decision the host accepted: each investor's share of the new profit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Enforced {
    /// Shares above zero, one per investor.
    pub shares: Vec<(String, Msat)>,
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
    #[error("what investor {0:?} is owed overflows")]
    Overflow(String),
}

/// The host's rules on a proposed payout: known investors, one line each, Σ lines + withheld ≤
/// distributable (checked, never wrapped).
pub fn enforce(
    lines: &[(String, Msat)],
    withheld: Msat,
    distributable: Msat,
    known_investors: &BTreeSet<String>,
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
    Ok(Enforced {
        shares: lines
            .iter()
            .filter(|(_, amount)| *amount > Msat::ZERO)
            .cloned()
            .collect(),
        withheld,
    })
}

/// What one investor is owed this period and what of it is paid now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Owed {
    pub investor_id: String,
    /// Their share of this period's new profit.
    pub share: Msat,
    /// Owed from earlier periods (sub-sat remainders, lines below the minimum).
    pub carried_in: Msat,
    /// Paid now, whole sat; zero when the total is below the minimum.
    pub pay: Msat,
    /// Still owed to them after this period: carried to the next, never split again.
    pub carried_out: Msat,
}

impl Owed {
    pub fn total(&self) -> Msat {
        self.pay.saturating_add(self.carried_out)
    }
}

/// Adds each investor's carry to their share, pays the total in whole sat when it reaches
/// `minimum`, and carries the rest for the same investor. `investors` are the active ones, in
/// order; a carry of someone not among them stays where it is.
pub fn settle(
    shares: &[(String, Msat)],
    carried: &BTreeMap<String, Msat>,
    investors: &[String],
    minimum: Msat,
) -> Result<Vec<Owed>, PayoutRefused> {
    let mut owed = Vec::new();
    for id in investors {
        let share = shares
            .iter()
            .find(|(line, _)| line == id)
            .map_or(Msat::ZERO, |(_, amount)| *amount);
        let carried_in = carried.get(id).copied().unwrap_or(Msat::ZERO);
        let total = share
            .checked_add(carried_in)
            .ok_or_else(|| PayoutRefused::Overflow(id.clone()))?;
        if total == Msat::ZERO {
            continue;
        }
        // LNbits invoices are in whole sat: round down, carry the rest.
        let whole = Msat::from_sat(total.sat_floor()).unwrap_or(Msat::ZERO);
        let pay = if total >= minimum { whole } else { Msat::ZERO };
        owed.push(Owed {
            investor_id: id.clone(),
            share,
            carried_in,
            pay,
            carried_out: total.saturating_sub(pay),
        });
    }
    Ok(owed)
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
            let enforced = enforce(&split.lines, split.withheld, distributable, &known)
                .expect("the reference split is always acceptable");
            // With random carries, everything owed is paid or carried, to the msat.
            let ids: Vec<String> = stakes.iter().map(|s| s.investor_id.clone()).collect();
            let carried: BTreeMap<String, Msat> = ids
                .iter()
                .map(|id| (id.clone(), Msat::new(rng.below(5_000_000))))
                .collect();
            let owed = settle(&enforced.shares, &carried, &ids, Msat::new(1_000_000)).unwrap();
            let carried_in = Msat::checked_sum(carried.values().copied()).unwrap();
            let settled = Msat::checked_sum(owed.iter().map(Owed::total)).unwrap();
            assert_eq!(Some(settled), paid.checked_add(carried_in));
            for line in &owed {
                assert_eq!(line.pay.msat() % 1_000, 0, "whole sat");
                assert!(line.pay == Msat::ZERO || line.pay >= Msat::new(1_000_000));
                assert_eq!(line.carried_in, carried[&line.investor_id]);
            }
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
        );
        assert!(matches!(over, Err(PayoutRefused::OverDistributable { .. })));
        let huge = enforce(
            &[line("alice", u64::MAX), line("bob", u64::MAX)],
            Msat::ZERO,
            Msat::new(1_000),
            &known,
        );
        assert!(
            matches!(huge, Err(PayoutRefused::OverDistributable { .. })),
            "no wrap-around"
        );
        assert_eq!(
            enforce(&[line("mallory", 1)], Msat::ZERO, Msat::new(10), &known,),
            Err(PayoutRefused::UnknownInvestor("mallory".into()))
        );
        assert_eq!(
            enforce(
                &[line("bob", 1), line("bob", 1)],
                Msat::ZERO,
                Msat::new(10),
                &known,
            ),
            Err(PayoutRefused::Duplicate("bob".into()))
        );
    }

    #[test]
    fn a_carry_stays_with_its_investor_and_builds_up_to_the_minimum() {
        let ids = ["alice".to_owned(), "bob".to_owned(), "carol".to_owned()];
        let line = |id: &str, m: u64| (id.to_owned(), Msat::new(m));
        // Alice: 999 + 700 carried reaches the 1,000 minimum; bob stays under it; carol has
        // no share this time and only her carry, which is paid in whole sat.
        let carried = BTreeMap::from([line("alice", 700), line("carol", 2_500)]);
        let owed = settle(
            &[line("alice", 999), line("bob", 400)],
            &carried,
            &ids,
            Msat::new(1_000),
        )
        .unwrap();
        let by = |id: &str| owed.iter().find(|o| o.investor_id == id).unwrap().clone();
        assert_eq!(
            (by("alice").pay, by("alice").carried_out),
            (Msat::new(1_000), Msat::new(699))
        );
        assert_eq!(
            (by("bob").pay, by("bob").carried_out),
            (Msat::ZERO, Msat::new(400))
        );
        assert_eq!(
            (by("carol").share, by("carol").pay, by("carol").carried_out),
            (Msat::ZERO, Msat::new(2_000), Msat::new(500))
        );
        // Nobody owed nothing gets a line; a stranger's carry is left alone.
        let none = settle(&[], &BTreeMap::from([line("zed", 5)]), &ids, Msat::ZERO).unwrap();
        assert!(none.is_empty());
        let overflow = settle(
            &[line("alice", u64::MAX)],
            &BTreeMap::from([line("alice", 1)]),
            &ids,
            Msat::ZERO,
        );
        assert_eq!(overflow, Err(PayoutRefused::Overflow("alice".into())));
    }

    #[test]
    fn tiers_read_as_written() {
        let names: Vec<&str> = [LockTier::Liquid, LockTier::Days30, LockTier::Days90]
            .into_iter()
            .map(tier_name)
            .collect();
        assert_eq!(names, ["liquid", "30d", "90d"]);
    }
}
