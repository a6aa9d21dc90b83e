//! Action intents: written before the RPC that performs an action, settled after. An intent
//! still pending at start-up is an action whose outcome is unknown and must be reconciled.

use super::{Store, StoreResult, from_sql_u64, to_sql_u64};
use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IntentStatus {
    Pending,
    Done,
    Failed,
}

impl IntentStatus {
    fn as_str(self) -> &'static str {
        match self {
            IntentStatus::Pending => "pending",
            IntentStatus::Done => "done",
            IntentStatus::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Intent {
    pub id: u64,
    pub action: String,
    pub subject: String,
    pub payload: String,
    pub created_at: u64,
}

impl Store {
    pub fn begin_intent(
        &mut self,
        action: &str,
        subject: &str,
        payload: &str,
        at: u64,
    ) -> StoreResult<u64> {
        insert_intent(&self.conn, action, subject, payload, at)
    }

    pub fn settle_intent(
        &mut self,
        id: u64,
        status: IntentStatus,
        outcome: &str,
        at: u64,
    ) -> StoreResult<()> {
        update_intent(&self.conn, id, status, outcome, at)
    }

    pub fn pending_intents(&self) -> StoreResult<Vec<Intent>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, action, subject, payload, created_at FROM intents
             WHERE status = 'pending' ORDER BY id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })?;
        let mut intents = Vec::new();
        for row in rows {
            let (id, action, subject, payload, created_at) = row?;
            intents.push(Intent {
                id: from_sql_u64(id)?,
                action,
                subject,
                payload,
                created_at: from_sql_u64(created_at)?,
            });
        }
        Ok(intents)
    }
}

/// `begin_intent` on any connection (a transaction of another store file included).
pub(super) fn insert_intent(
    conn: &Connection,
    action: &str,
    subject: &str,
    payload: &str,
    at: u64,
) -> StoreResult<u64> {
    conn.prepare_cached(
        "INSERT INTO intents (action, subject, payload, created_at, status)
         VALUES (?1, ?2, ?3, ?4, 'pending')",
    )?
    .execute(params![action, subject, payload, to_sql_u64(at)])?;
    from_sql_u64(conn.last_insert_rowid())
}

/// `settle_intent` on any connection.
pub(super) fn update_intent(
    conn: &Connection,
    id: u64,
    status: IntentStatus,
    outcome: &str,
    at: u64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE intents SET status = ?2, outcome = ?3, settled_at = ?4 WHERE id = ?1",
    )?
    .execute(params![
        to_sql_u64(id),
        status.as_str(),
        outcome,
        to_sql_u64(at)
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_until_settled() {
        let mut store = Store::open_in_memory().unwrap();
        let id = store.begin_intent("setchannel", "1x1x1", "{}", 10).unwrap();
        assert_eq!(store.pending_intents().unwrap().len(), 1);
        store
            .settle_intent(id, IntentStatus::Done, "ok", 11)
            .unwrap();
        assert!(store.pending_intents().unwrap().is_empty());
    }
}
