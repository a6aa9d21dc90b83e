//! `payout-twab`: the payout policy revops ships for the Liquidity Dividend System (spec: LDS,
//! distribution). It proposes exactly the host's reference split, so the host can verify every
//! line:
//!
//! 1. `reserve-permille` of the distributable amount is withheld (force-close reserve);
//! 2. the rest is shared by capital — the node's native capital plus every investor's 72 h
//!    time-weighted average balance (TWAB) — pro rata;
//! 3. each investor is paid their share times their lock tier's rebate (liquid 80 %, 30-day
//!    90 %, 90-day 100 % by default); the remainder is the operator's management fee.
//!
//! Everything is integer msat, rounded down (`split`). Lines of 0 msat are left out; the
//! node state passes through untouched.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod split;

use alloc::{format, string::String, vec::Vec};
use core::fmt;
use guest_support::{
    money::PERMILLE,
    schema::{IntParam, Schema},
    types::{Param, PayoutLine},
};
use split::{Rates, split};

wit_bindgen::generate!({
    world: "payout-policy",
    path: "../../wit",
    with: {
        "revops:policy/types@0.1.0": guest_support::types,
        "revops:policy/logging@0.1.0": guest_support::logging,
    },
});

use guest_support::types::LockTier;

guest_support::panic_handler!();

const RESERVE_PERMILLE: IntParam = IntParam::new(
    "reserve-permille",
    "Share of the distributable amount withheld as a reserve, permille.",
    100,
)
.range(0, 1_000);
const REBATE_LIQUID_PERMILLE: IntParam = IntParam::new(
    "rebate-liquid-permille",
    "Share of their gross a liquid (unlocked) investor is paid, permille.",
    800,
)
.range(0, 1_000);
const REBATE_DAYS30_PERMILLE: IntParam = IntParam::new(
    "rebate-days30-permille",
    "Share of their gross a 30-day locked investor is paid, permille.",
    900,
)
.range(0, 1_000);
const REBATE_DAYS90_PERMILLE: IntParam = IntParam::new(
    "rebate-days90-permille",
    "Share of their gross a 90-day locked investor is paid, permille.",
    1_000,
)
.range(0, 1_000);

const SCHEMA: Schema = Schema::new(&[
    &RESERVE_PERMILLE,
    &REBATE_LIQUID_PERMILLE,
    &REBATE_DAYS30_PERMILLE,
    &REBATE_DAYS90_PERMILLE,
]);

fn rates(params: &[Param]) -> Rates {
    Rates::new(
        RESERVE_PERMILLE.get_u32(params),
        REBATE_LIQUID_PERMILLE.get_u32(params),
        REBATE_DAYS30_PERMILLE.get_u32(params),
        REBATE_DAYS90_PERMILLE.get_u32(params),
    )
}

fn tier_name(tier: LockTier) -> &'static str {
    match tier {
        LockTier::Liquid => "liquid",
        LockTier::Days30 => "days30",
        LockTier::Days90 => "days90",
    }
}

/// A permille rate as a percentage: 800 → `80`, 875 → `87.5`.
struct Percent(u32);

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, tenth) = (self.0 / 10, self.0 % 10);
        if tenth == 0 {
            write!(f, "{whole}")
        } else {
            write!(f, "{whole}.{tenth}")
        }
    }
}

/// The lines and the withheld amount for `input` under `rates`.
fn decide(input: &PayoutInput, rates: &Rates) -> Result<(Vec<PayoutLine>, u64), String> {
    let stakes: Vec<(u64, LockTier)> = input
        .investors
        .iter()
        .map(|i| (i.twab_msat, i.tier))
        .collect();
    let split = split(
        input.distributable_msat,
        input.native_capital_msat,
        &stakes,
        rates,
    );
    // Guaranteed by the arithmetic (see `split`); checked so a bug refuses rather than overpays.
    if split.committed_msat() > u128::from(input.distributable_msat) {
        return Err(format!(
            "split of {} msat commits {} msat",
            input.distributable_msat,
            split.committed_msat()
        ));
    }
    let lines = input
        .investors
        .iter()
        .zip(&split.shares)
        .filter(|(_, share)| share.amount_msat > 0)
        .map(|(investor, share)| PayoutLine {
            investor_id: investor.id.clone(),
            amount_msat: share.amount_msat,
            reason: format!(
                "twab {} msat of capital {}, tier {} {} %",
                investor.twab_msat,
                split.capital_msat,
                tier_name(investor.tier),
                Percent(rates.rebate_permille(investor.tier).min(PERMILLE)),
            ),
        })
        .collect();
    Ok((lines, split.withheld_msat))
}

struct PayoutTwab;

impl Guest for PayoutTwab {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "payout-twab".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Shares profit by 72 h time-weighted capital, less a reserve and the tier's management fee (the LDS reference split).".into(),
            params: SCHEMA.specs(),
        }
    }

    fn propose_payouts(ctx: Context, input: PayoutInput) -> Result<PayoutDecision, String> {
        let (lines, withheld_msat) = decide(&input, &rates(&ctx.params))?;
        let paid: u128 = lines.iter().map(|l| u128::from(l.amount_msat)).sum();
        guest_support::info!(
            "period {:?}: {} of {} investors paid {} msat, {} msat withheld, of {} msat",
            input.period_id,
            lines.len(),
            input.investors.len(),
            paid,
            withheld_msat,
            input.distributable_msat
        );
        Ok(PayoutDecision {
            lines,
            withheld_msat,
            node_state: ctx.node_state,
        })
    }
}

export!(PayoutTwab);

#[cfg(test)]
mod tests {
    use super::*;
    use guest_support::types::{Investor, ParamValue};

    fn investor(id: &str, tier: LockTier, twab_msat: u64) -> Investor {
        Investor {
            id: id.into(),
            tier,
            twab_msat,
            balance_msat: twab_msat,
        }
    }

    fn input(investors: Vec<Investor>) -> PayoutInput {
        PayoutInput {
            period_id: "2026-11".into(),
            distributable_msat: 1_000_000,
            native_capital_msat: 2_000_000,
            investors,
        }
    }

    #[test]
    fn the_worked_example_with_default_parameters() {
        let input = input(vec![
            investor("alice", LockTier::Liquid, 1_000_000),
            investor("bob", LockTier::Days90, 1_000_000),
        ]);
        let (lines, withheld) = decide(&input, &rates(&[])).unwrap();
        assert_eq!(withheld, 100_000);
        let paid: Vec<(&str, u64)> = lines
            .iter()
            .map(|l| (l.investor_id.as_str(), l.amount_msat))
            .collect();
        assert_eq!(paid, [("alice", 180_000), ("bob", 225_000)]);
        assert_eq!(
            lines[0].reason,
            "twab 1000000 msat of capital 4000000, tier liquid 80 %"
        );
        assert_eq!(
            lines[1].reason,
            "twab 1000000 msat of capital 4000000, tier days90 100 %"
        );
    }

    #[test]
    fn zero_lines_are_left_out() {
        let input = input(vec![
            investor("dust", LockTier::Days30, 1),
            investor("none", LockTier::Liquid, 0),
            investor("carol", LockTier::Days30, 2_000_000),
        ]);
        let (lines, withheld) = decide(&input, &rates(&[])).unwrap();
        assert_eq!(withheld, 100_000);
        // capital 4,000,001: carol's gross is 899,999 × 2 / 4.000001 ≈ 449,999, 90 % paid.
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].investor_id, "carol");
        assert_eq!(lines[0].amount_msat, 404_999);
        assert_eq!(
            lines[0].reason,
            "twab 2000000 msat of capital 4000001, tier days30 90 %"
        );
    }

    #[test]
    fn parameters_are_read_and_clamped() {
        let params = |pairs: &[(&str, i64)]| -> Vec<Param> {
            pairs
                .iter()
                .map(|&(name, v)| Param {
                    name: name.into(),
                    value: ParamValue::Integer(v),
                })
                .collect()
        };
        assert_eq!(rates(&[]), Rates::new(100, 800, 900, 1_000));
        let custom = params(&[
            ("reserve-permille", 0),
            ("rebate-liquid-permille", 875),
            ("rebate-days30-permille", 2_000),
            ("rebate-days90-permille", -3),
        ]);
        assert_eq!(rates(&custom), Rates::new(0, 875, 1_000, 0));
        let input = input(vec![investor("alice", LockTier::Liquid, 2_000_000)]);
        let (lines, withheld) = decide(&input, &rates(&custom)).unwrap();
        assert_eq!(withheld, 0);
        assert_eq!(lines[0].amount_msat, 437_500); // half of 1,000,000, 87.5 % paid
        assert!(lines[0].reason.ends_with("tier liquid 87.5 %"));
    }

    #[test]
    fn the_schema_is_consistent() {
        assert_eq!(SCHEMA.check(), Ok(()));
        let specs = SCHEMA.specs();
        assert_eq!(
            specs.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            [
                "reserve-permille",
                "rebate-liquid-permille",
                "rebate-days30-permille",
                "rebate-days90-permille"
            ]
        );
        assert!(
            specs
                .iter()
                .all(|s| s.min == Some(0.0) && s.max == Some(1_000.0))
        );
    }

    #[test]
    fn percentages() {
        assert_eq!(format!("{}", Percent(800)), "80");
        assert_eq!(format!("{}", Percent(875)), "87.5");
        assert_eq!(format!("{}", Percent(5)), "0.5");
        assert_eq!(format!("{}", Percent(1_000)), "100");
        assert_eq!(format!("{}", Percent(0)), "0");
    }
}
