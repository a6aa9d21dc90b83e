//! The rebalance ledger: every settled rebalance with the fee actually paid.

use super::{Store, StoreResult, to_sql_u64};
use crate::{money::Msat, scid::ShortChannelId};
use rusqlite::params;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RebalanceRecord {
    pub source: ShortChannelId,
    pub destination: ShortChannelId,
    pub amount: Msat,
    /// The fee actually paid (zero for a failed attempt).
    pub fee: Msat,
    pub completed: bool,
    pub payment_hash: String,
    pub at: u64,
}

impl Store {
    pub fn record_rebalance(&mut self, record: &RebalanceRecord) -> StoreResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO rebalances (source, destination, amount_msat, fee_msat, completed,
                     payment_hash, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                to_sql_u64(record.source.as_u64()),
                to_sql_u64(record.destination.as_u64()),
                to_sql_u64(record.amount.msat()),
                to_sql_u64(record.fee.msat()),
                record.completed,
                record.payment_hash,
                to_sql_u64(record.at),
            ])?;
        Ok(())
    }

    /// Σ fees paid and count of completed rebalances since `since` (unix seconds).
    pub fn rebalance_costs_since(&self, since: u64) -> StoreResult<(Msat, u64)> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(fee_msat), 0), COUNT(CASE WHEN completed THEN 1 END)
             FROM rebalances WHERE at >= ?1",
            [to_sql_u64(since)],
            |row| {
                Ok((
                    Msat::new(row.get::<_, i64>(0)?.max(0) as u64),
                    row.get::<_, i64>(1)? as u64,
                ))
            },
        )?)
    }
}
