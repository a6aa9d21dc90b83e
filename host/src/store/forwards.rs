//! The forwards ledger, ingested incrementally from `listforwards index=updated`.

use super::{Store, StoreResult, from_sql_u64, to_sql_u64};
use crate::{
    money::Msat,
    node::{Forward, ForwardStatus},
    scid::ShortChannelId,
};
use rusqlite::{OptionalExtension, params};

const UPDATED_CURSOR: &str = "forwards_updated_index";

impl Store {
    /// The `updated_index` to ask lightningd for next (one past the last one ingested).
    pub fn forwards_cursor(&self) -> StoreResult<u64> {
        let last: Option<i64> = self
            .conn
            .query_row(
                "SELECT value FROM cursors WHERE name = ?1",
                [UPDATED_CURSOR],
                |row| row.get(0),
            )
            .optional()?;
        Ok(last.map_or(0, |v| v as u64 + 1))
    }

    /// Inserts or updates `forwards` and advances the cursor, in one transaction. Returns the
    /// forwards that became settled with this batch (for incremental analytics): a forward
    /// already booked as settled is never counted twice.
    pub fn ingest_forwards(&mut self, forwards: &[Forward]) -> StoreResult<Vec<Forward>> {
        self.atomically(|tx| {
            let mut newly_settled = Vec::new();
            // New forwards (the usual case) cost one statement; a known one is updated only
            // while it is not final, so a replayed update can never count twice.
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO forwards (created_index, updated_index, in_channel,
                     out_channel, in_msat, out_msat, fee_msat, status, received_ms, resolved_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE forwards SET updated_index = ?2, out_channel = ?3, out_msat = ?4,
                     fee_msat = ?5, status = ?6, resolved_ms = ?7
                 WHERE created_index = ?1 AND status = 'offered'",
            )?;
            let mut cursor = None;
            for forward in forwards {
                let inserted = insert.execute(params![
                    to_sql_u64(forward.created_index),
                    to_sql_u64(forward.updated_index),
                    to_sql_u64(forward.in_channel.as_u64()),
                    forward.out_channel.map(|c| to_sql_u64(c.as_u64())),
                    to_sql_u64(forward.in_amount.msat()),
                    forward.out_amount.map(|a| to_sql_u64(a.msat())),
                    forward.fee.map(|f| to_sql_u64(f.msat())),
                    forward.status.as_str(),
                    to_sql_u64(forward.received_ms),
                    forward.resolved_ms.map(to_sql_u64),
                ])? == 1;
                let changed = inserted
                    || update.execute(params![
                        to_sql_u64(forward.created_index),
                        to_sql_u64(forward.updated_index),
                        forward.out_channel.map(|c| to_sql_u64(c.as_u64())),
                        forward.out_amount.map(|a| to_sql_u64(a.msat())),
                        forward.fee.map(|f| to_sql_u64(f.msat())),
                        forward.status.as_str(),
                        forward.resolved_ms.map(to_sql_u64),
                    ])? == 1;
                if changed && forward.status == ForwardStatus::Settled {
                    newly_settled.push(forward.clone());
                }
                cursor = cursor.max(Some(forward.updated_index));
            }
            if let Some(cursor) = cursor {
                tx.execute(
                    "INSERT INTO cursors (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
                    params![UPDATED_CURSOR, to_sql_u64(cursor)],
                )?;
            }
            Ok(newly_settled)
        })
    }

    /// Settled forwards resolved at or after `since_ms`, oldest first (to rebuild analytics).
    pub fn settled_forwards_since(&self, since_ms: u64) -> StoreResult<Vec<Forward>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT created_index, updated_index, in_channel, out_channel, in_msat, out_msat,
                    fee_msat, received_ms, resolved_ms
             FROM forwards WHERE status = 'settled' AND resolved_ms >= ?1
             ORDER BY resolved_ms",
        )?;
        let rows = statement.query_map([to_sql_u64(since_ms)], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, Option<i64>>(5)?,
                row.get::<_, Option<i64>>(6)?,
                row.get::<_, i64>(7)?,
                row.get::<_, Option<i64>>(8)?,
            ))
        })?;
        let mut forwards = Vec::new();
        for row in rows {
            let (
                created,
                updated,
                in_channel,
                out_channel,
                in_msat,
                out_msat,
                fee,
                received,
                resolved,
            ) = row?;
            forwards.push(Forward {
                created_index: from_sql_u64(created)?,
                updated_index: from_sql_u64(updated)?,
                in_channel: ShortChannelId::from_u64(from_sql_u64(in_channel)?),
                out_channel: out_channel
                    .map(|c| from_sql_u64(c).map(ShortChannelId::from_u64))
                    .transpose()?,
                in_amount: Msat::new(from_sql_u64(in_msat)?),
                out_amount: out_msat.map(from_sql_u64).transpose()?.map(Msat::new),
                fee: fee.map(from_sql_u64).transpose()?.map(Msat::new),
                status: ForwardStatus::Settled,
                received_ms: from_sql_u64(received)?,
                resolved_ms: resolved.map(from_sql_u64).transpose()?,
            });
        }
        Ok(forwards)
    }

    /// Σ fees and count of settled forwards, and count of failed ones, over the whole ledger.
    pub fn forward_totals(&self) -> StoreResult<ForwardTotals> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(CASE WHEN status = 'settled' THEN fee_msat END), 0),
                    COUNT(CASE WHEN status = 'settled' THEN 1 END),
                    COUNT(CASE WHEN status IN ('failed', 'local_failed') THEN 1 END)
             FROM forwards",
            [],
            |row| {
                Ok(ForwardTotals {
                    fees: Msat::new(row.get::<_, i64>(0)?.max(0) as u64),
                    settled: row.get::<_, i64>(1)? as u64,
                    failed: row.get::<_, i64>(2)? as u64,
                })
            },
        )?)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ForwardTotals {
    pub fees: Msat,
    pub settled: u64,
    pub failed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward(created: u64, updated: u64, status: ForwardStatus) -> Forward {
        Forward {
            created_index: created,
            updated_index: updated,
            in_channel: "103x1x0".parse().unwrap(),
            out_channel: Some("103x3x0".parse().unwrap()),
            in_amount: Msat::new(1_001_000),
            out_amount: Some(Msat::new(1_000_000)),
            fee: Some(Msat::new(1000)),
            status,
            received_ms: 1000 * created,
            resolved_ms: (status != ForwardStatus::Offered).then_some(1000 * created + 5),
        }
    }

    #[test]
    fn offered_then_settled_counts_once() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(store.forwards_cursor().unwrap(), 0);
        let settled = store
            .ingest_forwards(&[forward(1, 1, ForwardStatus::Offered)])
            .unwrap();
        assert!(settled.is_empty());
        assert_eq!(store.forwards_cursor().unwrap(), 2);
        let settled = store
            .ingest_forwards(&[forward(1, 2, ForwardStatus::Settled)])
            .unwrap();
        assert_eq!(settled.len(), 1);
        // Seeing the same update again (e.g. after a crash before the cursor moved) adds nothing.
        let again = store
            .ingest_forwards(&[forward(1, 2, ForwardStatus::Settled)])
            .unwrap();
        assert!(again.is_empty());
        let totals = store.forward_totals().unwrap();
        assert_eq!((totals.fees, totals.settled), (Msat::new(1000), 1));
        assert_eq!(store.settled_forwards_since(0).unwrap().len(), 1);
    }

    #[test]
    fn cursor_never_moves_back() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .ingest_forwards(&[forward(5, 9, ForwardStatus::Failed)])
            .unwrap();
        store
            .ingest_forwards(&[forward(2, 3, ForwardStatus::Settled)])
            .unwrap();
        assert_eq!(store.forwards_cursor().unwrap(), 10);
        assert_eq!(store.forward_totals().unwrap().failed, 1);
    }
}
