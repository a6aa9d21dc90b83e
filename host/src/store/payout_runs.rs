//! Payout runs of the Liquidity Dividend System: a run and all its lines are written before any
//! money moves (the intents that make a payout exactly-once), each investor's carry with them.

use super::{Store, StoreError, StoreResult, from_sql_u64, lds::optional_u64, to_sql_u64};
use crate::{money::Msat, payout::Period};
use rusqlite::{Row, params};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Lines recorded; some not paid yet (a rerun continues them).
    Paying,
    Done,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineStatus {
    /// Recorded; no invoice yet.
    Planned,
    /// An invoice exists on the investor's wallet; maybe paid (the rerun asks LNbits).
    Invoiced,
    Paid,
    /// Below the minimum payout: carried to the next period instead.
    Deferred,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayoutLine {
    pub investor_id: String,
    /// Paid by this line (whole sat); for a deferred line, everything owed, carried.
    pub amount: Msat,
    /// Owed from earlier periods, included in this line.
    pub carried_in: Msat,
    /// Owed to the investor after this line: carried to their next line.
    pub carried_out: Msat,
    pub external_id: String,
    pub status: LineStatus,
    pub payment_hash: Option<String>,
    pub bolt11: Option<String>,
    pub note: String,
    pub updated_at: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayoutRun {
    pub period: String,
    pub created_at: u64,
    pub status: RunStatus,
    pub policy: String,
    pub cumulative_net_msat: i64,
    /// The high-water mark before this run.
    pub high_water_msat: i64,
    pub distributable: Msat,
    pub withheld: Msat,
    /// Carried to the next period by this run.
    pub carried: Msat,
    pub finished_at: Option<u64>,
    pub lines: Vec<PayoutLine>,
}

fn line_str(status: LineStatus) -> &'static str {
    match status {
        LineStatus::Planned => "planned",
        LineStatus::Invoiced => "invoiced",
        LineStatus::Paid => "paid",
        LineStatus::Deferred => "deferred",
    }
}

fn line_of(text: &str) -> StoreResult<LineStatus> {
    match text {
        "planned" => Ok(LineStatus::Planned),
        "invoiced" => Ok(LineStatus::Invoiced),
        "paid" => Ok(LineStatus::Paid),
        "deferred" => Ok(LineStatus::Deferred),
        other => Err(StoreError::Corrupt(format!(
            "unknown line status {other:?}"
        ))),
    }
}

impl Store {
    /// Records a run and all its lines, and moves the ledger (the high-water mark up to the
    /// run's cumulative profit, each line's investor's carry to what the line carries out), in
    /// one transaction: before any money moves, the whole run is on disk.
    pub fn plan_payout(&mut self, run: &PayoutRun) -> StoreResult<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO lds_payout_runs (period, created_at, status, policy, cumulative_net_msat,
                 high_water_msat, distributable_msat, withheld_msat, carried_msat)
             VALUES (?1, ?2, 'paying', ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                run.period,
                to_sql_u64(run.created_at),
                run.policy,
                run.cumulative_net_msat,
                run.high_water_msat,
                to_sql_u64(run.distributable.msat()),
                to_sql_u64(run.withheld.msat()),
                to_sql_u64(run.carried.msat()),
            ],
        )?;
        for line in &run.lines {
            tx.execute(
                "INSERT INTO lds_payout_lines (period, investor_id, amount_msat, external_id,
                     status, note, updated_at, carried_in_msat, carried_out_msat)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    run.period,
                    line.investor_id,
                    to_sql_u64(line.amount.msat()),
                    line.external_id,
                    line_str(line.status),
                    line.note,
                    to_sql_u64(line.updated_at),
                    to_sql_u64(line.carried_in.msat()),
                    to_sql_u64(line.carried_out.msat()),
                ],
            )?;
            tx.execute(
                "INSERT INTO lds_carry (investor_id, carried_msat) VALUES (?1, ?2)
                 ON CONFLICT (investor_id) DO UPDATE SET carried_msat = ?2",
                params![line.investor_id, to_sql_u64(line.carried_out.msat())],
            )?;
        }
        let updated = tx.execute(
            "UPDATE lds_ledger SET high_water_msat = MAX(high_water_msat, ?1), carried_msat = 0
             WHERE id = 1",
            [run.cumulative_net_msat],
        )?;
        if updated != 1 {
            return Err(StoreError::Corrupt(
                "no LDS ledger: add an investor first".into(),
            ));
        }
        tx.commit()?;
        Ok(())
    }

    /// What each investor is owed from earlier runs (investors never carried for: absent).
    pub fn investor_carry(&self) -> StoreResult<BTreeMap<String, Msat>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT investor_id, carried_msat FROM lds_carry WHERE carried_msat > 0",
        )?;
        let mut rows = statement.query([])?;
        let mut carry = BTreeMap::new();
        while let Some(row) = rows.next()? {
            carry.insert(row.get(0)?, Msat::new(from_sql_u64(row.get(1)?)?));
        }
        Ok(carry)
    }

    /// The latest period with a run, among those that are months up to the one of `now` (a
    /// version that did not check periods may have recorded others).
    pub fn last_payout_period(&self, now: u64) -> StoreResult<Option<Period>> {
        let current = Period::of_unix(now);
        let mut statement = self
            .conn
            .prepare_cached("SELECT period FROM lds_payout_runs")?;
        let mut rows = statement.query([])?;
        let mut last = None;
        while let Some(row) = rows.next()? {
            let text: String = row.get(0)?;
            if let Ok(period) = Period::parse(&text)
                && period <= current
            {
                last = last.max(Some(period));
            }
        }
        Ok(last)
    }

    pub fn update_payout_line(&mut self, period: &str, line: &PayoutLine) -> StoreResult<()> {
        self.conn.execute(
            "UPDATE lds_payout_lines SET status = ?3, payment_hash = ?4, bolt11 = ?5, note = ?6,
                 updated_at = ?7
             WHERE period = ?1 AND investor_id = ?2",
            params![
                period,
                line.investor_id,
                line_str(line.status),
                line.payment_hash,
                line.bolt11,
                line.note,
                to_sql_u64(line.updated_at),
            ],
        )?;
        Ok(())
    }

    pub fn finish_payout(&mut self, period: &str, now: u64) -> StoreResult<()> {
        self.conn.execute(
            "UPDATE lds_payout_runs SET status = 'done', finished_at = ?2 WHERE period = ?1",
            params![period, to_sql_u64(now)],
        )?;
        Ok(())
    }

    pub fn payout_run(&self, period: &str) -> StoreResult<Option<PayoutRun>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT period, created_at, status, policy, cumulative_net_msat, high_water_msat,
                 distributable_msat, withheld_msat, carried_msat, finished_at
             FROM lds_payout_runs WHERE period = ?1",
        )?;
        let mut rows = statement.query([period])?;
        let Some(row) = rows.next()? else {
            return Ok(None);
        };
        let mut run = run_row(row)?;
        run.lines = self.payout_lines(period)?;
        Ok(Some(run))
    }

    /// Runs, newest first, with their lines.
    pub fn payout_runs(&self, limit: u32) -> StoreResult<Vec<PayoutRun>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT period, created_at, status, policy, cumulative_net_msat, high_water_msat,
                 distributable_msat, withheld_msat, carried_msat, finished_at
             FROM lds_payout_runs ORDER BY created_at DESC, period DESC LIMIT ?1",
        )?;
        let mut rows = statement.query([limit])?;
        let mut runs = Vec::new();
        while let Some(row) = rows.next()? {
            runs.push(run_row(row)?);
        }
        for run in &mut runs {
            run.lines = self.payout_lines(&run.period)?;
        }
        Ok(runs)
    }

    fn payout_lines(&self, period: &str) -> StoreResult<Vec<PayoutLine>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT investor_id, amount_msat, external_id, status, payment_hash, bolt11, note,
                 updated_at, carried_in_msat, carried_out_msat
             FROM lds_payout_lines WHERE period = ?1 ORDER BY investor_id",
        )?;
        let mut rows = statement.query([period])?;
        let mut lines = Vec::new();
        while let Some(row) = rows.next()? {
            lines.push(PayoutLine {
                investor_id: row.get(0)?,
                amount: Msat::new(from_sql_u64(row.get(1)?)?),
                carried_in: Msat::new(from_sql_u64(row.get(8)?)?),
                carried_out: Msat::new(from_sql_u64(row.get(9)?)?),
                external_id: row.get(2)?,
                status: line_of(&row.get::<_, String>(3)?)?,
                payment_hash: row.get(4)?,
                bolt11: row.get(5)?,
                note: row.get(6)?,
                updated_at: from_sql_u64(row.get(7)?)?,
            });
        }
        Ok(lines)
    }
}

fn run_row(row: &Row<'_>) -> StoreResult<PayoutRun> {
    Ok(PayoutRun {
        period: row.get(0)?,
        created_at: from_sql_u64(row.get(1)?)?,
        status: match row.get::<_, String>(2)?.as_str() {
            "done" => RunStatus::Done,
            _ => RunStatus::Paying,
        },
        policy: row.get(3)?,
        cumulative_net_msat: row.get(4)?,
        high_water_msat: row.get(5)?,
        distributable: Msat::new(from_sql_u64(row.get(6)?)?),
        withheld: Msat::new(from_sql_u64(row.get(7)?)?),
        carried: Msat::new(from_sql_u64(row.get(8)?)?),
        finished_at: optional_u64(row.get(9)?)?,
        lines: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::lds::tests::investor;

    #[test]
    fn periods_an_older_version_recorded_unchecked_do_not_count_as_the_last_run() {
        let mut store = Store::open_in_memory().unwrap();
        store.add_investor(&investor("alice", "w1", 100)).unwrap();
        for period in ["garbage", "2099-01", "2026-10"] {
            store
                .plan_payout(&PayoutRun {
                    period: period.into(),
                    created_at: 500,
                    status: RunStatus::Paying,
                    policy: "payout-twab".into(),
                    cumulative_net_msat: 0,
                    high_water_msat: 0,
                    distributable: Msat::ZERO,
                    withheld: Msat::ZERO,
                    carried: Msat::ZERO,
                    finished_at: None,
                    lines: Vec::new(),
                })
                .unwrap();
        }
        // 2026-11-24: the future 2099-01 and the malformed one are passed over.
        assert_eq!(
            store.last_payout_period(1_795_478_400).unwrap(),
            Some(Period::parse("2026-10").unwrap())
        );
    }

    #[test]
    fn a_planned_run_moves_the_ledger_in_the_same_transaction() {
        let mut store = Store::open_in_memory().unwrap();
        let run = PayoutRun {
            period: "2026-11".into(),
            created_at: 500,
            status: RunStatus::Paying,
            policy: "payout-twab".into(),
            cumulative_net_msat: 9_000,
            high_water_msat: 0,
            distributable: Msat::new(9_000),
            withheld: Msat::new(900),
            carried: Msat::new(3),
            finished_at: None,
            lines: vec![PayoutLine {
                investor_id: "alice".into(),
                amount: Msat::new(4_000),
                carried_in: Msat::ZERO,
                carried_out: Msat::new(3),
                external_id: "revops-lds-2026-11-alice".into(),
                status: LineStatus::Planned,
                payment_hash: None,
                bolt11: None,
                note: String::new(),
                updated_at: 500,
            }],
        };
        assert!(
            store.plan_payout(&run).is_err(),
            "no ledger before an investor"
        );
        assert!(
            store.payout_run("2026-11").unwrap().is_none(),
            "rolled back"
        );
        store.add_investor(&investor("alice", "w1", 100)).unwrap();
        store.plan_payout(&run).unwrap();
        assert!(store.plan_payout(&run).is_err(), "one run per period");
        let ledger = store.lds_ledger().unwrap().unwrap();
        assert_eq!(
            (ledger.high_water_msat, ledger.carried),
            (9_000, Msat::ZERO)
        );
        assert_eq!(
            store.investor_carry().unwrap(),
            BTreeMap::from([("alice".to_owned(), Msat::new(3))])
        );
        // A later run below the mark (losses) never moves it down.
        let mut lower = run.clone();
        lower.period = "2026-12".into();
        lower.cumulative_net_msat = 5_000;
        for line in &mut lower.lines {
            line.external_id = "revops-lds-2026-12-alice".into();
        }
        store.plan_payout(&lower).unwrap();
        assert_eq!(store.lds_ledger().unwrap().unwrap().high_water_msat, 9_000);
        assert_eq!(
            store.last_payout_period(1_796_083_200).unwrap(),
            Some(Period::parse("2026-12").unwrap())
        );
        let mut line = run.lines[0].clone();
        line.status = LineStatus::Paid;
        store.update_payout_line("2026-11", &line).unwrap();
        store.finish_payout("2026-11", 600).unwrap();
        let stored = store.payout_run("2026-11").unwrap().unwrap();
        assert_eq!(stored.status, RunStatus::Done);
        assert_eq!(stored.lines[0].status, LineStatus::Paid);
        assert_eq!(store.payout_runs(5).unwrap().len(), 2);
    }
}
