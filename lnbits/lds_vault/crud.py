"""Database access of the LDS Vault extension.

Lock ordering rule (avoid deadlocks): LNbits serialises every ``Database`` with its
own asyncio lock. The payment guard runs while ``pay_invoice`` HOLDS core's
connection and then opens ours, so code here must never wait for core's database
while holding our connection. Handlers therefore look up wallets (core) first and
only then open ``db.connect()``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from lnbits.db import Connection, Database

from .models import Lock

db = Database("ext_lds_vault")


def _row_to_lock(row) -> Lock:
    data = dict(row)
    return Lock(
        wallet_id=data["wallet_id"],
        locked=bool(data["locked"]),
        lock_expiry=int(data["lock_expiry"]),
        reason=data.get("reason") or "",
        updated_at=int(data["updated_at"]),
    )


async def get_lock(wallet_id: str, conn: Connection | None = None) -> Lock | None:
    async with db.reuse_conn(conn) if conn else db.connect() as c:
        row = await c.fetchone(
            "SELECT * FROM lds_vault.locks WHERE wallet_id = :wallet_id",
            {"wallet_id": wallet_id},
        )
    return _row_to_lock(row) if row else None


async def get_locks(active_only: bool = False) -> list[Lock]:
    rows = await db.fetchall("SELECT * FROM lds_vault.locks ORDER BY wallet_id")
    locks = [_row_to_lock(r) for r in rows]
    if active_only:
        now = time.time()
        locks = [lk for lk in locks if lk.is_active(now)]
    return locks


async def get_active_lock(
    wallet_ids: Iterable[str], now: float | None = None
) -> Lock | None:
    """The first lock in force on any of ``wallet_ids`` (or None)."""
    ids = sorted({w for w in wallet_ids if w})
    if not ids:
        return None
    now = time.time() if now is None else now
    params = {f"w{i}": w for i, w in enumerate(ids)}
    placeholders = ", ".join(f":w{i}" for i in range(len(ids)))
    rows = await db.fetchall(
        f"SELECT * FROM lds_vault.locks WHERE wallet_id IN ({placeholders})", params
    )
    for row in rows:
        lock = _row_to_lock(row)
        if lock.is_active(now):
            return lock
    return None


async def upsert_lock(lock: Lock, conn: Connection) -> Lock:
    await conn.execute(
        """
        INSERT INTO lds_vault.locks (wallet_id, locked, lock_expiry, reason, updated_at)
        VALUES (:wallet_id, :locked, :lock_expiry, :reason, :updated_at)
        ON CONFLICT (wallet_id) DO UPDATE SET
            locked = :locked,
            lock_expiry = :lock_expiry,
            reason = :reason,
            updated_at = :updated_at
        """,
        {
            "wallet_id": lock.wallet_id,
            "locked": lock.locked,
            "lock_expiry": lock.lock_expiry,
            "reason": lock.reason,
            "updated_at": lock.updated_at,
        },
    )
    return lock
