//! The rebalance ledger: every settled rebalance with the fee actually paid, every attempt
//! that found no route; and the budget reservations of payments not yet resolved.

use super::{
    IntentStatus, Store, StoreResult,
    intents::{insert_intent, update_intent},
    to_sql_u64,
};
use crate::{model::RebalanceKind, money::Msat, scid::ShortChannelId};
use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RebalanceRecord {
    pub source: ShortChannelId,
    pub destination: ShortChannelId,
    pub amount: Msat,
    /// The fee actually paid (zero for a failed attempt).
    pub fee: Msat,
    pub completed: bool,
    /// Empty when nothing was sent.
    pub payment_hash: String,
    /// When the payment was made (or, unsent, attempted).
    pub at: u64,
    pub kind: RebalanceKind,
    /// False when nothing was sent (no route, refused): still a failed attempt for the backoff.
    pub sent: bool,
    /// Why it failed; none when completed.
    pub failure: Option<String>,
}

fn kind_from_sql(text: &str) -> RebalanceKind {
    if text == RebalanceKind::Diagnostic.as_str() {
        RebalanceKind::Diagnostic
    } else {
        RebalanceKind::Normal
    }
}

impl Store {
    pub fn record_rebalance(&mut self, record: &RebalanceRecord) -> StoreResult<()> {
        insert_record(&self.conn, record)
    }

    /// Writes a rebalance payment's intent and hands it the budget `reservation`, in one
    /// transaction: from here on the reservation lives exactly as long as the payment is
    /// unresolved.
    pub fn begin_rebalance_intent(
        &mut self,
        reservation: Option<u64>,
        action: &str,
        subject: &str,
        payload: &str,
        at: u64,
    ) -> StoreResult<u64> {
        let tx = self.conn.transaction()?;
        let intent = insert_intent(&tx, action, subject, payload, at)?;
        if let Some(reservation) = reservation {
            tx.execute(
                "UPDATE rebalance_reservations SET intent_id = ?2 WHERE id = ?1",
                params![to_sql_u64(reservation), to_sql_u64(intent)],
            )?;
        }
        tx.commit()?;
        Ok(intent)
    }

    /// Settles a rebalance payment's intent, books its ledger row (if any) and releases its
    /// reservation, in one transaction: the budget never counts both the reservation and the
    /// fee, nor neither.
    pub fn settle_rebalance(
        &mut self,
        intent: u64,
        status: IntentStatus,
        note: &str,
        record: Option<&RebalanceRecord>,
        at: u64,
    ) -> StoreResult<()> {
        let tx = self.conn.transaction()?;
        update_intent(&tx, intent, status, note, at)?;
        if let Some(record) = record {
            insert_record(&tx, record)?;
        }
        tx.execute(
            "DELETE FROM rebalance_reservations WHERE intent_id = ?1",
            [to_sql_u64(intent)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Fees paid since `since` plus every reservation still held: what the budget has used.
    pub fn rebalance_spent_since(&self, since: u64) -> StoreResult<Msat> {
        let spent: i64 = self.conn.query_row(
            "SELECT (SELECT COALESCE(SUM(fee_msat), 0) FROM rebalances WHERE at >= ?1)
                  + (SELECT COALESCE(SUM(max_fee_msat), 0) FROM rebalance_reservations WHERE at >= ?1)",
            [to_sql_u64(since)],
            |row| row.get(0),
        )?;
        Ok(Msat::new(spent.max(0) as u64))
    }

    /// Reserves `max_fee` of the budget `cap` in one transaction, if it fits; the id releases it.
    pub fn reserve_rebalance_fee(
        &mut self,
        max_fee: Msat,
        cap: Msat,
        since: u64,
        now: u64,
    ) -> StoreResult<Option<u64>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let spent: i64 = tx.query_row(
            "SELECT (SELECT COALESCE(SUM(fee_msat), 0) FROM rebalances WHERE at >= ?1)
                  + (SELECT COALESCE(SUM(max_fee_msat), 0) FROM rebalance_reservations WHERE at >= ?1)",
            [to_sql_u64(since)],
            |row| row.get(0),
        )?;
        let fits = Msat::new(spent.max(0) as u64)
            .checked_add(max_fee)
            .is_some_and(|total| total <= cap);
        if !fits {
            return Ok(None);
        }
        tx.execute(
            "INSERT INTO rebalance_reservations (max_fee_msat, at) VALUES (?1, ?2)",
            params![to_sql_u64(max_fee.msat()), to_sql_u64(now)],
        )?;
        let id = tx.last_insert_rowid() as u64;
        tx.commit()?;
        Ok(Some(id))
    }

    /// Releases reservation `id` unless its payment is still unresolved (then the payment's
    /// settlement releases it).
    pub fn release_rebalance_reservation(&mut self, id: u64) -> StoreResult<()> {
        self.conn.execute(
            "DELETE FROM rebalance_reservations WHERE id = ?1 AND (intent_id IS NULL
                 OR intent_id NOT IN (SELECT id FROM intents WHERE status = 'pending'))",
            [to_sql_u64(id)],
        )?;
        Ok(())
    }

    /// Releases every reservation without an unresolved payment: one made just before a crash
    /// (no intent yet), or one whose intent was settled without it. Call only when no move is
    /// being prepared (the rebalance cycle does, before it starts). Returns how many.
    pub fn release_orphan_reservations(&mut self) -> StoreResult<usize> {
        Ok(self.conn.execute(
            "DELETE FROM rebalance_reservations WHERE intent_id IS NULL
                 OR intent_id NOT IN (SELECT id FROM intents WHERE status = 'pending')",
            [],
        )?)
    }

    /// When the last completed rebalance from `source` into `destination` happened (either
    /// side may be `None` for "any").
    pub fn last_rebalance(
        &self,
        source: Option<ShortChannelId>,
        destination: Option<ShortChannelId>,
    ) -> StoreResult<Option<u64>> {
        let at: Option<i64> = self.conn.query_row(
            "SELECT MAX(at) FROM rebalances WHERE completed
                 AND (?1 IS NULL OR source = ?1) AND (?2 IS NULL OR destination = ?2)",
            params![
                source.map(|s| to_sql_u64(s.as_u64())),
                destination.map(|d| to_sql_u64(d.as_u64()))
            ],
            |row| row.get(0),
        )?;
        Ok(at.map(|a| a as u64))
    }

    /// Failed attempts for a pair since its last success, and when the latest one was.
    pub fn rebalance_failures(
        &self,
        source: ShortChannelId,
        destination: ShortChannelId,
    ) -> StoreResult<(u32, Option<u64>)> {
        let mut statement = self.conn.prepare_cached(
            "SELECT completed, at FROM rebalances WHERE source = ?1 AND destination = ?2
             ORDER BY at DESC, id DESC LIMIT 64",
        )?;
        let rows = statement.query_map(
            params![
                to_sql_u64(source.as_u64()),
                to_sql_u64(destination.as_u64())
            ],
            |row| Ok((row.get::<_, bool>(0)?, row.get::<_, i64>(1)? as u64)),
        )?;
        let mut failures = 0;
        let mut latest = None;
        for row in rows {
            let (completed, at) = row?;
            if completed {
                break;
            }
            failures += 1;
            latest = latest.or(Some(at));
        }
        Ok((failures, latest))
    }

    /// The ledger, newest first.
    pub fn rebalance_history(&self, limit: u32) -> StoreResult<Vec<RebalanceRecord>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT source, destination, amount_msat, fee_msat, completed, payment_hash, at, kind,
                 sent, failure
             FROM rebalances ORDER BY at DESC, id DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([limit], |row| {
            Ok(RebalanceRecord {
                source: ShortChannelId::from_u64(row.get::<_, i64>(0)? as u64),
                destination: ShortChannelId::from_u64(row.get::<_, i64>(1)? as u64),
                amount: Msat::new(row.get::<_, i64>(2)? as u64),
                fee: Msat::new(row.get::<_, i64>(3)? as u64),
                completed: row.get(4)?,
                payment_hash: row.get(5)?,
                at: row.get::<_, i64>(6)? as u64,
                kind: kind_from_sql(&row.get::<_, String>(7)?),
                sent: row.get(8)?,
                failure: row.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
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

fn insert_record(conn: &Connection, record: &RebalanceRecord) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO rebalances (source, destination, amount_msat, fee_msat, completed,
             payment_hash, at, kind, sent, failure)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        to_sql_u64(record.source.as_u64()),
        to_sql_u64(record.destination.as_u64()),
        to_sql_u64(record.amount.msat()),
        to_sql_u64(record.fee.msat()),
        record.completed,
        record.payment_hash,
        to_sql_u64(record.at),
        record.kind.as_str(),
        record.sent,
        record.failure,
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at: u64, completed: bool, fee: u64) -> RebalanceRecord {
        RebalanceRecord {
            source: ShortChannelId::from_u64(1),
            destination: ShortChannelId::from_u64(2),
            amount: Msat::new(1_000_000),
            fee: Msat::new(fee),
            completed,
            payment_hash: format!("h{at}"),
            at,
            kind: RebalanceKind::Normal,
            sent: true,
            failure: (!completed).then(|| "failed".into()),
        }
    }

    #[test]
    fn reservations_are_atomic_against_the_cap() {
        let mut store = Store::open_in_memory().unwrap();
        store.record_rebalance(&record(100, true, 4_000)).unwrap();
        let cap = Msat::new(10_000);
        let first = store
            .reserve_rebalance_fee(Msat::new(5_000), cap, 0, 200)
            .unwrap();
        assert!(first.is_some());
        // 4,000 paid + 5,000 held: 2,000 more does not fit.
        assert_eq!(
            store
                .reserve_rebalance_fee(Msat::new(2_000), cap, 0, 200)
                .unwrap(),
            None
        );
        store.release_rebalance_reservation(first.unwrap()).unwrap();
        assert!(
            store
                .reserve_rebalance_fee(Msat::new(2_000), cap, 0, 200)
                .unwrap()
                .is_some()
        );
        assert_eq!(store.rebalance_spent_since(0).unwrap(), Msat::new(6_000));
    }

    #[test]
    fn a_reservation_lives_exactly_as_long_as_its_payment_is_unresolved() {
        let mut store = Store::open_in_memory().unwrap();
        let cap = Msat::new(100_000);
        let held = store
            .reserve_rebalance_fee(Msat::new(5_000), cap, 0, 10)
            .unwrap()
            .unwrap();
        let intent = store
            .begin_rebalance_intent(Some(held), "rebalance", "a->b", "{}", 11)
            .unwrap();
        // Still in flight: neither the cycle's release nor the orphan sweep touches it.
        store.release_rebalance_reservation(held).unwrap();
        assert_eq!(store.release_orphan_reservations().unwrap(), 0);
        assert_eq!(store.rebalance_spent_since(0).unwrap(), Msat::new(5_000));
        // Resolved: the fee paid replaces the reservation in one step.
        store
            .settle_rebalance(
                intent,
                IntentStatus::Done,
                "completed",
                Some(&record(11, true, 1_200)),
                20,
            )
            .unwrap();
        assert_eq!(store.release_orphan_reservations().unwrap(), 0);
        assert_eq!(store.rebalance_spent_since(0).unwrap(), Msat::new(1_200));
        assert!(store.pending_intents().unwrap().is_empty());
        // A crash between reserving and writing the intent leaves an orphan: swept.
        store
            .reserve_rebalance_fee(Msat::new(7_000), cap, 0, 30)
            .unwrap()
            .unwrap();
        assert_eq!(store.release_orphan_reservations().unwrap(), 1);
        assert_eq!(store.rebalance_spent_since(0).unwrap(), Msat::new(1_200));
    }

    #[test]
    fn failures_count_since_the_last_success() {
        let mut store = Store::open_in_memory().unwrap();
        for (at, completed) in [(1, false), (2, true), (3, false), (4, false)] {
            store.record_rebalance(&record(at, completed, 0)).unwrap();
        }
        let pair = (ShortChannelId::from_u64(1), ShortChannelId::from_u64(2));
        assert_eq!(
            store.rebalance_failures(pair.0, pair.1).unwrap(),
            (2, Some(4))
        );
        assert_eq!(store.last_rebalance(Some(pair.0), None).unwrap(), Some(2));
        assert_eq!(
            store.last_rebalance(Some(pair.1), Some(pair.0)).unwrap(),
            None
        );
        assert_eq!(store.rebalance_history(10).unwrap().len(), 4);
    }

    #[test]
    fn two_writers_racing_for_the_budget_never_overspend_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.sqlite3");
        Store::open(&path, super::super::Durability::Normal).unwrap();
        let cap = Msat::new(100_000);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let path = path.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let mut store = Store::open(&path, super::super::Durability::Normal).unwrap();
                    barrier.wait();
                    let mut won = 0u64;
                    for _ in 0..40 {
                        if store
                            .reserve_rebalance_fee(Msat::new(3_000), cap, 0, 10)
                            .unwrap()
                            .is_some()
                        {
                            won += 1;
                        }
                    }
                    won
                })
            })
            .collect();
        let won: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
        // 33 reservations of 3,000 fit in 100,000; 80 were attempted between the two.
        assert_eq!(won, 33);
        let store = Store::open(&path, super::super::Durability::Normal).unwrap();
        assert_eq!(store.rebalance_spent_since(0).unwrap(), Msat::new(99_000));
    }
}
