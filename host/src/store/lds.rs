//! The Liquidity Dividend System's records: investors, hourly balance snapshots, the ledger
//! (epoch, high-water mark, unattributed carry) and solvency checks. Payout runs are in
//! `payout_runs`.

use super::{Store, StoreError, StoreResult, from_sql_u64, to_sql_u64};
use crate::{
    lds::{
        distribution::{LockTier, serialize_tier},
        solvency::Solvency,
        twab::BalanceSnapshot,
    },
    money::Msat,
};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

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

pub(super) fn optional_u64(value: Option<i64>) -> StoreResult<Option<u64>> {
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
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::store) fn investor(id: &str, wallet: &str, joined_at: u64) -> Investor {
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
}
