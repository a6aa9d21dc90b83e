//! Config overrides and the persisted, strictly increasing config generation.

use super::{Store, StoreError, StoreResult, from_sql_u64};
use rusqlite::params;
use std::collections::BTreeMap;

/// The overrides as stored: key → JSON text, and the generation they belong to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredConfig {
    pub generation: u64,
    pub overrides: BTreeMap<String, String>,
}

impl Store {
    pub fn stored_config(&self) -> StoreResult<StoredConfig> {
        let generation: i64 = self.conn.query_row(
            "SELECT generation FROM config_generation WHERE id = 1",
            [],
            |row| row.get(0),
        )?;
        let mut statement = self
            .conn
            .prepare_cached("SELECT key, value FROM config_overrides")?;
        let overrides = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(StoredConfig {
            generation: from_sql_u64(generation)?,
            overrides,
        })
    }

    /// Sets (`Some`) or removes (`None`) overrides and bumps the generation, in one
    /// transaction. Returns the new generation.
    pub fn write_config(&mut self, changes: &[(String, Option<String>)]) -> StoreResult<u64> {
        self.write_config_verified(changes, |_| true)
            .map(|stored| stored.generation)
    }

    /// Like `write_config`, but reads the result back inside the transaction and commits only
    /// if `verify` accepts it; otherwise nothing is written and `StoreError::Corrupt` says so.
    pub fn write_config_verified(
        &mut self,
        changes: &[(String, Option<String>)],
        verify: impl FnOnce(&StoredConfig) -> bool,
    ) -> StoreResult<StoredConfig> {
        self.atomically(|tx| {
            tx.execute(
                "UPDATE config_generation SET generation = generation + 1 WHERE id = 1",
                [],
            )?;
            let generation: i64 = tx.query_row(
                "SELECT generation FROM config_generation WHERE id = 1",
                [],
                |row| row.get(0),
            )?;
            for (key, value) in changes {
                match value {
                    Some(value) => tx.execute(
                        "INSERT INTO config_overrides (key, value, generation) VALUES (?1, ?2, ?3)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                             generation = excluded.generation",
                        params![key, value, generation],
                    )?,
                    None => tx.execute("DELETE FROM config_overrides WHERE key = ?1", [key])?,
                };
            }
            let overrides = tx
                .prepare("SELECT key, value FROM config_overrides")?
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let stored = StoredConfig {
                generation: from_sql_u64(generation)?,
                overrides,
            };
            if !verify(&stored) {
                return Err(StoreError::Corrupt(
                    "config read back differs from what was written; change rolled back".into(),
                ));
            }
            Ok(stored)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_increases_on_every_write_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revops.sqlite3");
        {
            let mut store = Store::open(&path, super::super::Durability::Normal).unwrap();
            assert_eq!(store.stored_config().unwrap().generation, 0);
            let g1 = store
                .write_config(&[("fee.min-ppm".into(), Some("5".into()))])
                .unwrap();
            let g2 = store.write_config(&[("fee.min-ppm".into(), None)]).unwrap();
            assert!(g2 > g1 && g1 > 0);
        }
        let store = Store::open(&path, super::super::Durability::Normal).unwrap();
        let config = store.stored_config().unwrap();
        assert_eq!(config.generation, 2);
        assert!(config.overrides.is_empty());
    }
}
