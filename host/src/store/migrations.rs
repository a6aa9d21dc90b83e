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
    // 8: LDS per-investor carry (issue 12, payouts): what a run carries is owed to the investor it
    // was computed for. Lines record their carry in and out; the deferred lines of the latest
    // run become their investors' carry; the rest of the old total (sub-sat remainders no
    // line recorded) stays in the ledger as unattributed, shared once more by the next run.
    "
    CREATE TABLE lds_carry (
        investor_id  TEXT PRIMARY KEY,
        carried_msat INTEGER NOT NULL
    );
    ALTER TABLE lds_payout_lines ADD COLUMN carried_in_msat INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE lds_payout_lines ADD COLUMN carried_out_msat INTEGER NOT NULL DEFAULT 0;
    UPDATE lds_payout_lines SET carried_out_msat = amount_msat WHERE status = 'deferred';
    INSERT INTO lds_carry (investor_id, carried_msat)
        SELECT investor_id, amount_msat FROM lds_payout_lines
        WHERE status = 'deferred' AND period =
            (SELECT period FROM lds_payout_runs ORDER BY created_at DESC, period DESC LIMIT 1);
    UPDATE lds_ledger SET carried_msat =
        MAX(0, carried_msat - (SELECT COALESCE(SUM(carried_msat), 0) FROM lds_carry));
    ",
    // 9: each policy slot's layout (which recorded version serves, which is the
    // last-known-good, what is quarantined), so a restart restores exactly that. Slots loaded
    // before this migration start from their latest recorded version, as they used to.
    "
    CREATE TABLE policy_slots (
        kind                 TEXT NOT NULL,
        slot                 TEXT NOT NULL,
        active               INTEGER REFERENCES policy_versions (id),
        last_known_good      INTEGER REFERENCES policy_versions (id),
        quarantined          TEXT,
        quarantined_version  INTEGER REFERENCES policy_versions (id),
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        last_error           TEXT,
        PRIMARY KEY (kind, slot)
    );
    INSERT INTO policy_slots (kind, slot, active)
        SELECT kind, slot, MAX(id) FROM policy_versions GROUP BY kind, slot;
    ",
    // 10: a budget reservation belongs to its payment's intent (released when the
    // payment resolves, never before); ledger rows say whether anything was sent ("no route"
    // counts for the backoff) and why an attempt failed.
    "
    ALTER TABLE rebalance_reservations ADD COLUMN intent_id INTEGER;
    ALTER TABLE rebalances ADD COLUMN sent INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE rebalances ADD COLUMN failure TEXT;
    ",
    // 11: a broadcast that left a protective mode (congestion, probe, fire sale) for normal
    // pricing is marked: such exits have their own daily allowance.
    "
    ALTER TABLE fee_broadcasts ADD COLUMN mode_exit INTEGER NOT NULL DEFAULT 0;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-investor carry migration: the latest run's deferred lines become their
    /// investors' carry, and only the rest of the old total stays unattributed.
    #[test]
    fn the_carry_migration_attributes_the_latest_deferred_lines() {
        let mut conn = Connection::open_in_memory().unwrap();
        let carry = MIGRATIONS
            .iter()
            .position(|sql| sql.contains("CREATE TABLE lds_carry"))
            .unwrap();
        for sql in &MIGRATIONS[..carry] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO lds_ledger VALUES (1, 0, 5000, 1500);
             INSERT INTO lds_payout_runs VALUES
                 ('2026-09', 5, 'done', 'p', 1000, 0, 1000, 100, 40, 6),
                 ('2026-10', 10, 'done', 'p', 5000, 1000, 4000, 400, 1500, 20);
             INSERT INTO lds_payout_lines
                 (period, investor_id, amount_msat, external_id, status, note, updated_at)
             VALUES ('2026-09', 'bob', 40, 'x-9b', 'deferred', '', 5),
                    ('2026-10', 'alice', 1200, 'x-a', 'deferred', '', 10),
                    ('2026-10', 'bob', 3000, 'x-b', 'paid', '', 10);",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(MIGRATIONS[carry]).unwrap();
        tx.commit().unwrap();
        let owed: Vec<(String, i64)> = conn
            .prepare("SELECT investor_id, carried_msat FROM lds_carry ORDER BY investor_id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(owed, [("alice".to_owned(), 1200)]);
        let unattributed: i64 = conn
            .query_row("SELECT carried_msat FROM lds_ledger", [], |row| row.get(0))
            .unwrap();
        assert_eq!(unattributed, 300);
        let line_carry: i64 = conn
            .query_row(
                "SELECT carried_out_msat FROM lds_payout_lines WHERE external_id = 'x-a'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(line_carry, 1200);
    }
}
