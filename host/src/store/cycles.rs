//! Decision cycles and the verdict on every proposal they handled.

use super::{Store, StoreResult, from_sql_u64, to_sql_u64};
use crate::scid::ShortChannelId;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CycleRecord {
    pub kind: String,
    pub started_at: u64,
    pub duration_us: u64,
    pub policy: String,
    pub config_generation: u64,
    pub dry_run: bool,
    /// The seed the policy was given: with the snapshot, enough to replay the decision.
    pub seed: u64,
    pub applied: u32,
    pub clamped: u32,
    pub suppressed: u32,
    pub unchanged: u32,
    pub failed: u32,
    pub error: Option<String>,
}

/// A proposal and what the host made of it. Proposals the host found already in effect
/// (`unchanged`) are counted on the cycle, not stored one by one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    pub channel: ShortChannelId,
    pub proposed_ppm: u32,
    pub proposed_base_msat: u64,
    pub final_ppm: Option<u32>,
    pub final_base_msat: Option<u64>,
    pub mode: String,
    pub verdict: &'static str,
    pub reason: String,
}

impl Store {
    /// Stores a cycle and its decisions atomically; returns the cycle id.
    pub fn record_cycle(
        &mut self,
        cycle: &CycleRecord,
        decisions: &[DecisionRecord],
    ) -> StoreResult<u64> {
        self.atomically(|tx| {
            tx.prepare_cached(
                "INSERT INTO cycles (kind, started_at, duration_us, policy, config_generation,
                     dry_run, seed, applied, clamped, suppressed, unchanged, failed, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                cycle.kind,
                to_sql_u64(cycle.started_at),
                to_sql_u64(cycle.duration_us),
                cycle.policy,
                to_sql_u64(cycle.config_generation),
                cycle.dry_run,
                // Stored as its bit pattern: SQLite has no u64.
                cycle.seed as i64,
                cycle.applied,
                cycle.clamped,
                cycle.suppressed,
                cycle.unchanged,
                cycle.failed,
                cycle.error,
            ])?;
            let id = tx.last_insert_rowid();
            let mut insert = tx.prepare_cached(
                "INSERT INTO fee_decisions (cycle_id, scid, proposed_ppm, proposed_base,
                     final_ppm, final_base, mode, verdict, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for decision in decisions {
                insert.execute(params![
                    id,
                    to_sql_u64(decision.channel.as_u64()),
                    decision.proposed_ppm,
                    to_sql_u64(decision.proposed_base_msat),
                    decision.final_ppm,
                    decision.final_base_msat.map(to_sql_u64),
                    decision.mode,
                    decision.verdict,
                    decision.reason,
                ])?;
            }
            Ok(id as u64)
        })
    }

    /// The latest cycle of `kind` that ran without error: (id, record).
    pub fn last_successful_cycle(&self, kind: &str) -> StoreResult<Option<(u64, CycleRecord)>> {
        self.conn
            .prepare_cached(
                "SELECT id, started_at, duration_us, policy, config_generation, dry_run, seed,
                        applied, clamped, suppressed, unchanged, failed
                 FROM cycles WHERE kind = ?1 AND error IS NULL ORDER BY id DESC LIMIT 1",
            )?
            .query_row([kind], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    CycleRecord {
                        kind: kind.to_owned(),
                        started_at: row.get::<_, i64>(1)? as u64,
                        duration_us: row.get::<_, i64>(2)? as u64,
                        policy: row.get(3)?,
                        config_generation: row.get::<_, i64>(4)? as u64,
                        dry_run: row.get(5)?,
                        seed: row.get::<_, i64>(6)? as u64,
                        applied: row.get(7)?,
                        clamped: row.get(8)?,
                        suppressed: row.get(9)?,
                        unchanged: row.get(10)?,
                        failed: row.get(11)?,
                        error: None,
                    },
                ))
            })
            .optional()?
            .map(|(id, record)| Ok((from_sql_u64(id)?, record)))
            .transpose()
    }

    /// Count of decisions with `verdict` (reports and tests).
    pub fn decision_count(&self, verdict: &str) -> StoreResult<u64> {
        let count: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM fee_decisions WHERE verdict = ?1",
            [verdict],
            |row| row.get(0),
        )?;
        Ok(count as u64)
    }
}
