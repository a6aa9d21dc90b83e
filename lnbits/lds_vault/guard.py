"""The LDS Vault payment guard.

LNbits 1.6 has no pre-payment hook. Every outgoing payment (REST
``POST /api/v1/payments``, LNURL pay, lightning-address fees, internal
wallet-to-wallet transfers, WASM extensions, Python extensions calling
``lnbits.core.services.pay_invoice``) goes through
``lnbits.core.services.payments.pay_invoice``, which calls the module global
``_check_wallet_for_payment(wallet_id, tag, amount_msat, conn)`` BEFORE any payment
row is written, looking the name up in the module globals at call time.

The guard replaces that global with a wrapper that refuses the payment while the
paying wallet (or, for a shared-wallet mirror, its source wallet) is locked, then
calls the original check.

The function is private to LNbits, so :func:`self_check` verifies everything this
relies on before installing, and :func:`install_guard` refuses (raises) when any of
it changed. State lives on the wrapper function itself (not in this module) so that
it survives LNbits re-importing the extension package on activate/upgrade.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from lnbits.core.crud import get_wallet
from lnbits.exceptions import PaymentError
from loguru import logger

from .crud import get_active_lock

LOCKED_MESSAGE = "Capital is currently deployed in routing channels and is time-locked"
UNAVAILABLE_MESSAGE = (
    "LDS Vault could not read the wallet lock state; payment refused (fail-closed)"
)

TARGET_MODULE = "lnbits.core.services.payments"
TARGET_NAME = "_check_wallet_for_payment"
# (name, kind, default) of the original, unchanged from LNbits 1.0.0 to 1.6.2.
_EMPTY = inspect.Parameter.empty
_POK = inspect.Parameter.POSITIONAL_OR_KEYWORD
EXPECTED_PARAMS = [
    ("wallet_id", _POK, _EMPTY),
    ("tag", _POK, _EMPTY),
    ("amount_msat", _POK, _EMPTY),
    ("conn", _POK, None),
]
GUARD_MARK = "__lds_vault_guard__"

_CONFIG_PATH = Path(__file__).with_name("config.json")

# Why the last install attempt in this process failed (None: it did not fail).
# Module state is fine here: LNbits calls lds_vault_start() on the same module
# instance whose views report it.
_last_error: str | None = None


class _VaultPaymentRefused(HTTPException, PaymentError):
    """A refused payment that is BOTH a FastAPI ``HTTPException`` and an LNbits
    ``PaymentError``.

    HTTPException: the REST API answers with our status code and the exact message
    (LNbits maps a bare PaymentError to 520). PaymentError: extensions that wrap
    ``pay_invoice`` in ``except PaymentError`` still catch it. Starlette picks the
    exception handler along the MRO, so HTTPException's handler wins.
    """

    status_code_for_refusal: int = HTTPStatus.FORBIDDEN
    refusal_message: str = ""

    def __init__(self) -> None:
        HTTPException.__init__(
            self, status_code=self.status_code_for_refusal, detail=self.refusal_message
        )
        PaymentError.__init__(self, self.refusal_message, status="failed")

    def __str__(self) -> str:  # what e.g. the WASM host reports: the bare message
        return self.refusal_message


class VaultLockedError(_VaultPaymentRefused):
    """A payment from a locked wallet: 403 with the exact vault message."""

    status_code_for_refusal = HTTPStatus.FORBIDDEN
    refusal_message = LOCKED_MESSAGE

    def __init__(self, wallet_id: str) -> None:
        super().__init__()
        self.wallet_id = wallet_id


class VaultUnavailableError(_VaultPaymentRefused):
    """The lock state could not be read: the payment is refused (503, fail-closed)."""

    status_code_for_refusal = HTTPStatus.SERVICE_UNAVAILABLE
    refusal_message = UNAVAILABLE_MESSAGE


class GuardSelfCheckError(RuntimeError):
    """The LNbits internals the guard relies on are not what it was written for."""


# --------------------------------------------------------------------------- checks


def load_config() -> dict:
    return json.loads(_CONFIG_PATH.read_text())


def supported_range() -> tuple[str, str]:
    cfg = load_config()
    return cfg["min_lnbits_version"], cfg["max_lnbits_version"]


def lnbits_version() -> str:
    from lnbits.settings import settings

    return str(settings.version)


def _version_problem() -> str | None:
    from packaging.version import InvalidVersion, Version

    lo, hi = supported_range()
    current = lnbits_version()
    try:
        ok = Version(lo) <= Version(current) < Version(hi)
    except InvalidVersion:
        return f"cannot parse LNbits version {current!r}"
    if not ok:
        return (
            f"LNbits {current} is outside the supported range >={lo},<{hi} "
            "(config.json min/max_lnbits_version)"
        )
    return None


def unwrap(func: Any) -> Any:
    """The original LNbits function under any LDS Vault guard layers."""
    while getattr(func, GUARD_MARK, False):
        func = func.__wrapped__
    return func


def self_check() -> list[str]:
    """Return the list of problems (empty: the guard can be installed safely)."""
    problems: list[str] = []

    version_problem = _version_problem()
    if version_problem:
        problems.append(version_problem)

    try:
        payments = importlib.import_module(TARGET_MODULE)
    except Exception as exc:  # pragma: no cover - would mean a very different LNbits
        return [*problems, f"cannot import {TARGET_MODULE}: {exc!r}"]

    current = getattr(payments, TARGET_NAME, None)
    if current is None:
        problems.append(f"{TARGET_MODULE}.{TARGET_NAME} does not exist")
    else:
        original = unwrap(current)
        if not inspect.iscoroutinefunction(original):
            problems.append(f"{TARGET_NAME} is no longer an async function")
        try:
            params = list(inspect.signature(original).parameters.values())
            got = [(p.name, p.kind, p.default) for p in params]
            if got != EXPECTED_PARAMS:
                problems.append(
                    f"{TARGET_NAME} signature changed: expected "
                    f"(wallet_id, tag, amount_msat, conn=None), got "
                    f"{inspect.signature(original)}"
                )
        except (TypeError, ValueError) as exc:
            problems.append(f"cannot read the signature of {TARGET_NAME}: {exc!r}")

    pay_invoice = getattr(payments, "pay_invoice", None)
    if pay_invoice is None or not inspect.iscoroutinefunction(pay_invoice):
        problems.append(f"{TARGET_MODULE}.pay_invoice is missing or not async")
    else:
        code = getattr(pay_invoice, "__code__", None)
        if getattr(pay_invoice, "__globals__", None) is not vars(payments):
            problems.append(
                "pay_invoice no longer resolves names in the payments module globals"
            )
        elif code is None or TARGET_NAME not in code.co_names:
            problems.append(
                f"pay_invoice no longer looks {TARGET_NAME} up as a module global"
            )
        try:
            services = importlib.import_module("lnbits.core.services")
            if getattr(services, "pay_invoice", None) is not pay_invoice:
                problems.append(
                    "lnbits.core.services.pay_invoice (used by extensions) is not "
                    "payments.pay_invoice"
                )
        except Exception as exc:  # pragma: no cover
            problems.append(f"cannot import lnbits.core.services: {exc!r}")

    try:
        from lnbits.core.models import Wallet

        if not inspect.iscoroutinefunction(get_wallet):
            problems.append("lnbits.core.crud.get_wallet is not async")
        if "shared_wallet_id" not in Wallet.__fields__ or not hasattr(
            Wallet, "source_wallet_id"
        ):
            problems.append("Wallet has no shared_wallet_id/source_wallet_id")
    except Exception as exc:
        problems.append(f"cannot import lnbits.core.crud.get_wallet / Wallet: {exc!r}")

    return problems


# ------------------------------------------------------------------ the guard itself


async def wallets_spending_from(wallet_id: str, conn: Any = None) -> set[str]:
    """The wallet id plus, for a shared-wallet mirror, the wallet it spends from.

    ``conn`` is the CORE connection pay_invoice holds: it must be passed on, because
    core's Database lock is not re-entrant.
    """
    ids = {wallet_id}
    wallet = await get_wallet(wallet_id, conn=conn)
    if wallet:
        ids.add(wallet.id)
        if wallet.shared_wallet_id:
            ids.add(wallet.shared_wallet_id)
        ids.add(wallet.source_wallet_id)
    return ids


async def active_lock_for(wallet_id: str, conn: Any = None):
    """The lock in force for a payment from ``wallet_id`` (or None)."""
    return await get_active_lock(await wallets_spending_from(wallet_id, conn))


def _make_guard(original):
    @functools.wraps(original)
    async def lds_vault_guard(wallet_id, tag, amount_msat, conn=None):
        try:
            lock = await active_lock_for(wallet_id, conn)
        except Exception as exc:
            logger.exception(
                f"LDS Vault: cannot read lock state for wallet {wallet_id}; "
                f"refusing the payment: {exc!r}"
            )
            raise VaultUnavailableError() from exc
        if lock is not None:
            logger.warning(
                f"LDS Vault: refused a payment of {amount_msat} msat from wallet "
                f"{wallet_id} (lock on {lock.wallet_id} until {lock.lock_expiry})"
            )
            raise VaultLockedError(wallet_id)
        return await original(wallet_id, tag, amount_msat, conn)

    setattr(lds_vault_guard, GUARD_MARK, True)
    lds_vault_guard.__wrapped__ = original  # functools.wraps sets it; be explicit
    lds_vault_guard.lds_vault_installed_at = time.time()  # type: ignore[attr-defined]
    lds_vault_guard.lds_vault_version = load_config().get("version", "?")  # type: ignore[attr-defined]
    return lds_vault_guard


def _payments():
    return importlib.import_module(TARGET_MODULE)


def is_installed() -> bool:
    current = getattr(_payments(), TARGET_NAME, None)
    return bool(getattr(current, GUARD_MARK, False))


def last_error() -> str | None:
    return _last_error


def install_guard() -> None:
    """Run the self-check and install (or re-install) the guard.

    Idempotent: an existing LDS Vault wrapper (e.g. from a previous import of this
    package before LNbits re-activated it) is replaced, never stacked.
    Raises GuardSelfCheckError (and leaves NO guard installed) if the self-check fails.
    """
    global _last_error
    payments = _payments()
    problems = self_check()
    if problems:
        current = getattr(payments, TARGET_NAME, None)
        if getattr(current, GUARD_MARK, False):
            # Do not leave a guard whose assumptions no longer hold in place.
            setattr(payments, TARGET_NAME, unwrap(current))
        _last_error = "; ".join(problems)
        banner = "!" * 78
        logger.critical(banner)
        logger.critical(
            "LDS Vault REFUSES TO START: the LNbits internals its payment guard relies "
            "on have changed. Locked wallets are NOT protected in this process."
        )
        for problem in problems:
            logger.critical(f"LDS Vault self-check: {problem}")
        logger.critical(banner)
        raise GuardSelfCheckError("LDS Vault self-check failed: " + _last_error)

    original = unwrap(getattr(payments, TARGET_NAME))
    setattr(payments, TARGET_NAME, _make_guard(original))
    _last_error = None
    logger.info(
        f"LDS Vault: payment guard installed on {TARGET_MODULE}.{TARGET_NAME} "
        f"(LNbits {lnbits_version()})"
    )


def uninstall_guard() -> bool:
    """Restore LNbits' original check. Returns True if a guard was removed.

    Not called by lds_vault_stop() (the guard is deliberately kept, see README);
    provided for operators and tests.
    """
    payments = _payments()
    current = getattr(payments, TARGET_NAME, None)
    if getattr(current, GUARD_MARK, False):
        setattr(payments, TARGET_NAME, unwrap(current))
        logger.warning("LDS Vault: payment guard removed; locks are NOT enforced")
        return True
    return False
