"""Database migrations of the LDS Vault extension.

LNbits runs every coroutine named ``mNNN_*`` in name order, once, and records the
version in core's ``dbversions`` table under the extension id.
"""


async def m001_create_locks(db):
    """One row per wallet that is or was locked.

    A wallet is locked while ``locked`` is true and ``now < lock_expiry``
    (unix seconds), so a lock lifts itself at expiry without any job.
    ``lock_expiry`` and ``updated_at`` are BIGINT so Postgres does not stop at 2038.
    """
    await db.execute(
        f"""
        CREATE TABLE lds_vault.locks (
            wallet_id TEXT PRIMARY KEY,
            locked BOOLEAN NOT NULL DEFAULT FALSE,
            lock_expiry {db.big_int} NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            updated_at {db.big_int} NOT NULL
        );
        """
    )
