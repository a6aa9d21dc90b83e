//! Exactly-once payout runs. One run per period id. The run and every line are written in one
//! transaction before any call to LNbits; each line's invoice is recorded before it is paid;
//! a rerun of an unfinished run asks LNbits what happened (by the line's external id) and only
//! pays what is still unpaid. LNbits refuses to pay the same internal invoice twice, a second
//! guard against a double payment.

use super::{InvestorVault, PAYOUT_SLOT, PayoutError, PayoutPlan};
use crate::{
    lnbits::{Credit, CreditStatus, LnbitsError},
    model::{PolicyKind, StateUpdate},
    money::Msat,
    store::{LineStatus, PayoutLine, PayoutRun, RunStatus, Store},
};
use serde::Serialize;

/// Set to abort the process right after the first credit is paid and before it is recorded:
/// how the tests prove that a crash mid-run does not pay anyone twice.
const FAILPOINT_ENV: &str = "REVOPS_FAILPOINT";
const FAILPOINT_AFTER_PAY: &str = "payout-after-pay";

#[derive(Clone, Debug, Serialize)]
pub struct PayoutOutcome {
    pub run: PayoutRun,
    /// True when the period had been paid in full before this call: nothing was sent.
    pub already_done: bool,
    /// Lines paid by this call.
    pub paid_now: Vec<(String, Msat)>,
    /// Why the run stopped before every line was paid (a rerun continues).
    pub stopped: Option<String>,
}

/// The external id of one line: stable across reruns, unique per period and investor.
pub fn external_id(period: &str, investor: &str) -> String {
    format!("revops-lds-{period}-{investor}")
}

/// Runs (or continues) the payout of `period`. `plan` is computed only when the period has no
/// run yet.
pub fn run_payout(
    store: &mut Store,
    vault: &dyn InvestorVault,
    period: &str,
    now: u64,
    plan: impl FnOnce(&mut Store) -> Result<PayoutPlan, PayoutError>,
) -> Result<PayoutOutcome, PayoutError> {
    let (run, already_done) = match store.payout_run(period)? {
        Some(run) => {
            let done = run.status == RunStatus::Done;
            if !done {
                tracing::info!(period, "continuing an unfinished payout run");
            }
            (run, done)
        }
        None => {
            let plan = plan(store)?;
            if !plan.solvency.solvent {
                tracing::warn!(period, reason = %plan.solvency.reason, "payout halted by the solvency check");
                return Err(PayoutError::Insolvent(Box::new(plan.solvency)));
            }
            let run = run_of(&plan, now);
            store.plan_payout(&run)?;
            let state = StateUpdate {
                node: plan.policy_state.clone(),
                channels: Vec::new(),
            };
            store.save_policy_state(PolicyKind::Payout, PAYOUT_SLOT, &state)?;
            tracing::info!(period, lines = run.lines.len(), distributable = %run.distributable, "payout run recorded");
            (run, false)
        }
    };
    if already_done {
        return Ok(PayoutOutcome {
            run,
            already_done,
            paid_now: Vec::new(),
            stopped: None,
        });
    }
    let mut paid_now = Vec::new();
    let mut stopped = None;
    for line in run
        .lines
        .iter()
        .filter(|l| matches!(l.status, LineStatus::Planned | LineStatus::Invoiced))
    {
        match settle_line(store, vault, period, line.clone(), now) {
            Ok(true) => paid_now.push((line.investor_id.clone(), line.amount)),
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(period, investor = %line.investor_id, %error, "payout line not paid; a rerun continues");
                stopped = Some(format!("{}: {error}", line.investor_id));
                break;
            }
        }
    }
    let mut run = store.payout_run(period)?.expect("recorded above");
    let finished = run
        .lines
        .iter()
        .all(|l| matches!(l.status, LineStatus::Paid | LineStatus::Deferred));
    if finished && stopped.is_none() {
        store.finish_payout(period, now)?;
        run = store.payout_run(period)?.expect("recorded above");
    }
    Ok(PayoutOutcome {
        run,
        already_done,
        paid_now,
        stopped,
    })
}

fn run_of(plan: &PayoutPlan, now: u64) -> PayoutRun {
    let lines = plan
        .owed
        .iter()
        .map(|owed| {
            let (amount, status, note) = if owed.pay > Msat::ZERO {
                (owed.pay, LineStatus::Planned, "planned")
            } else {
                (
                    owed.carried_out,
                    LineStatus::Deferred,
                    "below the minimum payout: owed, carried to the next period",
                )
            };
            PayoutLine {
                investor_id: owed.investor_id.clone(),
                amount,
                carried_in: owed.carried_in,
                carried_out: owed.carried_out,
                external_id: external_id(&plan.period, &owed.investor_id),
                status,
                payment_hash: None,
                bolt11: None,
                note: note.to_owned(),
                updated_at: now,
            }
        })
        .collect();
    PayoutRun {
        period: plan.period.clone(),
        created_at: now,
        status: RunStatus::Paying,
        policy: plan.policy.clone(),
        cumulative_net_msat: plan.cumulative_net_msat,
        high_water_msat: plan.high_water_msat,
        distributable: plan.distributable,
        withheld: plan.withheld,
        carried: plan.carried_out,
        finished_at: None,
        lines,
    }
}

/// Brings one line to `Paid`; `Ok(true)` if this call paid it, `Ok(false)` if LNbits shows it
/// was paid before (a crash after paying, before recording).
fn settle_line(
    store: &mut Store,
    vault: &dyn InvestorVault,
    period: &str,
    mut line: PayoutLine,
    now: u64,
) -> Result<bool, PayoutError> {
    let investor = store.investor(&line.investor_id)?.ok_or_else(|| {
        PayoutError::Lnbits(LnbitsError::Refused {
            what: "payout".into(),
            status: 404,
            detail: format!("investor {} was removed", line.investor_id),
        })
    })?;
    let key = &investor.invoice_key;
    let credit = match vault.find_credit(key, &line.external_id)? {
        Some(credit) => credit,
        None => vault.create_credit(
            key,
            line.amount,
            &format!("revops profit share {period}"),
            &line.external_id,
        )?,
    };
    if credit.amount != line.amount {
        return Err(PayoutError::Lnbits(LnbitsError::Refused {
            what: "payout".into(),
            status: 409,
            detail: format!(
                "invoice {} is for {}, the line for {}: refusing to pay it",
                line.external_id, credit.amount, line.amount
            ),
        }));
    }
    record(
        store,
        period,
        &mut line,
        &credit,
        LineStatus::Invoiced,
        "invoice on the investor's wallet",
        now,
    )?;
    if credit.status == CreditStatus::Success {
        record(
            store,
            period,
            &mut line,
            &credit,
            LineStatus::Paid,
            "paid (found paid at reconciliation)",
            now,
        )?;
        return Ok(false);
    }
    let paid = vault
        .pay_credit(&credit.bolt11)
        .ok_or(PayoutError::NoPayer)?;
    if let Err(error) = paid {
        // "Already paid" and friends: believe LNbits' record of the invoice, not the error.
        if vault.find_credit(key, &line.external_id)?.map(|c| c.status)
            == Some(CreditStatus::Success)
        {
            record(
                store,
                period,
                &mut line,
                &credit,
                LineStatus::Paid,
                "paid (confirmed after a refused payment)",
                now,
            )?;
            return Ok(false);
        }
        return Err(error.into());
    }
    if std::env::var(FAILPOINT_ENV).as_deref() == Ok(FAILPOINT_AFTER_PAY) {
        tracing::error!("failpoint {FAILPOINT_AFTER_PAY}: aborting after paying, before recording");
        std::process::abort();
    }
    record(
        store,
        period,
        &mut line,
        &credit,
        LineStatus::Paid,
        "paid from the operator wallet",
        now,
    )?;
    Ok(true)
}

fn record(
    store: &mut Store,
    period: &str,
    line: &mut PayoutLine,
    credit: &Credit,
    status: LineStatus,
    note: &str,
    now: u64,
) -> Result<(), PayoutError> {
    line.status = status;
    line.payment_hash = Some(credit.payment_hash.clone());
    line.bolt11 = Some(credit.bolt11.clone());
    line.note = note.to_owned();
    line.updated_at = now;
    store.update_payout_line(period, line)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        lds::{distribution::Owed, solvency},
        model::LockTier,
        payout::fake_vault::FakeVault,
        store::Investor,
    };

    fn store_with_investors() -> Store {
        let mut store = Store::open_in_memory().unwrap();
        for id in ["alice", "bob"] {
            store
                .add_investor(&Investor {
                    id: id.into(),
                    wallet_id: format!("w-{id}"),
                    invoice_key: format!("k-{id}"),
                    tier: LockTier::Liquid,
                    lock_expiry: None,
                    joined_at: 0,
                    removed_at: None,
                })
                .unwrap();
        }
        store
    }

    fn owed(id: &str, pay: u64, carried_out: u64) -> Owed {
        Owed {
            investor_id: id.into(),
            share: Msat::new(pay + carried_out),
            carried_in: Msat::ZERO,
            pay: Msat::new(pay),
            carried_out: Msat::new(carried_out),
        }
    }

    fn plan() -> PayoutPlan {
        PayoutPlan {
            period: "p1".into(),
            at: 10,
            policy: "test".into(),
            solvency: solvency::check(Msat::ZERO, Msat::new(1), Msat::ZERO),
            cumulative_net_msat: 10_000_000,
            onchain_costs_msat: None,
            high_water_msat: 0,
            carried_in: Msat::ZERO,
            distributable: Msat::new(10_000_000),
            native_capital: Msat::ZERO,
            investors: Vec::new(),
            owed: vec![owed("alice", 3_000_000, 5), owed("bob", 2_000_000, 0)],
            pay: vec![
                ("alice".into(), Msat::new(3_000_000)),
                ("bob".into(), Msat::new(2_000_000)),
            ],
            deferred: vec![],
            withheld: Msat::new(1_000_000),
            carried_out: Msat::new(5),
            policy_state: Vec::new(),
        }
    }

    #[test]
    fn a_run_pays_each_line_once_and_a_rerun_nothing() {
        let mut store = store_with_investors();
        let vault = FakeVault::default();
        let first = run_payout(&mut store, &vault, "p1", 10, |_| Ok(plan())).unwrap();
        assert_eq!(first.run.status, RunStatus::Done);
        assert_eq!(first.paid_now.len(), 2);
        let again = run_payout(&mut store, &vault, "p1", 20, |_| {
            panic!("not planned twice")
        })
        .unwrap();
        assert!(again.already_done);
        assert_eq!(*vault.payments.borrow(), 2);
        let ledger = store.lds_ledger().unwrap().unwrap();
        assert_eq!(
            (ledger.high_water_msat, ledger.carried),
            (10_000_000, Msat::ZERO)
        );
        let carry = store.investor_carry().unwrap();
        assert_eq!(carry.get("alice"), Some(&Msat::new(5)), "owed to alice");
    }

    #[test]
    fn an_insolvent_plan_is_never_run() {
        let mut store = store_with_investors();
        let vault = FakeVault::default();
        let mut insolvent = plan();
        insolvent.solvency = solvency::check(Msat::new(100), Msat::new(100), Msat::ZERO);
        assert!(!insolvent.solvency.solvent);
        let refused = run_payout(&mut store, &vault, "p1", 10, |_| Ok(insolvent));
        assert!(
            matches!(refused, Err(PayoutError::Insolvent(_))),
            "{refused:?}"
        );
        assert!(
            store.payout_run("p1").unwrap().is_none(),
            "nothing recorded"
        );
        assert_eq!(*vault.payments.borrow(), 0);
    }

    #[test]
    fn lnbits_down_mid_run_stops_and_the_rerun_continues_without_paying_twice() {
        let mut store = store_with_investors();
        let vault = FakeVault::default();
        // Alice's invoice exists and was paid before a crash; revops never recorded it.
        vault
            .create_credit("k-alice", Msat::new(3_000_000), "", "revops-lds-p1-alice")
            .unwrap();
        vault
            .pay_credit("lnbc-revops-lds-p1-alice")
            .unwrap()
            .unwrap();
        *vault.down.borrow_mut() = true;
        let stopped = run_payout(&mut store, &vault, "p1", 10, |_| Ok(plan())).unwrap();
        assert_eq!(stopped.run.status, RunStatus::Paying);
        assert!(stopped.stopped.unwrap().contains("unreachable"));
        *vault.down.borrow_mut() = false;
        let resumed = run_payout(&mut store, &vault, "p1", 20, |_| {
            panic!("not planned twice")
        })
        .unwrap();
        assert_eq!(resumed.run.status, RunStatus::Done);
        assert_eq!(
            resumed.paid_now,
            vec![("bob".to_owned(), Msat::new(2_000_000))]
        );
        assert_eq!(*vault.payments.borrow(), 2, "alice was not paid again");
        let alice = &resumed.run.lines[0];
        assert_eq!(alice.status, LineStatus::Paid);
        assert!(alice.note.contains("reconciliation"), "{}", alice.note);
    }

    #[test]
    fn an_invoice_for_another_amount_is_never_paid() {
        let mut store = store_with_investors();
        let vault = FakeVault::default();
        vault
            .create_credit("k-alice", Msat::new(9_000_000), "", "revops-lds-p1-alice")
            .unwrap();
        let outcome = run_payout(&mut store, &vault, "p1", 10, |_| Ok(plan())).unwrap();
        assert!(outcome.stopped.unwrap().contains("refusing to pay"));
        assert_eq!(*vault.payments.borrow(), 0);
    }
}
