//! On-chain feerate history (the `opening` estimate), for the Vegas reflex's moving average.

use super::{Store, StoreResult, from_sql_u64, to_sql_u64};
use crate::model::FeerateSample;
use rusqlite::params;

impl Store {
    pub fn record_feerate(&mut self, sample: FeerateSample) -> StoreResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO feerates (at, opening_perkb) VALUES (?1, ?2)
                 ON CONFLICT (at) DO UPDATE SET opening_perkb = excluded.opening_perkb",
            )?
            .execute(params![to_sql_u64(sample.at_secs), sample.opening_perkb])?;
        Ok(())
    }

    /// Samples at or after `since`, oldest first.
    pub fn feerates_since(&self, since: u64) -> StoreResult<Vec<FeerateSample>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT at, opening_perkb FROM feerates WHERE at >= ?1 ORDER BY at")?;
        let rows = statement.query_map([to_sql_u64(since)], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, u32>(1)?))
        })?;
        let mut samples = Vec::new();
        for row in rows {
            let (at, opening_perkb) = row?;
            samples.push(FeerateSample {
                at_secs: from_sql_u64(at)?,
                opening_perkb,
            });
        }
        Ok(samples)
    }

    /// Drops samples older than `before` (the reflex needs a day or two of history).
    pub fn prune_feerates(&mut self, before: u64) -> StoreResult<()> {
        self.conn
            .prepare_cached("DELETE FROM feerates WHERE at < ?1")?
            .execute([to_sql_u64(before)])?;
        Ok(())
    }
}
