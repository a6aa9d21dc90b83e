//! The bytes each policy slot persists between calls, and the log of loaded versions.

use super::{Store, StoreResult, from_sql_u64, to_sql_u64};
use crate::{
    model::{PolicyKind, PolicyState, StateUpdate},
    scid::ShortChannelId,
};
use rusqlite::params;

/// Scope 0 is the node-level blob; any other scope is a packed short channel id (never 0).
const NODE_SCOPE: i64 = 0;

impl Store {
    pub fn policy_state(&self, kind: PolicyKind, slot: &str) -> StoreResult<PolicyState> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT scope, blob FROM policy_state WHERE kind = ?1 AND slot = ?2")?;
        let rows = statement.query_map(params![kind.as_str(), slot], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut state = PolicyState::default();
        for row in rows {
            let (scope, blob) = row?;
            if scope == NODE_SCOPE {
                state.node = blob;
            } else {
                state
                    .channels
                    .insert(ShortChannelId::from_u64(from_sql_u64(scope)?), blob);
            }
        }
        Ok(state)
    }

    /// Applies what a policy returned: the node blob is replaced, each listed channel's blob is
    /// replaced (an empty blob deletes it).
    pub fn save_policy_state(
        &mut self,
        kind: PolicyKind,
        slot: &str,
        update: &StateUpdate,
    ) -> StoreResult<()> {
        self.atomically(|tx| {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO policy_state (kind, slot, scope, blob) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (kind, slot, scope) DO UPDATE SET blob = excluded.blob",
            )?;
            let mut delete = tx.prepare_cached(
                "DELETE FROM policy_state WHERE kind = ?1 AND slot = ?2 AND scope = ?3",
            )?;
            let entries = std::iter::once((NODE_SCOPE, &update.node)).chain(
                update
                    .channels
                    .iter()
                    .map(|(id, blob)| (to_sql_u64(id.as_u64()), blob)),
            );
            for (scope, blob) in entries {
                if blob.is_empty() {
                    delete.execute(params![kind.as_str(), slot, scope])?;
                } else {
                    upsert.execute(params![kind.as_str(), slot, scope, blob])?;
                }
            }
            Ok(())
        })
    }

    /// Forgets a slot's state (a new policy that cannot read the old one starts fresh).
    pub fn clear_policy_state(&mut self, kind: PolicyKind, slot: &str) -> StoreResult<()> {
        self.conn.execute(
            "DELETE FROM policy_state WHERE kind = ?1 AND slot = ?2",
            params![kind.as_str(), slot],
        )?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments, reason = "one column each")]
    pub fn record_policy_version(
        &mut self,
        kind: PolicyKind,
        slot: &str,
        name: &str,
        version: &str,
        sha256: &str,
        source: &str,
        params: &str,
        loaded_at: u64,
    ) -> StoreResult<u64> {
        self.conn.execute(
            "INSERT INTO policy_versions (kind, slot, name, version, sha256, source, params, loaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![kind.as_str(), slot, name, version, sha256, source, params, to_sql_u64(loaded_at)],
        )?;
        from_sql_u64(self.conn.last_insert_rowid())
    }
}

/// A policy load as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVersion {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub source: String,
    pub params: String,
    pub loaded_at: u64,
}

impl PolicyVersion {
    /// From `SELECT name, version, sha256, source, params, loaded_at`.
    pub(super) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(PolicyVersion {
            name: row.get(0)?,
            version: row.get(1)?,
            sha256: row.get(2)?,
            source: row.get(3)?,
            params: row.get(4)?,
            loaded_at: row.get::<_, i64>(5)?.max(0) as u64,
        })
    }
}

impl Store {
    /// Assigns `scope` (a channel or peer, as text) to `slot`, or removes its assignment.
    pub fn set_policy_assignment(
        &mut self,
        kind: PolicyKind,
        scope: &str,
        slot: Option<&str>,
    ) -> StoreResult<()> {
        match slot {
            Some(slot) => self.conn.execute(
                "INSERT INTO policy_assignments (kind, scope, slot) VALUES (?1, ?2, ?3)
                 ON CONFLICT (kind, scope) DO UPDATE SET slot = excluded.slot",
                params![kind.as_str(), scope, slot],
            )?,
            None => self.conn.execute(
                "DELETE FROM policy_assignments WHERE kind = ?1 AND scope = ?2",
                params![kind.as_str(), scope],
            )?,
        };
        Ok(())
    }

    /// Every `(scope, slot)` assignment of `kind`.
    pub fn policy_assignments(&self, kind: PolicyKind) -> StoreResult<Vec<(String, String)>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT scope, slot FROM policy_assignments WHERE kind = ?1 ORDER BY scope",
        )?;
        let rows = statement.query_map([kind.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_empty_blobs_delete() {
        let mut store = Store::open_in_memory().unwrap();
        let a: ShortChannelId = "1x1x1".parse().unwrap();
        let b: ShortChannelId = "2x2x2".parse().unwrap();
        store
            .save_policy_state(
                PolicyKind::Fee,
                "main",
                &StateUpdate {
                    node: vec![1, 2],
                    channels: vec![(a, vec![3]), (b, vec![4])],
                },
            )
            .unwrap();
        store
            .save_policy_state(
                PolicyKind::Fee,
                "main",
                &StateUpdate {
                    node: vec![9],
                    channels: vec![(a, vec![])],
                },
            )
            .unwrap();
        let state = store.policy_state(PolicyKind::Fee, "main").unwrap();
        assert_eq!(state.node, vec![9]);
        assert_eq!(state.channels.len(), 1);
        assert_eq!(state.channels[&b], vec![4]);
        assert!(
            store
                .policy_state(PolicyKind::Fee, "other")
                .unwrap()
                .node
                .is_empty()
        );
    }
}
