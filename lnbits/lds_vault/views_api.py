"""JSON API of the LDS Vault extension (mounted under /lds_vault).

Admin (``check_admin``: Bearer token / cookie / ACL token of an LNbits admin):
  GET    /lds_vault/api/v1/locks[?active_only=true]
  GET    /lds_vault/api/v1/locks/{wallet_id}
  PUT    /lds_vault/api/v1/locks/{wallet_id}   {"lock_expiry": <unix s>, "reason": "...", "force": false}
  DELETE /lds_vault/api/v1/locks/{wallet_id}
Investor (the wallet's invoice or admin key, X-Api-Key header or ?api-key=):
  GET    /lds_vault/api/v1/status
Anyone:
  GET    /lds_vault/api/v1/guard                whether the payment guard is installed

Every endpoint except /guard answers 503 while the guard is not installed: the
extension never serves as if wallets were protected when they are not.
"""

from __future__ import annotations

import time
from http import HTTPStatus

from fastapi import APIRouter, Depends, HTTPException
from lnbits.core.crud import get_wallet
from lnbits.core.models import WalletTypeInfo
from lnbits.decorators import check_admin, require_invoice_key
from loguru import logger

from . import guard
from .crud import db, get_lock, get_locks, upsert_lock
from .models import (
    MAX_LOCK_SECONDS,
    GuardStatus,
    Lock,
    LockOut,
    LockStatus,
    SetLock,
)

lds_vault_api_router = APIRouter()


def guard_status() -> GuardStatus:
    lo, hi = guard.supported_range()
    installed = guard.is_installed()
    error = guard.last_error()
    if installed:
        detail = "guard installed"
    else:
        detail = "guard not installed" + (f": {error}" if error else "")
    return GuardStatus(
        installed=installed,
        detail=detail,
        error=error,
        lnbits_version=guard.lnbits_version(),
        supported_lnbits=f">={lo},<{hi}",
        extension_version=str(guard.load_config().get("version", "?")),
    )


async def require_guard() -> None:
    """503 unless the payment guard is installed in this process."""
    if not guard.is_installed():
        status = guard_status()
        raise HTTPException(
            HTTPStatus.SERVICE_UNAVAILABLE, f"LDS Vault {status.detail}"
        )


@lds_vault_api_router.get("/api/v1/guard", response_model=GuardStatus)
async def api_guard() -> GuardStatus:
    """Public: is the payment guard installed? (no secrets in the answer)"""
    return guard_status()


@lds_vault_api_router.get(
    "/api/v1/status",
    response_model=LockStatus,
    dependencies=[Depends(require_guard)],
)
async def api_status(
    key_info: WalletTypeInfo = Depends(require_invoice_key),
) -> LockStatus:
    """The calling wallet's lock (for a shared mirror: the lock of its source)."""
    wallet_id = key_info.wallet.id
    lock = await guard.active_lock_for(wallet_id)
    return LockStatus(
        wallet_id=wallet_id,
        locked=lock is not None,
        lock_expiry=lock.lock_expiry if lock else None,
    )


@lds_vault_api_router.get(
    "/api/v1/locks",
    response_model=list[LockOut],
    dependencies=[Depends(require_guard), Depends(check_admin)],
)
async def api_list_locks(active_only: bool = False) -> list[LockOut]:
    now = time.time()
    return [LockOut.from_lock(lk, now) for lk in await get_locks(active_only)]


@lds_vault_api_router.get(
    "/api/v1/locks/{wallet_id}",
    response_model=LockOut,
    dependencies=[Depends(require_guard), Depends(check_admin)],
)
async def api_get_lock(wallet_id: str) -> LockOut:
    lock = await get_lock(wallet_id)
    if not lock:
        raise HTTPException(HTTPStatus.NOT_FOUND, "No lock for this wallet.")
    return LockOut.from_lock(lock)


@lds_vault_api_router.put(
    "/api/v1/locks/{wallet_id}",
    response_model=LockOut,
    dependencies=[Depends(require_guard)],
)
async def api_set_lock(
    wallet_id: str,
    data: SetLock,
    admin=Depends(check_admin),
) -> LockOut:
    """Lock a wallet until ``lock_expiry`` or extend its lock.

    - 400 if ``lock_expiry`` is not in the future, or more than ~10 years ahead
      (probably milliseconds instead of seconds);
    - 404 if the wallet does not exist (or is deleted);
    - 400 if the wallet is a shared-wallet mirror: lock the source wallet, which is
      where the funds are (locking the source also blocks every mirror of it);
    - 409 if it would move an ACTIVE lock's expiry earlier, unless ``force`` is true.
      Extending, re-asserting the same expiry, changing the reason, and re-locking
      an expired or removed lock need no ``force``.
    """
    now = int(time.time())
    if data.lock_expiry <= now:
        raise HTTPException(
            HTTPStatus.BAD_REQUEST,
            f"lock_expiry {data.lock_expiry} is not in the future (now {now}).",
        )
    if data.lock_expiry > now + MAX_LOCK_SECONDS:
        raise HTTPException(
            HTTPStatus.BAD_REQUEST,
            f"lock_expiry {data.lock_expiry} is more than 10 years ahead; "
            "it must be unix time in SECONDS.",
        )

    # Core database first, never while holding our connection (see crud.py).
    wallet = await get_wallet(wallet_id)
    if not wallet:
        raise HTTPException(HTTPStatus.NOT_FOUND, "Wallet does not exist.")
    if wallet.is_lightning_shared_wallet:
        raise HTTPException(
            HTTPStatus.BAD_REQUEST,
            f"Wallet is a shared mirror of {wallet.shared_wallet_id}; "
            "lock that source wallet instead.",
        )

    async with db.connect() as conn:
        existing = await get_lock(wallet_id, conn=conn)
        if (
            existing is not None
            and existing.is_active(now)
            and data.lock_expiry < existing.lock_expiry
            and not data.force
        ):
            raise HTTPException(
                HTTPStatus.CONFLICT,
                f"Refusing to shorten the active lock (expires {existing.lock_expiry}) "
                f'to {data.lock_expiry}; pass "force": true to do it.',
            )
        lock = await upsert_lock(
            Lock(
                wallet_id=wallet_id,
                locked=True,
                lock_expiry=data.lock_expiry,
                reason=data.reason,
                updated_at=now,
            ),
            conn,
        )
    logger.info(
        f"LDS Vault: admin {admin.id} locked wallet {wallet_id} until "
        f"{data.lock_expiry}" + (" (forced)" if data.force else "")
    )
    return LockOut.from_lock(lock)


@lds_vault_api_router.delete(
    "/api/v1/locks/{wallet_id}",
    response_model=LockOut,
    dependencies=[Depends(require_guard)],
)
async def api_remove_lock(wallet_id: str, admin=Depends(check_admin)) -> LockOut:
    """Unlock now. The row is kept (locked=false) as a record of the last lock."""
    now = int(time.time())
    async with db.connect() as conn:
        existing = await get_lock(wallet_id, conn=conn)
        if existing is None:
            raise HTTPException(HTTPStatus.NOT_FOUND, "No lock for this wallet.")
        existing.locked = False
        existing.updated_at = now
        lock = await upsert_lock(existing, conn)
    logger.info(f"LDS Vault: admin {admin.id} removed the lock of wallet {wallet_id}")
    return LockOut.from_lock(lock)
