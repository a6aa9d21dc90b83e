//! Exactly-once payout runs. One run per period id. The run and every line are written in one
//! transaction before any call to LNbits; each line's invoice is recorded before it is paid;
//! a rerun of an unfinished run asks LNbits what happened (by the line's external id) and only
//! pays what is still unpaid. LNbits refuses to pay the same internal invoice twice, a second
//! guard against a double payment.

use super::{InvestorVault, PayoutError, PayoutPlan};
use crate::{
    lnbits::{Credit, CreditStatus, LnbitsError},
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
            let run = run_of(&plan, now);
            store.plan_payout(&run)?;
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
    let line = |id: &str, amount: Msat, status: LineStatus, note: String| PayoutLine {
        investor_id: id.to_owned(),
        amount,
        external_id: external_id(&plan.period, id),
        status,
        payment_hash: None,
        bolt11: None,
        note,
        updated_at: now,
    };
    let mut lines: Vec<PayoutLine> = plan
        .pay
        .iter()
        .map(|(id, amount)| line(id, *amount, LineStatus::Planned, "planned".into()))
        .collect();
    lines.extend(plan.deferred.iter().map(|(id, amount)| {
        line(
            id,
            *amount,
            LineStatus::Deferred,
            "below the minimum payout: carried to the next period".into(),
        )
    }));
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
