"""Pydantic (v1, as bundled with LNbits 1.6) models of the LDS Vault extension."""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

# lock_expiry is unix SECONDS. Anything further out than this is refused as a
# probable unit mistake (milliseconds would lock a wallet for ~50,000 years).
MAX_LOCK_SECONDS = 10 * 366 * 24 * 3600


class Lock(BaseModel):
    """A row of ``lds_vault.locks``."""

    wallet_id: str
    locked: bool
    lock_expiry: int
    reason: str = ""
    updated_at: int

    def is_active(self, now: float | None = None) -> bool:
        """Locked flag set and the expiry still in the future."""
        now = time.time() if now is None else now
        return bool(self.locked) and now < self.lock_expiry


class LockOut(Lock):
    """A lock as the admin API returns it: the row plus whether it is in force now."""

    active: bool

    @classmethod
    def from_lock(cls, lock: Lock, now: float | None = None) -> LockOut:
        return cls(**lock.dict(), active=lock.is_active(now))


class SetLock(BaseModel):
    """Body of ``PUT /lds_vault/api/v1/locks/{wallet_id}``."""

    lock_expiry: int = Field(
        ..., description="Unix time in SECONDS when the lock lifts"
    )
    reason: str = Field("", max_length=500)
    force: bool = Field(
        False,
        description="Allow moving the expiry of an active lock EARLIER (shortening it)",
    )


class LockStatus(BaseModel):
    """What an investor sees for their own wallet."""

    wallet_id: str
    locked: bool
    lock_expiry: int | None = None


class GuardStatus(BaseModel):
    """Whether the payment guard is installed in this LNbits process."""

    installed: bool
    detail: str
    error: str | None = None
    lnbits_version: str
    supported_lnbits: str
    extension_version: str
