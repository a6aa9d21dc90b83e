//! What a payout for a period would do, computed without moving money: the solvency check,
//! time-weighted balances, the new profit above the high-water mark, the payout policy's
//! shares under the host's rules, each investor's carry added to their share, rounded down to
//! whole sat with the rest carried for the same investor.

use super::{InvestorVault, PAYOUT_SLOT, PayoutError, period};
use crate::{
    lds::{
        distribution::{LockTier, Owed, distributable, enforce, serialize_tier, settle},
        solvency::{self, Solvency},
        twab::{TWAB_WINDOW_SECS, twab},
    },
    model::{self, CallContext, PayoutInput, PolicyKind},
    money::Msat,
    node::{Funds, Node},
    runtime::Registry,
    store::Store,
};
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Clone, Debug, Serialize)]
pub struct PlannedInvestor {
    pub id: String,
    #[serde(serialize_with = "serialize_tier")]
    pub tier: LockTier,
    pub balance: Msat,
    pub twab: Msat,
    /// Seconds of the last 72 h the snapshots cover.
    pub twab_covered_secs: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PayoutPlan {
    pub period: String,
    pub at: u64,
    pub policy: String,
    pub solvency: Solvency,
    /// Net profit since the first investor joined (fees earned − rebalance fees − on-chain
    /// costs booked by the bookkeeper), msat.
    pub cumulative_net_msat: i64,
    /// On-chain fees since the first investor joined (`None`: no bookkeeper plugin, unknown).
    pub onchain_costs_msat: Option<i64>,
    pub high_water_msat: i64,
    /// Owed from earlier periods, in total (each investor's is in `owed`).
    pub carried_in: Msat,
    /// New profit to share (carries are not in it: they are owed already).
    pub distributable: Msat,
    pub native_capital: Msat,
    pub investors: Vec<PlannedInvestor>,
    /// Per investor: share of the new profit, carry in, paid now, carry out.
    pub owed: Vec<Owed>,
    /// Whole-sat amounts to pay.
    pub pay: Vec<(String, Msat)>,
    /// Below the minimum payout: everything owed to them, carried instead.
    pub deferred: Vec<(String, Msat)>,
    pub withheld: Msat,
    /// Carried to the next period, in total: deferred lines and the sub-sat remainders.
    pub carried_out: Msat,
    /// The payout policy's node state after this decision (kept only if the run happens).
    #[serde(skip)]
    pub policy_state: Vec<u8>,
}

/// The solvency check against the node as it is: its normal channels' local balance
/// (`listfunds`) less the outgoing HTLCs pending on them.
pub fn solvency_on(
    node: &dyn Node,
    funds: &Funds,
    liabilities: Msat,
) -> Result<Solvency, PayoutError> {
    let pending_out = node
        .channels()?
        .iter()
        .filter(|c| c.is_normal())
        .flat_map(|c| c.htlcs.iter().filter(|h| h.outgoing).map(|h| h.amount))
        .fold(Msat::ZERO, Msat::saturating_add);
    Ok(solvency::check(
        liabilities,
        funds.channels_local,
        pending_out,
    ))
}

/// The facts and the policy's decision for `period`; records only the solvency check. An
/// insolvent node still gets its plan (a preview shows it); `run_payout` refuses to run it.
#[allow(
    clippy::too_many_arguments,
    reason = "the parts a payout is computed from"
)]
pub fn plan_payout(
    node: &dyn Node,
    store: &mut Store,
    registry: &Registry,
    vault: &dyn InvestorVault,
    period: &str,
    now: u64,
    seed: u64,
    minimum: Msat,
) -> Result<PayoutPlan, PayoutError> {
    let ledger = store.lds_ledger()?.ok_or(PayoutError::NoInvestors)?;
    let investors = store.investors()?;
    if investors.is_empty() {
        return Err(PayoutError::NoInvestors);
    }
    let last_run = store.last_payout_period(now)?;
    period::check(period, now, ledger.epoch_start, last_run)?;
    // Every balance, or no payout: liabilities must be complete for the solvency check.
    let balances = investors
        .iter()
        .map(|i| vault.balance(&i.invoice_key))
        .collect::<Result<Vec<Msat>, _>>()?;
    let liabilities = Msat::checked_sum(balances.iter().copied()).unwrap_or(Msat::MAX);
    let funds = node.funds()?;
    let solvency = solvency_on(node, &funds, liabilities)?;
    store.record_solvency(now, Some(period), &solvency)?;

    let snapshots = store.snapshots_since(now.saturating_sub(TWAB_WINDOW_SECS))?;
    let planned: Vec<PlannedInvestor> = investors
        .iter()
        .zip(&balances)
        .map(|(investor, balance)| {
            let average = twab(&snapshots, &investor.id, now);
            PlannedInvestor {
                id: investor.id.clone(),
                tier: investor.tier,
                balance: *balance,
                twab: average.average,
                twab_covered_secs: average.covered_secs,
            }
        })
        .collect();
    // On-chain costs since the epoch, where the bookkeeper knows them, come off the profit.
    let onchain_costs = node
        .onchain_fees(ledger.epoch_start)?
        .map(|fees| fees.iter().map(|f| f.fee_msat).sum::<i64>());
    let cumulative = store
        .net_profit_since(ledger.epoch_start)?
        .saturating_sub(onchain_costs.unwrap_or(0));
    let available = distributable(cumulative, ledger.high_water_msat, ledger.carried);
    let native = funds.channels_local.saturating_sub(liabilities);
    let input = PayoutInput {
        period_id: period.to_owned(),
        distributable: available,
        native_capital: native,
        investors: planned
            .iter()
            .map(|p| model::Investor {
                id: p.id.clone(),
                tier: p.tier,
                twab: p.twab,
                balance: p.balance,
            })
            .collect(),
    };
    let ctx = CallContext {
        now_secs: now,
        previous_call_secs: None,
        seed,
        state: store.policy_state(PolicyKind::Payout, PAYOUT_SLOT)?,
    };
    let policy = registry
        .active(PolicyKind::Payout, PAYOUT_SLOT)
        .map(|p| p.label())?;
    let decision = registry.propose_payouts(PAYOUT_SLOT, &ctx, &input)?.value;
    let lines: Vec<(String, Msat)> = decision
        .lines
        .iter()
        .map(|l| (l.investor_id.clone(), l.amount))
        .collect();
    let known: BTreeSet<String> = investors.iter().map(|i| i.id.clone()).collect();
    let enforced = enforce(&lines, decision.withheld, available, &known)?;
    let ids: Vec<String> = investors.iter().map(|i| i.id.clone()).collect();
    let carried = store.investor_carry()?;
    let owed = settle(&enforced.shares, &carried, &ids, minimum)?;
    let carried_in = owed
        .iter()
        .fold(ledger.carried, |sum, o| sum.saturating_add(o.carried_in));
    let carried_out = owed
        .iter()
        .fold(Msat::ZERO, |sum, o| sum.saturating_add(o.carried_out));
    let pay = owed
        .iter()
        .filter(|o| o.pay > Msat::ZERO)
        .map(|o| (o.investor_id.clone(), o.pay))
        .collect();
    let deferred = owed
        .iter()
        .filter(|o| o.pay == Msat::ZERO)
        .map(|o| (o.investor_id.clone(), o.carried_out))
        .collect();
    Ok(PayoutPlan {
        period: period.to_owned(),
        at: now,
        policy,
        solvency,
        cumulative_net_msat: cumulative,
        onchain_costs_msat: onchain_costs,
        high_water_msat: ledger.high_water_msat,
        carried_in,
        distributable: available,
        native_capital: native,
        investors: planned,
        owed,
        pay,
        deferred,
        withheld: enforced.withheld,
        carried_out,
        policy_state: decision.node_state,
    })
}
