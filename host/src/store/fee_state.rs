//! Fee state per channel: the last broadcast fee (price truth), and every broadcast made.

use super::{Store, StoreError, StoreResult, from_sql_u64, to_sql_u64};
use crate::{
    model::PricingMode,
    money::{Msat, Ppm},
    scid::ShortChannelId,
};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// What the host believes is on chain for a channel, and why it is there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeeRecord {
    pub channel: ShortChannelId,
    pub fee_ppm: Ppm,
    pub fee_base: Msat,
    /// When revops broadcast it; `None` when the fee was found on chain (set by someone else).
    pub broadcast_at: Option<u64>,
    pub mode: PricingMode,
    pub reason: String,
}

/// How much of a channel's gossip budget the last 24 hours used.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct BudgetUse {
    /// Broadcasts that count against `fee.max-broadcasts-per-day`.
    pub regular: u32,
    /// Exits from a protective mode, counted against `fee.max-mode-exits-per-day` instead.
    pub mode_exits: u32,
}

/// One `setchannel` revops made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BroadcastEntry {
    pub channel: ShortChannelId,
    pub at: u64,
    pub fee_ppm: Ppm,
    pub fee_base: Msat,
    pub mode: PricingMode,
    pub reason: String,
}

fn mode_from_sql(text: &str) -> StoreResult<PricingMode> {
    PricingMode::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown mode {text:?}")))
}

impl Store {
    pub fn fee_records(&self) -> StoreResult<BTreeMap<ShortChannelId, FeeRecord>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT scid, broadcast_ppm, broadcast_base, broadcast_at, mode, reason FROM fee_state",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
            ))
        })?;
        let mut records = BTreeMap::new();
        for row in rows {
            let (scid, ppm, base, at, mode, reason) = row?;
            let channel = ShortChannelId::from_u64(from_sql_u64(scid)?);
            let ppm = u32::try_from(ppm).map_err(|_| StoreError::Corrupt(format!("ppm {ppm}")))?;
            records.insert(
                channel,
                FeeRecord {
                    channel,
                    fee_ppm: Ppm::new(ppm),
                    fee_base: Msat::new(from_sql_u64(base)?),
                    broadcast_at: at.map(from_sql_u64).transpose()?,
                    mode: mode_from_sql(&mode)?,
                    reason,
                },
            );
        }
        Ok(records)
    }

    /// Writes the record as the chain shows it (first sight of a channel, or a repair when the
    /// chain disagrees with the record: the chain wins).
    pub fn put_fee_record(&mut self, record: &FeeRecord) -> StoreResult<()> {
        upsert_record(&self.conn, record)
    }

    /// Books a broadcast revops made: the new record plus a line in the broadcast log, in one
    /// transaction.
    pub fn record_broadcast(&mut self, entry: &BroadcastEntry) -> StoreResult<()> {
        self.atomically(|tx| insert_broadcast(tx, entry))
    }

    /// Books a broadcast and settles the `setchannel` intent that made it, in one transaction:
    /// a crash leaves either both or neither (an intent still pending is reconciled with the
    /// chain by the next cycle).
    pub fn record_broadcast_settling(
        &mut self,
        entry: &BroadcastEntry,
        intent: u64,
        outcome: &str,
        settled_at: u64,
    ) -> StoreResult<()> {
        self.atomically(|tx| {
            insert_broadcast(tx, entry)?;
            super::intents::update_intent(
                tx,
                intent,
                super::IntentStatus::Done,
                outcome,
                settled_at,
            )
        })
    }

    /// Per channel, broadcasts at or after `since` that count against the daily limit, and
    /// the exits from a protective mode among the rest (their own allowance).
    pub fn gossip_budget_use_since(
        &self,
        since: u64,
    ) -> StoreResult<HashMap<ShortChannelId, BudgetUse>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT scid, COUNT(CASE WHEN mode_exit = 0 THEN 1 END),
                    COUNT(CASE WHEN mode_exit != 0 THEN 1 END)
             FROM fee_broadcasts WHERE at >= ?1 GROUP BY scid",
        )?;
        let rows = statement.query_map([to_sql_u64(since)], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        let mut uses = HashMap::new();
        for row in rows {
            let (scid, regular, exits) = row?;
            uses.insert(
                ShortChannelId::from_u64(from_sql_u64(scid)?),
                BudgetUse {
                    regular: u32::try_from(regular).unwrap_or(u32::MAX),
                    mode_exits: u32::try_from(exits).unwrap_or(u32::MAX),
                },
            );
        }
        Ok(uses)
    }

    /// Broadcasts per channel at or after `since` (for the update rate limit).
    pub fn broadcast_counts_since(&self, since: u64) -> StoreResult<HashMap<ShortChannelId, u32>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT scid, COUNT(*) FROM fee_broadcasts WHERE at >= ?1 GROUP BY scid",
        )?;
        let rows = statement.query_map([to_sql_u64(since)], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
        })?;
        let mut counts = HashMap::new();
        for row in rows {
            let (scid, count) = row?;
            counts.insert(
                ShortChannelId::from_u64(from_sql_u64(scid)?),
                u32::try_from(count).unwrap_or(u32::MAX),
            );
        }
        Ok(counts)
    }

    /// The broadcast log, newest first; for one channel or all.
    pub fn broadcast_history(
        &self,
        channel: Option<ShortChannelId>,
        limit: u32,
    ) -> StoreResult<Vec<BroadcastEntry>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT scid, at, fee_ppm, base_msat, mode, reason FROM fee_broadcasts
             WHERE ?1 IS NULL OR scid = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
        )?;
        let rows = statement.query_map(
            params![channel.map(|c| to_sql_u64(c.as_u64())), limit],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                ))
            },
        )?;
        let mut entries = Vec::new();
        for row in rows {
            let (scid, at, ppm, base, mode, reason) = row?;
            entries.push(BroadcastEntry {
                channel: ShortChannelId::from_u64(from_sql_u64(scid)?),
                at: from_sql_u64(at)?,
                fee_ppm: Ppm::new(u32::try_from(ppm).unwrap_or(u32::MAX)),
                fee_base: Msat::new(from_sql_u64(base)?),
                mode: mode_from_sql(&mode)?,
                reason,
            });
        }
        Ok(entries)
    }

    /// Total number of broadcasts ever made (reports).
    pub fn broadcast_total(&self) -> StoreResult<u64> {
        let count: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM fee_broadcasts", [], |row| row.get(0))?;
        Ok(count as u64)
    }
}

fn upsert_record(conn: &rusqlite::Connection, record: &FeeRecord) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO fee_state (scid, broadcast_ppm, broadcast_base, broadcast_at, mode, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (scid) DO UPDATE SET broadcast_ppm = excluded.broadcast_ppm,
             broadcast_base = excluded.broadcast_base, broadcast_at = excluded.broadcast_at,
             mode = excluded.mode, reason = excluded.reason",
    )?
    .execute(params![
        to_sql_u64(record.channel.as_u64()),
        record.fee_ppm.ppm(),
        to_sql_u64(record.fee_base.msat()),
        record.broadcast_at.map(to_sql_u64),
        record.mode.as_str(),
        record.reason,
    ])?;
    Ok(())
}

fn insert_broadcast(conn: &rusqlite::Connection, entry: &BroadcastEntry) -> StoreResult<()> {
    // Leaving a protective mode is judged against the mode on record before this broadcast.
    let previous: Option<String> = conn
        .prepare_cached("SELECT mode FROM fee_state WHERE scid = ?1")?
        .query_row([to_sql_u64(entry.channel.as_u64())], |row| row.get(0))
        .optional()?;
    let previous = previous.as_deref().map(mode_from_sql).transpose()?;
    let mode_exit = previous.is_some_and(|p| p.is_protective()) && !entry.mode.is_protective();
    conn.prepare_cached(
        "INSERT INTO fee_broadcasts (scid, at, fee_ppm, base_msat, mode, reason, mode_exit)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        to_sql_u64(entry.channel.as_u64()),
        to_sql_u64(entry.at),
        entry.fee_ppm.ppm(),
        to_sql_u64(entry.fee_base.msat()),
        entry.mode.as_str(),
        entry.reason,
        mode_exit,
    ])?;
    upsert_record(
        conn,
        &FeeRecord {
            channel: entry.channel,
            fee_ppm: entry.fee_ppm,
            fee_base: entry.fee_base,
            broadcast_at: Some(entry.at),
            mode: entry.mode,
            reason: entry.reason.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaving_a_protective_mode_is_counted_apart() {
        let mut store = Store::open_in_memory().unwrap();
        let channel: ShortChannelId = "103x1x0".parse().unwrap();
        let modes = [
            PricingMode::Normal,
            PricingMode::Congestion,
            PricingMode::FireSale,
            PricingMode::Normal,
            PricingMode::Probe,
            PricingMode::Normal,
        ];
        for (at, mode) in modes.into_iter().enumerate() {
            store
                .record_broadcast(&BroadcastEntry {
                    channel,
                    at: 100 + at as u64,
                    fee_ppm: Ppm::new(10 + at as u32),
                    fee_base: Msat::new(1000),
                    mode,
                    reason: "test".into(),
                })
                .unwrap();
        }
        let used = store.gossip_budget_use_since(0).unwrap()[&channel];
        assert_eq!(
            used,
            BudgetUse {
                regular: 4,
                mode_exits: 2
            }
        );
        assert_eq!(store.broadcast_counts_since(0).unwrap()[&channel], 6);
    }

    #[test]
    fn broadcasts_update_the_record_and_the_log() {
        let mut store = Store::open_in_memory().unwrap();
        let channel: ShortChannelId = "103x1x0".parse().unwrap();
        for (at, ppm) in [(100, 50), (200, 60), (300, 70)] {
            store
                .record_broadcast(&BroadcastEntry {
                    channel,
                    at,
                    fee_ppm: Ppm::new(ppm),
                    fee_base: Msat::new(1000),
                    mode: PricingMode::Normal,
                    reason: "test".into(),
                })
                .unwrap();
        }
        let record = &store.fee_records().unwrap()[&channel];
        assert_eq!(
            (record.fee_ppm, record.broadcast_at),
            (Ppm::new(70), Some(300))
        );
        assert_eq!(store.broadcast_counts_since(200).unwrap()[&channel], 2);
        let history = store.broadcast_history(Some(channel), 2).unwrap();
        assert_eq!(
            history.iter().map(|e| e.at).collect::<Vec<_>>(),
            vec![300, 200]
        );
        assert_eq!(store.broadcast_total().unwrap(), 3);
    }
}
