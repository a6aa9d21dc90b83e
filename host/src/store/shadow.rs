//! Shadow-mode comparisons: per cycle, and the differing decisions.

use super::{Store, StoreResult, from_sql_u64, to_sql_u64};
use crate::{cycle::ShadowReport, scid::ShortChannelId};
use rusqlite::params;
use serde::Serialize;

/// Totals over every cycle a shadow policy (by label) took part in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShadowSummary {
    pub policy: String,
    pub cycles: u64,
    pub compared: u64,
    pub differing: u64,
    pub active_broadcasts: u64,
    pub shadow_broadcasts: u64,
    pub failed_cycles: u64,
    pub latest_differences: Vec<StoredDifference>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredDifference {
    pub cycle_id: u64,
    pub channel: ShortChannelId,
    pub active_ppm: u32,
    pub active_verdict: String,
    pub shadow_ppm: u32,
    pub shadow_verdict: String,
}

impl Store {
    pub fn record_shadow(&mut self, cycle_id: u64, report: &ShadowReport) -> StoreResult<()> {
        self.atomically(|tx| {
            tx.prepare_cached(
                "INSERT INTO shadow_cycles (cycle_id, policy, compared, differing,
                     active_broadcasts, shadow_broadcasts, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                to_sql_u64(cycle_id),
                report.policy,
                report.compared as i64,
                report.differing.len() as i64,
                report.active_broadcasts,
                report.shadow_broadcasts,
                report.error,
            ])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO shadow_differences (cycle_id, scid, active_ppm, active_verdict,
                     shadow_ppm, shadow_verdict)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for diff in &report.differing {
                insert.execute(params![
                    to_sql_u64(cycle_id),
                    to_sql_u64(diff.channel.as_u64()),
                    diff.active.fee_ppm,
                    diff.active.verdict,
                    diff.shadow.fee_ppm,
                    diff.shadow.verdict,
                ])?;
            }
            Ok(())
        })
    }

    /// The comparison so far for the shadow policy `label`, with its `limit` latest differences.
    pub fn shadow_summary(&self, label: &str, limit: u32) -> StoreResult<ShadowSummary> {
        let mut summary = self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(compared), 0), COALESCE(SUM(differing), 0),
                    COALESCE(SUM(active_broadcasts), 0), COALESCE(SUM(shadow_broadcasts), 0),
                    COUNT(error)
             FROM shadow_cycles WHERE policy = ?1",
            [label],
            |row| {
                Ok(ShadowSummary {
                    policy: label.to_owned(),
                    cycles: row.get::<_, i64>(0)? as u64,
                    compared: row.get::<_, i64>(1)? as u64,
                    differing: row.get::<_, i64>(2)? as u64,
                    active_broadcasts: row.get::<_, i64>(3)? as u64,
                    shadow_broadcasts: row.get::<_, i64>(4)? as u64,
                    failed_cycles: row.get::<_, i64>(5)? as u64,
                    latest_differences: Vec::new(),
                })
            },
        )?;
        let mut statement = self.conn.prepare_cached(
            "SELECT d.cycle_id, d.scid, d.active_ppm, d.active_verdict, d.shadow_ppm, d.shadow_verdict
             FROM shadow_differences d JOIN shadow_cycles c ON c.cycle_id = d.cycle_id
             WHERE c.policy = ?1 ORDER BY d.cycle_id DESC, d.scid LIMIT ?2",
        )?;
        let rows = statement.query_map(params![label, limit], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, u32>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, u32>(4)?,
                row.get::<_, String>(5)?,
            ))
        })?;
        for row in rows {
            let (cycle_id, scid, active_ppm, active_verdict, shadow_ppm, shadow_verdict) = row?;
            summary.latest_differences.push(StoredDifference {
                cycle_id: from_sql_u64(cycle_id)?,
                channel: ShortChannelId::from_u64(from_sql_u64(scid)?),
                active_ppm,
                active_verdict,
                shadow_ppm,
                shadow_verdict,
            });
        }
        Ok(summary)
    }
}
