//! What the defibrillator remembers: diagnostic attempts (rows of the rebalance ledger with
//! kind `diagnostic`), zero-fee probes, and since when revops has been watching the node.

use super::{Store, StoreResult, from_sql_u64, to_sql_u64};
use crate::{
    analytics::{
        defibrillator::{DIAGNOSTIC_WINDOW_SECS, DiagnosticHistory, Probe},
        profitability::ChannelHistory,
    },
    model::RebalanceKind,
    scid::ShortChannelId,
};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::collections::HashMap;

const OBSERVED_SINCE: &str = "observed-since";

/// A probe from the table, open or ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeRecord {
    pub id: u64,
    pub channel: ShortChannelId,
    pub started_at: u64,
    pub until: u64,
    pub ended_at: Option<u64>,
    pub end_reason: Option<String>,
}

impl Store {
    /// The history the classes need at `now` (open costs come from the node, not the store).
    pub fn channel_history(&self, now: u64) -> StoreResult<ChannelHistory> {
        Ok(ChannelHistory {
            now,
            observed_since: self.observed_since()?,
            histories: self.diagnostic_histories(now.saturating_sub(DIAGNOSTIC_WINDOW_SECS))?,
            probes: self.open_probes()?,
            open_costs: None,
        })
    }

    /// Each channel's diagnostic attempts at or after `since`, oldest first. One that found no
    /// route sent nothing and says nothing about the channel: it is not counted.
    pub fn diagnostic_histories(
        &self,
        since: u64,
    ) -> StoreResult<HashMap<ShortChannelId, DiagnosticHistory>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT destination, completed, at FROM rebalances
             WHERE kind = ?1 AND at >= ?2 AND sent ORDER BY at, id",
        )?;
        let mut rows = statement.query(params![
            RebalanceKind::Diagnostic.as_str(),
            to_sql_u64(since)
        ])?;
        let mut histories: HashMap<ShortChannelId, DiagnosticHistory> = HashMap::new();
        while let Some(row) = rows.next()? {
            let channel = ShortChannelId::from_u64(from_sql_u64(row.get(0)?)?);
            let completed: bool = row.get(1)?;
            let at = from_sql_u64(row.get(2)?)?;
            let history = histories.entry(channel).or_default();
            history.attempts += 1;
            history.last_attempt_at = Some(at);
            history.last_succeeded = completed;
            if completed {
                history.successes += 1;
                history.last_success_at = Some(at);
            }
        }
        Ok(histories)
    }

    /// Opens a zero-fee probe on `channel` until `until` (one open probe per channel: an open
    /// one is extended instead).
    pub fn open_probe(&mut self, channel: ShortChannelId, now: u64, until: u64) -> StoreResult<()> {
        let tx = self.conn.transaction()?;
        let extended = tx.execute(
            "UPDATE probes SET until = MAX(until, ?2) WHERE channel = ?1 AND ended_at IS NULL",
            params![to_sql_u64(channel.as_u64()), to_sql_u64(until)],
        )?;
        if extended == 0 {
            tx.execute(
                "INSERT INTO probes (channel, started_at, until) VALUES (?1, ?2, ?3)",
                params![
                    to_sql_u64(channel.as_u64()),
                    to_sql_u64(now),
                    to_sql_u64(until)
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The probes not ended yet, by channel.
    pub fn open_probes(&self) -> StoreResult<HashMap<ShortChannelId, Probe>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT channel, started_at, until FROM probes WHERE ended_at IS NULL",
        )?;
        let mut rows = statement.query([])?;
        let mut probes = HashMap::new();
        while let Some(row) = rows.next()? {
            probes.insert(
                ShortChannelId::from_u64(from_sql_u64(row.get(0)?)?),
                Probe {
                    started_at: from_sql_u64(row.get(1)?)?,
                    until: from_sql_u64(row.get(2)?)?,
                },
            );
        }
        Ok(probes)
    }

    pub fn end_probe(
        &mut self,
        channel: ShortChannelId,
        now: u64,
        reason: &str,
    ) -> StoreResult<()> {
        self.conn.execute(
            "UPDATE probes SET ended_at = ?2, end_reason = ?3
             WHERE channel = ?1 AND ended_at IS NULL",
            params![to_sql_u64(channel.as_u64()), to_sql_u64(now), reason],
        )?;
        Ok(())
    }

    /// Probes, newest first.
    pub fn probe_history(&self, limit: u32) -> StoreResult<Vec<ProbeRecord>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, channel, started_at, until, ended_at, end_reason FROM probes
             ORDER BY started_at DESC, id DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([limit], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, Option<i64>>(4)?,
                row.get::<_, Option<String>>(5)?,
            ))
        })?;
        let mut probes = Vec::new();
        for row in rows {
            let (id, channel, started_at, until, ended_at, end_reason) = row?;
            probes.push(ProbeRecord {
                id: from_sql_u64(id)?,
                channel: ShortChannelId::from_u64(from_sql_u64(channel)?),
                started_at: from_sql_u64(started_at)?,
                until: from_sql_u64(until)?,
                ended_at: ended_at.map(from_sql_u64).transpose()?,
                end_reason,
            });
        }
        Ok(probes)
    }

    /// Notes that revops watched the node at `now`; only the first call counts.
    pub fn mark_observed(&mut self, now: u64) -> StoreResult<()> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO cursors (name, value) VALUES (?1, ?2)")?
            .execute(params![OBSERVED_SINCE, to_sql_u64(now)])?;
        Ok(())
    }

    /// Since when the forward ledger can be trusted to be complete: the first time revops
    /// watched the node, or the oldest forward it read from the node's history if older.
    pub fn observed_since(&self) -> StoreResult<Option<u64>> {
        let watched: Option<i64> = self
            .conn
            .query_row(
                "SELECT value FROM cursors WHERE name = ?1",
                [OBSERVED_SINCE],
                |row| row.get(0),
            )
            .optional()?;
        let oldest_forward: Option<i64> =
            self.conn
                .query_row("SELECT MIN(received_ms) / 1000 FROM forwards", [], |row| {
                    row.get(0)
                })?;
        Ok(match (watched, oldest_forward) {
            (Some(a), Some(b)) => Some(from_sql_u64(a.min(b))?),
            (Some(a), None) | (None, Some(a)) => Some(from_sql_u64(a)?),
            (None, None) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{money::Msat, store::RebalanceRecord};

    fn diagnostic(store: &mut Store, destination: u64, at: u64, completed: bool) {
        store
            .record_rebalance(&RebalanceRecord {
                source: ShortChannelId::from_u64(1),
                destination: ShortChannelId::from_u64(destination),
                amount: Msat::from_sat(50_000).unwrap(),
                fee: Msat::new(if completed { 20_000 } else { 0 }),
                completed,
                payment_hash: format!("h{destination}-{at}"),
                at,
                kind: RebalanceKind::Diagnostic,
                sent: true,
                failure: None,
            })
            .unwrap();
    }

    #[test]
    fn histories_count_only_diagnostics_in_the_window() {
        let mut store = Store::open_in_memory().unwrap();
        diagnostic(&mut store, 2, 10, false);
        diagnostic(&mut store, 2, 100, true);
        diagnostic(&mut store, 2, 200, false);
        diagnostic(&mut store, 3, 150, true);
        store
            .record_rebalance(&RebalanceRecord {
                kind: RebalanceKind::Normal,
                ..store.rebalance_history(1).unwrap().remove(0)
            })
            .unwrap();
        // A diagnostic that found no route sent nothing: not an attempt on the channel.
        store
            .record_rebalance(&RebalanceRecord {
                sent: false,
                completed: false,
                payment_hash: String::new(),
                at: 210,
                kind: RebalanceKind::Diagnostic,
                ..store.rebalance_history(1).unwrap().remove(0)
            })
            .unwrap();
        let histories = store.diagnostic_histories(50).unwrap();
        let two = &histories[&ShortChannelId::from_u64(2)];
        assert_eq!((two.attempts, two.successes), (2, 1));
        assert_eq!(two.last_success_at, Some(100));
        assert_eq!(two.last_attempt_at, Some(200));
        assert!(!two.last_succeeded);
        assert!(histories[&ShortChannelId::from_u64(3)].last_succeeded);
    }

    #[test]
    fn one_open_probe_per_channel_extended_then_ended() {
        let mut store = Store::open_in_memory().unwrap();
        let channel = ShortChannelId::from_u64(7);
        store.open_probe(channel, 100, 200).unwrap();
        store.open_probe(channel, 150, 300).unwrap();
        assert_eq!(
            store.open_probes().unwrap()[&channel],
            Probe {
                started_at: 100,
                until: 300
            }
        );
        store.end_probe(channel, 250, "routed").unwrap();
        assert!(store.open_probes().unwrap().is_empty());
        let history = store.probe_history(10).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].end_reason.as_deref(), Some("routed"));
        store.open_probe(channel, 400, 500).unwrap();
        assert_eq!(store.probe_history(10).unwrap().len(), 2);
    }

    #[test]
    fn observation_starts_at_the_first_look_or_the_oldest_forward() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(store.observed_since().unwrap(), None);
        store.mark_observed(5_000).unwrap();
        store.mark_observed(9_000).unwrap();
        assert_eq!(store.observed_since().unwrap(), Some(5_000));
    }
}
