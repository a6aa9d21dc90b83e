"""LDS Vault: an LNbits 1.6.x extension that time-locks wallets.

While a wallet is locked (``locked`` set and ``now < lock_expiry``) every outgoing
payment from it is refused with HTTP 403
``Capital is currently deployed in routing channels and is time-locked``.
Receiving still works. See README.md.

LNbits imports this package as the top-level module ``lds_vault`` (custom
LNBITS_EXTENSIONS_PATH) or as ``lnbits.extensions.lds_vault`` (default path), so
everything inside uses relative imports.
"""

from fastapi import APIRouter
from loguru import logger

from .crud import db
from .guard import GuardSelfCheckError, install_guard, is_installed
from .views_api import lds_vault_api_router

lds_vault_ext: APIRouter = APIRouter(prefix="/lds_vault", tags=["LDS Vault"])
lds_vault_ext.include_router(lds_vault_api_router)


def lds_vault_start() -> None:
    """Called by LNbits at startup and on (re-)activation.

    Synchronous on purpose: at startup LNbits 1.6.2 calls ``<id>_start()`` without
    awaiting it. Runs the self-check and installs the payment guard; raises
    GuardSelfCheckError if LNbits' internals changed, so LNbits logs
    "Could not load extension `lds_vault`" and marks it inactive.
    """
    install_guard()


def lds_vault_stop() -> None:
    """Called by LNbits on deactivate / uninstall / upgrade.

    FAIL-CLOSED: the payment guard is deliberately LEFT INSTALLED. Locks keep being
    enforced in this process until it exits; the lock table is untouched. To release
    a wallet, DELETE its lock (admin API). A process started while the extension is
    deactivated does not load it, so nothing is enforced then: that, not
    deactivation, is the "off switch". See README.md.
    """
    if is_installed():
        logger.warning(
            "LDS Vault stopped: the payment guard STAYS INSTALLED (fail-closed) until "
            "this LNbits process exits; locked wallets remain locked."
        )


__all__ = [
    "GuardSelfCheckError",
    "db",
    "lds_vault_ext",
    "lds_vault_start",
    "lds_vault_stop",
]
