//! SQLite persistence: the only code that runs SQL.
//!
//! One `Store` per data directory, owned by one writer (the plugin wraps it in a mutex). WAL
//! journal, versioned migrations applied at open, foreign keys on. Each concern has its own
//! file adding methods to `Store`: forwards ledger, fee state, cycles and decisions, policy
//! state and versions, config overrides, action intents, feerate history.

mod activity;
mod config;
mod cycles;
mod defibrillator;
mod fee_state;
mod feerates;
mod forwards;
mod intents;
mod lds;
mod migrations;
mod payout_runs;
mod policy_slots;
mod policy_state;
mod rebalances;
mod shadow;

pub use activity::ChannelActivity;
pub use config::StoredConfig;
pub use cycles::{CycleRecord, DecisionRecord};
pub use defibrillator::ProbeRecord;
pub use fee_state::{BroadcastEntry, BudgetUse, FeeRecord};
pub use forwards::{ForwardIndex, ForwardTotals};
pub use intents::{Intent, IntentStatus};
pub use lds::{Investor, LdsLedger};
pub use payout_runs::{LineStatus, PayoutLine, PayoutRun, RunStatus};
pub use policy_slots::{SlotRecord, StoredSlot};
pub use policy_state::PolicyVersion;
pub use rebalances::RebalanceRecord;
pub use shadow::{ShadowSummary, StoredDifference};

use rusqlite::Connection;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "database at schema version {found} is newer than this revops ({supported}); upgrade revops"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How hard to insist on durability. The simulator trades it for speed; the plugin never does.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: committed transactions survive a crash of revops
    /// (and of the machine, but for the last few).
    Normal,
    /// `synchronous=OFF`: for throwaway simulation databases.
    Scratch,
}

pub struct Store {
    conn: Connection,
}

/// Prepared statements kept per connection (`prepare_cached`).
const STATEMENT_CACHE: usize = 128;

impl Store {
    pub fn open(path: &Path, durability: Durability) -> StoreResult<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn, durability)
    }

    pub fn open_in_memory() -> StoreResult<Self> {
        Self::init(Connection::open_in_memory()?, Durability::Scratch)
    }

    fn init(conn: Connection, durability: Durability) -> StoreResult<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // A fee cycle runs some 30 distinct statements; rusqlite's default cache of 16 would
        // make every cycle parse most of them again.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let synchronous = match durability {
            Durability::Normal => "NORMAL",
            Durability::Scratch => "OFF",
        };
        conn.pragma_update(None, "synchronous", synchronous)?;
        let mut store = Self { conn };
        migrations::apply(&mut store.conn)?;
        Ok(store)
    }

    /// Moves the write-ahead log into the database file (at shutdown: a tidy directory).
    pub fn checkpoint(&self) -> StoreResult<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Runs `f` in one transaction: all of its writes land, or none.
    pub fn atomically<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let tx = self.conn.transaction()?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

/// SQLite stores integers as i64; our amounts are u64. Values above i64::MAX cannot be real
/// msat amounts (that is 92 million BTC), so they are stored saturated.
fn to_sql_u64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn from_sql_u64(value: i64) -> StoreResult<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative amount {value}")))
}
