//! Schema migrations, applied in order at open; `PRAGMA user_version` records how far.
//! Never edit a released migration: append a new one.

use super::{StoreError, StoreResult};
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: the decision engine's tables.
    "
    CREATE TABLE forwards (
        created_index INTEGER PRIMARY KEY,
        updated_index INTEGER NOT NULL,
        in_channel    INTEGER NOT NULL,
        out_channel   INTEGER,
        in_msat       INTEGER NOT NULL,
        out_msat      INTEGER,
        fee_msat      INTEGER,
        status        TEXT NOT NULL,
        received_ms   INTEGER NOT NULL,
        resolved_ms   INTEGER
    );
    CREATE INDEX forwards_by_resolved ON forwards (resolved_ms);
    CREATE TABLE cursors (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    CREATE TABLE fee_state (
        scid              INTEGER PRIMARY KEY,
        broadcast_ppm     INTEGER NOT NULL,
        broadcast_base    INTEGER NOT NULL,
        broadcast_at      INTEGER,
        mode              TEXT NOT NULL,
        reason            TEXT NOT NULL
    );
    CREATE TABLE fee_broadcasts (
        id        INTEGER PRIMARY KEY,
        scid      INTEGER NOT NULL,
        at        INTEGER NOT NULL,
        fee_ppm   INTEGER NOT NULL,
        base_msat INTEGER NOT NULL,
        mode      TEXT NOT NULL,
        reason    TEXT NOT NULL
    );
    CREATE INDEX fee_broadcasts_by_channel ON fee_broadcasts (scid, at);
    CREATE INDEX fee_broadcasts_by_time ON fee_broadcasts (at);
    CREATE TABLE cycles (
        id                INTEGER PRIMARY KEY,
        kind              TEXT NOT NULL,
        started_at        INTEGER NOT NULL,
        duration_us       INTEGER NOT NULL,
        policy            TEXT NOT NULL,
        config_generation INTEGER NOT NULL,
        dry_run           INTEGER NOT NULL,
        seed              INTEGER NOT NULL,
        applied           INTEGER NOT NULL,
        clamped           INTEGER NOT NULL,
        suppressed        INTEGER NOT NULL,
        unchanged         INTEGER NOT NULL,
        failed            INTEGER NOT NULL,
        error             TEXT
    );
    CREATE TABLE fee_decisions (
        cycle_id      INTEGER NOT NULL REFERENCES cycles (id),
        scid          INTEGER NOT NULL,
        proposed_ppm  INTEGER NOT NULL,
        proposed_base INTEGER NOT NULL,
        final_ppm     INTEGER,
        final_base    INTEGER,
        mode          TEXT NOT NULL,
        verdict       TEXT NOT NULL,
        reason        TEXT NOT NULL
    );
    CREATE INDEX fee_decisions_by_channel ON fee_decisions (scid, cycle_id);
    CREATE TABLE policy_state (
        kind  TEXT NOT NULL,
        slot  TEXT NOT NULL,
        scope INTEGER NOT NULL,
        blob  BLOB NOT NULL,
        PRIMARY KEY (kind, slot, scope)
    );
    CREATE TABLE policy_versions (
        id        INTEGER PRIMARY KEY,
        kind      TEXT NOT NULL,
        slot      TEXT NOT NULL,
        name      TEXT NOT NULL,
        version   TEXT NOT NULL,
        sha256    TEXT NOT NULL,
        source    TEXT NOT NULL,
        params    TEXT NOT NULL,
        loaded_at INTEGER NOT NULL
    );
    CREATE TABLE config_overrides (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        generation INTEGER NOT NULL
    );
    CREATE TABLE config_generation (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        generation INTEGER NOT NULL
    );
    INSERT INTO config_generation (id, generation) VALUES (1, 0);
    CREATE TABLE intents (
        id         INTEGER PRIMARY KEY,
        action     TEXT NOT NULL,
        subject    TEXT NOT NULL,
        payload    TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status     TEXT NOT NULL,
        outcome    TEXT,
        settled_at INTEGER
    );
    CREATE INDEX intents_pending ON intents (status) WHERE status = 'pending';
    CREATE TABLE feerates (
        at            INTEGER PRIMARY KEY,
        opening_perkb INTEGER NOT NULL
    );
    ",
    // 2: shadow mode.
    "
    CREATE TABLE shadow_cycles (
        cycle_id          INTEGER PRIMARY KEY REFERENCES cycles (id),
        policy            TEXT NOT NULL,
        compared          INTEGER NOT NULL,
        differing         INTEGER NOT NULL,
        active_broadcasts INTEGER NOT NULL,
        shadow_broadcasts INTEGER NOT NULL,
        error             TEXT
    );
    CREATE INDEX shadow_cycles_by_policy ON shadow_cycles (policy);
    CREATE TABLE shadow_differences (
        cycle_id       INTEGER NOT NULL REFERENCES shadow_cycles (cycle_id),
        scid           INTEGER NOT NULL,
        active_ppm     INTEGER NOT NULL,
        active_verdict TEXT NOT NULL,
        shadow_ppm     INTEGER NOT NULL,
        shadow_verdict TEXT NOT NULL
    );
    CREATE INDEX shadow_differences_by_cycle ON shadow_differences (cycle_id);
    ",
    // 3: policies assigned to channels and peers.
    "
    CREATE TABLE policy_assignments (
        kind  TEXT NOT NULL,
        scope TEXT NOT NULL,
        slot  TEXT NOT NULL,
        PRIMARY KEY (kind, scope)
    );
    ",
    // 4: the rebalance ledger.
    "
    CREATE TABLE rebalances (
        id           INTEGER PRIMARY KEY,
        source       INTEGER NOT NULL,
        destination  INTEGER NOT NULL,
        amount_msat  INTEGER NOT NULL,
        fee_msat     INTEGER NOT NULL,
        completed    INTEGER NOT NULL,
        payment_hash TEXT NOT NULL,
        at           INTEGER NOT NULL
    );
    CREATE INDEX rebalances_by_time ON rebalances (at);
    ",
    // 5: rebalance budget reservations (held while a payment is under way).
    "
    CREATE TABLE rebalance_reservations (
        id           INTEGER PRIMARY KEY,
        max_fee_msat INTEGER NOT NULL,
        at           INTEGER NOT NULL
    );
    ",
    // 6: the defibrillator: diagnostic rebalances and zero-fee probes.
    "
    ALTER TABLE rebalances ADD COLUMN kind TEXT NOT NULL DEFAULT 'normal';
    CREATE INDEX rebalances_by_destination ON rebalances (destination, at);
    CREATE TABLE probes (
        id         INTEGER PRIMARY KEY,
        channel    INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        until      INTEGER NOT NULL,
        ended_at   INTEGER,
        end_reason TEXT
    );
    CREATE INDEX probes_open ON probes (channel) WHERE ended_at IS NULL;
    ",
    // 7: the Liquidity Dividend System: investors, balance snapshots, payout runs and lines.
    "
    CREATE TABLE lds_investors (
        id          TEXT PRIMARY KEY,
        wallet_id   TEXT NOT NULL,
        invoice_key TEXT NOT NULL,
        tier        TEXT NOT NULL,
        lock_expiry INTEGER,
        joined_at   INTEGER NOT NULL,
        removed_at  INTEGER
    );
    CREATE UNIQUE INDEX lds_investors_by_wallet ON lds_investors (wallet_id)
        WHERE removed_at IS NULL;
    CREATE TABLE lds_snapshots (
        at           INTEGER NOT NULL,
        investor_id  TEXT NOT NULL,
        balance_msat INTEGER NOT NULL,
        PRIMARY KEY (at, investor_id)
    );
    CREATE TABLE lds_ledger (
        id                  INTEGER PRIMARY KEY CHECK (id = 1),
        epoch_start         INTEGER NOT NULL,
        high_water_msat     INTEGER NOT NULL,
        carried_msat        INTEGER NOT NULL
    );
    CREATE TABLE lds_solvency_checks (
        id                INTEGER PRIMARY KEY,
        at                INTEGER NOT NULL,
        period            TEXT,
        liabilities_msat  INTEGER NOT NULL,
        physical_msat     INTEGER NOT NULL,
        limit_msat        INTEGER NOT NULL,
        solvent           INTEGER NOT NULL,
        reason            TEXT NOT NULL
    );
    CREATE TABLE lds_payout_runs (
        period              TEXT PRIMARY KEY,
        created_at          INTEGER NOT NULL,
        status              TEXT NOT NULL,
        policy              TEXT NOT NULL,
        cumulative_net_msat INTEGER NOT NULL,
        high_water_msat     INTEGER NOT NULL,
        distributable_msat  INTEGER NOT NULL,
        withheld_msat       INTEGER NOT NULL,
        carried_msat        INTEGER NOT NULL,
        finished_at         INTEGER
    );
    CREATE TABLE lds_payout_lines (
        period       TEXT NOT NULL REFERENCES lds_payout_runs (period),
        investor_id  TEXT NOT NULL,
        amount_msat  INTEGER NOT NULL,
        external_id  TEXT NOT NULL UNIQUE,
        status       TEXT NOT NULL,
        payment_hash TEXT,
        bolt11       TEXT,
        note         TEXT NOT NULL,
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (period, investor_id)
    );
    ",
    // fix/rebalance: a budget reservation belongs to its payment's intent (released when the
    // payment resolves, never before); ledger rows say whether anything was sent ("no route"
    // counts for the backoff) and why an attempt failed.
    "
    ALTER TABLE rebalance_reservations ADD COLUMN intent_id INTEGER;
    ALTER TABLE rebalances ADD COLUMN sent INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE rebalances ADD COLUMN failure TEXT;
    ",
];

pub(super) fn apply(conn: &mut Connection) -> StoreResult<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if current > supported {
        return Err(StoreError::TooNew {
            found: current,
            supported,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "database migrated");
    }
    Ok(())
}
