//! Each policy slot's layout, so that a restart restores exactly what served before it: the
//! recorded version that is active, the last-known-good one, what is quarantined (and whether
//! the slot holds), its failure count and last error.

use super::{PolicyVersion, Store, StoreError, StoreResult, from_sql_u64, to_sql_u64};
use crate::model::PolicyKind;
use rusqlite::{OptionalExtension, params};

/// A slot's layout in recorded versions (ids of `policy_versions` rows).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotRecord {
    pub active: Option<u64>,
    pub last_known_good: Option<u64>,
    /// The quarantined version's label (`name@version (sha256 prefix)`), and its record if any.
    pub quarantined: Option<String>,
    pub quarantined_version: Option<u64>,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
}

/// A stored slot layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSlot {
    pub kind: PolicyKind,
    pub slot: String,
    pub record: SlotRecord,
}

fn to_sql_id(id: Option<u64>) -> Option<i64> {
    id.map(to_sql_u64)
}

fn from_sql_id(id: Option<i64>) -> StoreResult<Option<u64>> {
    id.map(from_sql_u64).transpose()
}

impl Store {
    /// Writes a slot's layout (replacing the previous one).
    pub fn save_slot_record(
        &mut self,
        kind: PolicyKind,
        slot: &str,
        record: &SlotRecord,
    ) -> StoreResult<()> {
        self.conn.execute(
            "INSERT INTO policy_slots (kind, slot, active, last_known_good, quarantined,
                 quarantined_version, consecutive_failures, last_error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (kind, slot) DO UPDATE SET active = excluded.active,
                 last_known_good = excluded.last_known_good, quarantined = excluded.quarantined,
                 quarantined_version = excluded.quarantined_version,
                 consecutive_failures = excluded.consecutive_failures,
                 last_error = excluded.last_error",
            params![
                kind.as_str(),
                slot,
                to_sql_id(record.active),
                to_sql_id(record.last_known_good),
                record.quarantined,
                to_sql_id(record.quarantined_version),
                record.consecutive_failures,
                record.last_error,
            ],
        )?;
        Ok(())
    }

    /// Every stored slot layout, by kind and slot name.
    pub fn slot_records(&self) -> StoreResult<Vec<StoredSlot>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT kind, slot, active, last_known_good, quarantined, quarantined_version,
                    consecutive_failures, last_error
             FROM policy_slots ORDER BY kind, slot",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<i64>>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, Option<i64>>(5)?,
                row.get::<_, u32>(6)?,
                row.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut slots = Vec::new();
        for row in rows {
            let (kind, slot, active, good, quarantined, quarantined_version, failures, error) =
                row?;
            let kind = kind
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("policy slot {slot:?}: {e}")))?;
            slots.push(StoredSlot {
                kind,
                slot,
                record: SlotRecord {
                    active: from_sql_id(active)?,
                    last_known_good: from_sql_id(good)?,
                    quarantined,
                    quarantined_version: from_sql_id(quarantined_version)?,
                    consecutive_failures: failures,
                    last_error: error,
                },
            });
        }
        Ok(slots)
    }

    /// One recorded policy load, by id.
    pub fn policy_version(&self, id: u64) -> StoreResult<Option<PolicyVersion>> {
        Ok(self
            .conn
            .query_row(
                "SELECT name, version, sha256, source, params, loaded_at FROM policy_versions
                 WHERE id = ?1",
                [to_sql_u64(id)],
                PolicyVersion::from_row,
            )
            .optional()?)
    }

    /// Forgets a removed slot: its layout, its policy state and the assignments to it (those
    /// channels and peers return to the default slot). Returns the scopes unassigned.
    pub fn forget_slot(&mut self, kind: PolicyKind, slot: &str) -> StoreResult<Vec<String>> {
        self.atomically(|tx| {
            let mut assigned = tx.prepare_cached(
                "SELECT scope FROM policy_assignments WHERE kind = ?1 AND slot = ?2 ORDER BY scope",
            )?;
            let scopes = assigned
                .query_map(params![kind.as_str(), slot], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            for table in ["policy_assignments", "policy_state", "policy_slots"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE kind = ?1 AND slot = ?2"),
                    params![kind.as_str(), slot],
                )?;
            }
            Ok(scopes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_version(store: &mut Store, slot: &str, name: &str) -> u64 {
        store
            .record_policy_version(
                PolicyKind::Fee,
                slot,
                name,
                "1.0.0",
                "ab",
                "embedded:x",
                "{}",
                1,
            )
            .unwrap()
    }

    #[test]
    fn layouts_round_trip_and_reference_versions() {
        let mut store = Store::open_in_memory().unwrap();
        let first = record_version(&mut store, "main", "first");
        let second = record_version(&mut store, "main", "second");
        let record = SlotRecord {
            active: Some(first),
            last_known_good: None,
            quarantined: Some("second@1.0.0 (ab)".into()),
            quarantined_version: Some(second),
            consecutive_failures: 2,
            last_error: Some("policy trapped".into()),
        };
        store
            .save_slot_record(PolicyKind::Fee, "main", &record)
            .unwrap();
        let stored = store.slot_records().unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].record, record);
        assert_eq!(store.policy_version(first).unwrap().unwrap().name, "first");
        assert_eq!(store.policy_version(999).unwrap(), None);
        let holding = SlotRecord {
            active: None,
            ..record
        };
        store
            .save_slot_record(PolicyKind::Fee, "main", &holding)
            .unwrap();
        assert_eq!(store.slot_records().unwrap()[0].record, holding);
    }

    #[test]
    fn forgetting_a_slot_drops_its_assignments_state_and_layout() {
        let mut store = Store::open_in_memory().unwrap();
        let id = record_version(&mut store, "premium", "p");
        let record = SlotRecord {
            active: Some(id),
            ..SlotRecord::default()
        };
        store
            .save_slot_record(PolicyKind::Fee, "premium", &record)
            .unwrap();
        store
            .set_policy_assignment(PolicyKind::Fee, "1x1x1", Some("premium"))
            .unwrap();
        store
            .set_policy_assignment(PolicyKind::Fee, "2x2x2", Some("other"))
            .unwrap();
        let unassigned = store.forget_slot(PolicyKind::Fee, "premium").unwrap();
        assert_eq!(unassigned, vec!["1x1x1".to_owned()]);
        assert!(store.slot_records().unwrap().is_empty());
        assert_eq!(
            store.policy_assignments(PolicyKind::Fee).unwrap(),
            vec![("2x2x2".to_owned(), "other".to_owned())]
        );
    }
}
