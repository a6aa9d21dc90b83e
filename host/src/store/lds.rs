//! The Liquidity Dividend System's records: investors, hourly balance snapshots, the ledger
//! (epoch, high-water mark, carried remainder), solvency checks, and payout runs whose lines
//! are written before any money moves (the intents that make a payout exactly-once).

use super::{Store, StoreError, StoreResult, from_sql_u64, to_sql_u64};
use crate::{
    lds::{
        distribution::{LockTier, serialize_tier},
        solvency::Solvency,
        twab::BalanceSnapshot,
    },
    money::Msat,
    payout::Period,
};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Investor {
    pub id: String,
    pub wallet_id: String,
    /// The wallet's invoice key: it can make invoices and read the balance, never spend.
    #[serde(skip)]
    pub invoice_key: String,
    #[serde(serialize_with = "serialize_tier")]
    pub tier: LockTier,
    pub lock_expiry: Option<u64>,
    pub joined_at: u64,
    pub removed_at: Option<u64>,
}

/// Profit accounting since the first investor joined.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LdsLedger {
    pub epoch_start: u64,
    /// The highest cumulative net profit a payout shared (msat; never moves down).
    pub high_water_msat: i64,
    /// Carried by a version that kept one total instead of a carry per investor, and not yet
    /// attributed: shared once more as new profit by the next run. Zero otherwise.
    pub carried: Msat,
}

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

fn tier_str(tier: LockTier) -> &'static str {
    match tier {
        LockTier::Liquid => "liquid",
        LockTier::Days30 => "days30",
        LockTier::Days90 => "days90",
    }
}

fn tier_of(text: &str) -> StoreResult<LockTier> {
    match text {
        "liquid" => Ok(LockTier::Liquid),
        "days30" => Ok(LockTier::Days30),
        "days90" => Ok(LockTier::Days90),
        other => Err(StoreError::Corrupt(format!("unknown lock tier {other:?}"))),
    }
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

fn optional_u64(value: Option<i64>) -> StoreResult<Option<u64>> {
    value.map(from_sql_u64).transpose()
}

fn investor_row(row: &Row<'_>) -> StoreResult<Investor> {
    Ok(Investor {
        id: row.get(0)?,
        wallet_id: row.get(1)?,
        invoice_key: row.get(2)?,
        tier: tier_of(&row.get::<_, String>(3)?)?,
        lock_expiry: optional_u64(row.get(4)?)?,
        joined_at: from_sql_u64(row.get(5)?)?,
        removed_at: optional_u64(row.get(6)?)?,
    })
}

impl Store {
    /// Registers an investor; the first one starts the profit epoch.
    pub fn add_investor(&mut self, investor: &Investor) -> StoreResult<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO lds_investors (id, wallet_id, invoice_key, tier, lock_expiry, joined_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET wallet_id = ?2, invoice_key = ?3, tier = ?4,
                 lock_expiry = ?5, joined_at = ?6, removed_at = NULL",
            params![
                investor.id,
                investor.wallet_id,
                investor.invoice_key,
                tier_str(investor.tier),
                investor.lock_expiry.map(to_sql_u64),
                to_sql_u64(investor.joined_at),
            ],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO lds_ledger (id, epoch_start, high_water_msat, carried_msat)
             VALUES (1, ?1, 0, 0)",
            [to_sql_u64(investor.joined_at)],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn update_investor(&mut self, investor: &Investor) -> StoreResult<bool> {
        let changed = self.conn.execute(
            "UPDATE lds_investors SET invoice_key = ?2, tier = ?3, lock_expiry = ?4
             WHERE id = ?1 AND removed_at IS NULL",
            params![
                investor.id,
                investor.invoice_key,
                tier_str(investor.tier),
                investor.lock_expiry.map(to_sql_u64),
            ],
        )?;
        Ok(changed == 1)
    }

    /// Marks an investor removed (kept for the history of their payouts).
    pub fn remove_investor(&mut self, id: &str, now: u64) -> StoreResult<bool> {
        let changed = self.conn.execute(
            "UPDATE lds_investors SET removed_at = ?2 WHERE id = ?1 AND removed_at IS NULL",
            params![id, to_sql_u64(now)],
        )?;
        Ok(changed == 1)
    }

    /// Investors not removed, by id.
    pub fn investors(&self) -> StoreResult<Vec<Investor>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, wallet_id, invoice_key, tier, lock_expiry, joined_at, removed_at
             FROM lds_investors WHERE removed_at IS NULL ORDER BY id",
        )?;
        let mut rows = statement.query([])?;
        let mut investors = Vec::new();
        while let Some(row) = rows.next()? {
            investors.push(investor_row(row)?);
        }
        Ok(investors)
    }

    pub fn investor(&self, id: &str) -> StoreResult<Option<Investor>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, wallet_id, invoice_key, tier, lock_expiry, joined_at, removed_at
             FROM lds_investors WHERE id = ?1 AND removed_at IS NULL",
        )?;
        let mut rows = statement.query([id])?;
        rows.next()?.map(investor_row).transpose()
    }

    /// One snapshot: every investor balance read at `at`.
    pub fn record_snapshot(&mut self, at: u64, balances: &[(String, Msat)]) -> StoreResult<()> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO lds_snapshots (at, investor_id, balance_msat)
                 VALUES (?1, ?2, ?3)",
            )?;
            for (id, balance) in balances {
                insert.execute(params![to_sql_u64(at), id, to_sql_u64(balance.msat())])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Snapshots at or after `since`, oldest first; plus the last one before `since` (it
    /// covers the start of the window).
    pub fn snapshots_since(&self, since: u64) -> StoreResult<Vec<BalanceSnapshot>> {
        let start: Option<i64> = self
            .conn
            .query_row(
                "SELECT MAX(at) FROM lds_snapshots WHERE at < ?1",
                [to_sql_u64(since)],
                |row| row.get(0),
            )
            .optional()?
            .flatten();
        let from = start.unwrap_or(to_sql_u64(since));
        let mut statement = self.conn.prepare_cached(
            "SELECT at, investor_id, balance_msat FROM lds_snapshots WHERE at >= ?1
             ORDER BY at, investor_id",
        )?;
        let mut rows = statement.query([from])?;
        let mut snapshots: Vec<BalanceSnapshot> = Vec::new();
        while let Some(row) = rows.next()? {
            let at = from_sql_u64(row.get(0)?)?;
            let balance = Msat::new(from_sql_u64(row.get(2)?)?);
            if snapshots.last().is_none_or(|s| s.at != at) {
                snapshots.push(BalanceSnapshot {
                    at,
                    ..BalanceSnapshot::default()
                });
            }
            let last = snapshots.last_mut().expect("pushed above");
            last.balances.insert(row.get(1)?, balance);
        }
        Ok(snapshots)
    }

    pub fn lds_ledger(&self) -> StoreResult<Option<LdsLedger>> {
        let row = self
            .conn
            .query_row(
                "SELECT epoch_start, high_water_msat, carried_msat FROM lds_ledger WHERE id = 1",
                [],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(epoch, high_water, carried)| {
            Ok(LdsLedger {
                epoch_start: from_sql_u64(epoch)?,
                high_water_msat: high_water,
                carried: Msat::new(from_sql_u64(carried)?),
            })
        })
        .transpose()
    }

    /// Routing fees earned minus rebalance fees paid since `since` (unix seconds), msat.
    /// On-chain costs are not booked by this version.
    pub fn net_profit_since(&self, since: u64) -> StoreResult<i64> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COALESCE(SUM(fee_msat), 0) FROM forwards
                     WHERE status = 'settled' AND resolved_ms >= ?1 * 1000)
                  - (SELECT COALESCE(SUM(fee_msat), 0) FROM rebalances WHERE at >= ?1)",
            [to_sql_u64(since)],
            |row| row.get(0),
        )?)
    }

    pub fn record_solvency(
        &mut self,
        at: u64,
        period: Option<&str>,
        check: &Solvency,
    ) -> StoreResult<()> {
        self.conn.execute(
            "INSERT INTO lds_solvency_checks
                 (at, period, liabilities_msat, physical_msat, limit_msat, solvent, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                to_sql_u64(at),
                period,
                to_sql_u64(check.liabilities_msat.msat()),
                to_sql_u64(check.physical_msat.msat()),
                to_sql_u64(check.limit_msat.msat()),
                check.solvent,
                check.reason,
            ],
        )?;
        Ok(())
    }

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

    fn investor(id: &str, wallet: &str, joined_at: u64) -> Investor {
        Investor {
            id: id.into(),
            wallet_id: wallet.into(),
            invoice_key: format!("inkey-{id}"),
            tier: LockTier::Liquid,
            lock_expiry: None,
            joined_at,
            removed_at: None,
        }
    }

    #[test]
    fn investors_come_and_go_and_the_first_starts_the_epoch() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(store.lds_ledger().unwrap(), None);
        store.add_investor(&investor("alice", "w1", 100)).unwrap();
        store.add_investor(&investor("bob", "w2", 200)).unwrap();
        assert_eq!(store.lds_ledger().unwrap().unwrap().epoch_start, 100);
        assert!(store.remove_investor("alice", 300).unwrap());
        assert!(!store.remove_investor("alice", 300).unwrap());
        let ids: Vec<_> = store
            .investors()
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(ids, ["bob"]);
        // The same wallet cannot belong to two active investors.
        assert!(store.add_investor(&investor("carol", "w2", 400)).is_err());
    }

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
    fn snapshots_come_back_grouped_with_the_one_before_the_window() {
        let mut store = Store::open_in_memory().unwrap();
        for at in [10, 20, 30] {
            store
                .record_snapshot(
                    at,
                    &[
                        ("alice".into(), Msat::new(at)),
                        ("bob".into(), Msat::new(1)),
                    ],
                )
                .unwrap();
        }
        let snaps = store.snapshots_since(25).unwrap();
        assert_eq!(snaps.iter().map(|s| s.at).collect::<Vec<_>>(), [20, 30]);
        assert_eq!(snaps[1].balances["alice"], Msat::new(30));
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
