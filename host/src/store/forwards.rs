//! The forwards ledger, ingested incrementally from `listforwards` by two cursors: `index=created`
//! (every forward once, the `local_failed` ones only there) and `index=updated` (resolutions).

use super::{Store, StoreResult, from_sql_u64, to_sql_u64};
use crate::{
    money::Msat,
    node::{Forward, ForwardStatus},
    scid::ShortChannelId,
};
use rusqlite::{OptionalExtension, params};

/// Which `listforwards` index a page came from, and so which cursor it moves.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ForwardIndex {
    Created,
    Updated,
}

impl ForwardIndex {
    fn cursor_name(self) -> &'static str {
        match self {
            ForwardIndex::Created => "forwards_created_index",
            ForwardIndex::Updated => "forwards_updated_index",
        }
    }

    fn position(self, forward: &Forward) -> Option<u64> {
        match self {
            ForwardIndex::Created => Some(forward.created_index),
            ForwardIndex::Updated => forward.updated_index,
        }
    }
}

/// Whether analytics count a forward once it is ingested: settled ones (flow, fees) and
/// `local_failed` ones (demand we could not serve). Both are final.
fn counted(status: ForwardStatus) -> bool {
    matches!(status, ForwardStatus::Settled | ForwardStatus::LocalFailed)
}

impl Store {
    /// The index to ask lightningd for next on `index` (one past the last one ingested).
    pub fn forwards_cursor(&self, index: ForwardIndex) -> StoreResult<u64> {
        let last: Option<i64> = self
            .conn
            .query_row(
                "SELECT value FROM cursors WHERE name = ?1",
                [index.cursor_name()],
                |row| row.get(0),
            )
            .optional()?;
        Ok(last.map_or(0, |v| v as u64 + 1))
    }

    /// Inserts or updates `forwards` (a page of `index`) and advances that cursor, in one
    /// transaction. Returns the forwards analytics should count (settled or `local_failed`)
    /// that this batch made so: a forward already booked final is never counted twice,
    /// whichever listing shows it first.
    pub fn ingest_forwards(
        &mut self,
        forwards: &[Forward],
        index: ForwardIndex,
    ) -> StoreResult<Vec<Forward>> {
        self.atomically(|tx| {
            let mut newly_counted = Vec::new();
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
                 WHERE created_index = ?1 AND status = 'offered' AND ?6 != 'offered'",
            )?;
            let mut cursor = None;
            for forward in forwards {
                // 0: no updated_index (the column predates the created listing).
                let updated = to_sql_u64(forward.updated_index.unwrap_or(0));
                let inserted = insert.execute(params![
                    to_sql_u64(forward.created_index),
                    updated,
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
                        updated,
                        forward.out_channel.map(|c| to_sql_u64(c.as_u64())),
                        forward.out_amount.map(|a| to_sql_u64(a.msat())),
                        forward.fee.map(|f| to_sql_u64(f.msat())),
                        forward.status.as_str(),
                        forward.resolved_ms.map(to_sql_u64),
                    ])? == 1;
                if changed && counted(forward.status) {
                    newly_counted.push(forward.clone());
                }
                cursor = cursor.max(index.position(forward));
            }
            if let Some(cursor) = cursor {
                tx.execute(
                    "INSERT INTO cursors (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
                    params![index.cursor_name(), to_sql_u64(cursor)],
                )?;
            }
            Ok(newly_counted)
        })
    }

    /// The forwards analytics count (settled, and `local_failed`) since `since_ms` (resolved,
    /// or received for a local failure, which has no resolution time), oldest first: to
    /// rebuild analytics at start.
    pub fn counted_forwards_since(&self, since_ms: u64) -> StoreResult<Vec<Forward>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT created_index, updated_index, in_channel, out_channel, in_msat, out_msat,
                    fee_msat, received_ms, resolved_ms, status
             FROM forwards
             WHERE (status = 'settled' AND resolved_ms >= ?1)
                OR (status = 'local_failed' AND received_ms >= ?1)
             ORDER BY COALESCE(resolved_ms, received_ms)",
        )?;
        let rows = statement.query_map([to_sql_u64(since_ms)], |row| {
            Ok((
                (
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Option<i64>>(3)?,
                    row.get::<_, i64>(4)?,
                ),
                (
                    row.get::<_, Option<i64>>(5)?,
                    row.get::<_, Option<i64>>(6)?,
                    row.get::<_, i64>(7)?,
                    row.get::<_, Option<i64>>(8)?,
                    row.get::<_, String>(9)?,
                ),
            ))
        })?;
        let mut forwards = Vec::new();
        for row in rows {
            let (
                (created, updated, in_channel, out_channel, in_msat),
                (out_msat, fee, received, resolved, status),
            ) = row?;
            let updated = from_sql_u64(updated)?;
            forwards.push(Forward {
                created_index: from_sql_u64(created)?,
                updated_index: (updated > 0).then_some(updated),
                in_channel: ShortChannelId::from_u64(from_sql_u64(in_channel)?),
                out_channel: out_channel
                    .map(|c| from_sql_u64(c).map(ShortChannelId::from_u64))
                    .transpose()?,
                in_amount: Msat::new(from_sql_u64(in_msat)?),
                out_amount: out_msat.map(from_sql_u64).transpose()?.map(Msat::new),
                fee: fee.map(from_sql_u64).transpose()?.map(Msat::new),
                status: ForwardStatus::parse(&status).unwrap_or(ForwardStatus::Settled),
                received_ms: from_sql_u64(received)?,
                resolved_ms: resolved.map(from_sql_u64).transpose()?,
                failure: None,
            });
        }
        Ok(forwards)
    }

    /// Σ fees and count of settled forwards, and counts of failed ones (downstream, and on our
    /// side), over the whole ledger.
    pub fn forward_totals(&self) -> StoreResult<ForwardTotals> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(CASE WHEN status = 'settled' THEN fee_msat END), 0),
                    COUNT(CASE WHEN status = 'settled' THEN 1 END),
                    COUNT(CASE WHEN status IN ('failed', 'local_failed') THEN 1 END),
                    COUNT(CASE WHEN status = 'local_failed' THEN 1 END)
             FROM forwards",
            [],
            |row| {
                Ok(ForwardTotals {
                    fees: Msat::new(row.get::<_, i64>(0)?.max(0) as u64),
                    settled: row.get::<_, i64>(1)? as u64,
                    failed: row.get::<_, i64>(2)? as u64,
                    local_failed: row.get::<_, i64>(3)? as u64,
                })
            },
        )?)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ForwardTotals {
    pub fees: Msat,
    pub settled: u64,
    /// Every failure, `local_failed` included.
    pub failed: u64,
    /// Failed on our side: demand we could not serve.
    pub local_failed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward(created: u64, updated: Option<u64>, status: ForwardStatus) -> Forward {
        let local = status == ForwardStatus::LocalFailed;
        Forward {
            created_index: created,
            updated_index: updated,
            in_channel: "103x1x0".parse().unwrap(),
            out_channel: Some("103x3x0".parse().unwrap()),
            in_amount: Msat::new(1_001_000),
            out_amount: (!local).then_some(Msat::new(1_000_000)),
            fee: (!local).then_some(Msat::new(1000)),
            status,
            received_ms: 1000 * created,
            resolved_ms: matches!(status, ForwardStatus::Settled | ForwardStatus::Failed)
                .then_some(1000 * created + 5),
            failure: None,
        }
    }

    #[test]
    fn offered_then_settled_counts_once() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(store.forwards_cursor(ForwardIndex::Created).unwrap(), 0);
        let counted = store
            .ingest_forwards(
                &[forward(1, None, ForwardStatus::Offered)],
                ForwardIndex::Created,
            )
            .unwrap();
        assert!(counted.is_empty());
        assert_eq!(store.forwards_cursor(ForwardIndex::Created).unwrap(), 2);
        assert_eq!(store.forwards_cursor(ForwardIndex::Updated).unwrap(), 0);
        let counted = store
            .ingest_forwards(
                &[forward(1, Some(2), ForwardStatus::Settled)],
                ForwardIndex::Updated,
            )
            .unwrap();
        assert_eq!(counted.len(), 1);
        assert_eq!(store.forwards_cursor(ForwardIndex::Updated).unwrap(), 3);
        // Seeing the same forward again, on either listing (e.g. after a crash before the
        // cursor moved), adds nothing.
        for index in [ForwardIndex::Updated, ForwardIndex::Created] {
            let again = store
                .ingest_forwards(&[forward(1, Some(2), ForwardStatus::Settled)], index)
                .unwrap();
            assert!(again.is_empty());
        }
        let totals = store.forward_totals().unwrap();
        assert_eq!((totals.fees, totals.settled), (Msat::new(1000), 1));
        assert_eq!(store.counted_forwards_since(0).unwrap().len(), 1);
    }

    #[test]
    fn a_stale_offered_listing_never_undoes_a_settlement() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .ingest_forwards(
                &[forward(1, Some(2), ForwardStatus::Settled)],
                ForwardIndex::Updated,
            )
            .unwrap();
        store
            .ingest_forwards(
                &[forward(1, None, ForwardStatus::Offered)],
                ForwardIndex::Created,
            )
            .unwrap();
        assert_eq!(store.forward_totals().unwrap().settled, 1);
    }

    #[test]
    fn local_failures_come_from_the_created_listing_and_count_once() {
        let mut store = Store::open_in_memory().unwrap();
        let failed = forward(4, None, ForwardStatus::LocalFailed);
        let counted = store
            .ingest_forwards(std::slice::from_ref(&failed), ForwardIndex::Created)
            .unwrap();
        assert_eq!(counted, vec![failed.clone()]);
        assert!(
            store
                .ingest_forwards(&[failed], ForwardIndex::Created)
                .unwrap()
                .is_empty()
        );
        // No updated_index: the updated cursor stays where it was.
        assert_eq!(store.forwards_cursor(ForwardIndex::Updated).unwrap(), 0);
        assert_eq!(store.forwards_cursor(ForwardIndex::Created).unwrap(), 5);
        let replay = store.counted_forwards_since(0).unwrap();
        assert_eq!(replay.len(), 1);
        assert_eq!(replay[0].status, ForwardStatus::LocalFailed);
        assert_eq!(replay[0].updated_index, None);
        assert_eq!(store.forward_totals().unwrap().failed, 1);
    }

    #[test]
    fn cursor_never_moves_back() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .ingest_forwards(
                &[forward(5, Some(9), ForwardStatus::Failed)],
                ForwardIndex::Updated,
            )
            .unwrap();
        store
            .ingest_forwards(
                &[forward(2, Some(3), ForwardStatus::Settled)],
                ForwardIndex::Updated,
            )
            .unwrap();
        assert_eq!(store.forwards_cursor(ForwardIndex::Updated).unwrap(), 10);
        assert_eq!(store.forward_totals().unwrap().failed, 1);
    }
}
