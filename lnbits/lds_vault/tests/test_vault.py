"""LDS Vault against the real LNbits 1.6.2 app (FakeWallet, SQLite), end to end.

Tests share one LNbits and one set of users (see conftest.py); each test leaves the
vault UNLOCKED when it is done (the ``unlocked`` fixture makes sure of it).
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
import time
import types

import pytest
from conftest import (
    _EXT_DST,
    EXT_ID,
    _ok,
    balance,
    bearer,
    ext_module,
    invoice,
    pay,
    transfer,
)

pytestmark = pytest.mark.anyio

MSG = "Capital is currently deployed in routing channels and is time-locked"
API = f"/{EXT_ID}/api/v1"
HOUR = 3600


# ----------------------------------------------------------------------- helpers
async def set_lock(
    client, env, wallet_id, expiry, reason="test", force=False, expect=200
):
    resp = await client.put(
        f"{API}/locks/{wallet_id}",
        headers=bearer(env.admin_token),
        json={"lock_expiry": expiry, "reason": reason, "force": force},
    )
    assert resp.status_code == expect, resp.text
    return resp.json()


async def remove_lock(client, env, wallet_id):
    resp = await client.delete(
        f"{API}/locks/{wallet_id}", headers=bearer(env.admin_token)
    )
    assert resp.status_code in (200, 404), resp.text
    return resp


def assert_vault_refusal(resp):
    assert resp.status_code == 403, resp.text
    assert resp.json() == {"detail": MSG}


def external_bolt11(sats: int) -> str:
    """A valid invoice LNbits does not know (signed by a random key)."""
    from bolt11 import Bolt11, MilliSatoshi, Tags, encode
    from lnbits.utils.crypto import random_secret_and_hash

    secret, payment_hash = random_secret_and_hash()
    inv = Bolt11(
        currency="bc",
        amount_msat=MilliSatoshi(sats * 1000),
        date=int(time.time()),
        tags=Tags.from_dict(
            {
                "payment_hash": payment_hash,
                "payment_secret": secret,
                "description": "somewhere outside",
            }
        ),
    )
    return encode(inv, secrets.token_hex(32))


async def payments_count(client, w) -> int:
    res = await _ok(
        await client.get("/api/v1/payments", headers={"X-Api-Key": w.inkey})
    )
    return len(res)


@pytest.fixture
async def unlocked(client, env):
    """Make sure the vault is unlocked before and after the test."""
    await remove_lock(client, env, env.vault.id)
    yield env
    await remove_lock(client, env, env.vault.id)


@pytest.fixture
async def mirror(client, env):
    """Bob's shared-wallet mirror of Alice's vault, with send permission (cached)."""
    if "mirror" not in env.extra:
        await _ok(
            await client.put(
                "/api/v1/wallet/share/invite",
                headers={"X-Api-Key": env.vault.adminkey},
                json={
                    "username": "bob",
                    "permissions": [
                        "view-payments",
                        "receive-payments",
                        "send-payments",
                    ],
                    "status": "invite_sent",
                },
            )
        )
        w = await _ok(
            await client.post(
                "/api/v1/wallet",
                headers=bearer(env.bob_token),
                json={
                    "wallet_type": "lightning-shared",
                    "shared_wallet_id": env.vault.id,
                },
            )
        )
        from conftest import WalletKeys

        assert w["shared_wallet_id"] == env.vault.id
        env.extra["mirror"] = WalletKeys(w["id"], w["adminkey"], w["inkey"])
    return env.extra["mirror"]


# ------------------------------------------------------------------------- tests
async def test_extension_loaded_and_guard_installed(client, env):
    res = await _ok(await client.get(f"{API}/guard"))
    assert res["installed"] is True, res
    assert res["error"] is None
    assert res["lnbits_version"] == "1.6.2"
    # it is our copy that LNbits imported, as the top-level package `lds_vault`
    assert ext_module().__file__.startswith(str(_EXT_DST))
    # exactly one guard layer over LNbits' own function
    from lnbits.core.services import payments

    fn = payments._check_wallet_for_payment
    assert getattr(fn, "__lds_vault_guard__", False)
    assert not getattr(fn.__wrapped__, "__lds_vault_guard__", False)
    assert fn.__wrapped__.__module__ == "lnbits.core.services.payments"


async def test_unlocked_baseline(client, env, unlocked, mirror):
    """Without a lock every path works (so the 403s below come from the lock)."""
    v0, b0 = await balance(client, env.vault), await balance(client, env.bob)
    await transfer(client, env.vault, env.bob, 10)
    resp = await pay(client, env.vault, await invoice(client, env.bob, 10), via="query")
    assert resp.status_code == 201, resp.text
    await transfer(client, mirror, env.bob, 10)  # the mirror spends from the vault
    assert await balance(client, env.vault) == v0 - 30_000
    assert await balance(client, env.bob) == b0 + 30_000
    # FakeWallet cannot pay outside: a DIFFERENT error than the vault's
    resp = await pay(client, env.bob, external_bolt11(5))
    assert resp.status_code == 520, resp.text
    assert "Only internal invoices" in resp.json()["detail"]
    status = await _ok(
        await client.get(f"{API}/status", headers={"X-Api-Key": env.vault.inkey})
    )
    assert status == {"wallet_id": env.vault.id, "locked": False, "lock_expiry": None}


async def test_locked_wallet_refused_on_every_path(client, env, unlocked, mirror):
    expiry = int(time.time()) + HOUR
    lock = await set_lock(client, env, env.vault.id, expiry, reason="channel open")
    assert lock["locked"] is True and lock["active"] is True
    assert lock["lock_expiry"] == expiry and lock["reason"] == "channel open"

    v0, b0, o0 = (
        await balance(client, env.vault),
        await balance(client, env.bob),
        await balance(client, env.operator),
    )
    n0 = await payments_count(client, env.vault)

    # REST, admin key in the header -> internal transfer to another LNbits wallet
    assert_vault_refusal(
        await pay(client, env.vault, await invoice(client, env.bob, 10))
    )
    # REST, ?api-key=
    assert_vault_refusal(
        await pay(
            client, env.vault, await invoice(client, env.operator, 10), via="query"
        )
    )
    # external bolt11
    assert_vault_refusal(await pay(client, env.vault, external_bolt11(10)))
    # the shared-wallet mirror whose source is the vault (another user's keys)
    assert_vault_refusal(await pay(client, mirror, await invoice(client, env.bob, 10)))

    # another extension / Python code calling pay_invoice directly
    from fastapi import HTTPException
    from lnbits.core.services import pay_invoice
    from lnbits.exceptions import PaymentError

    bolt11 = await invoice(client, env.bob, 10)
    for wallet_id in (env.vault.id, mirror.id):
        with pytest.raises(PaymentError) as exc_info:  # what extensions catch
            await pay_invoice(
                wallet_id=wallet_id, payment_request=bolt11, tag="someext"
            )
        err = exc_info.value
        assert isinstance(err, HTTPException) and err.status_code == 403
        assert err.detail == MSG and err.message == MSG and str(err) == MSG
        assert err.status == "failed"

    # nothing moved, nothing was recorded
    assert await balance(client, env.vault) == v0
    assert await balance(client, env.bob) == b0
    assert await balance(client, env.operator) == o0
    assert await payments_count(client, env.vault) == n0

    # other wallets are unaffected
    await transfer(client, env.bob, env.operator, 7)
    await transfer(client, env.operator, env.bob, 7)
    # the locked wallet still receives (from the operator and from bob)
    await transfer(client, env.operator, env.vault, 1_000)
    await transfer(client, env.bob, env.vault, 3)
    assert await balance(client, env.vault) == v0 + 1_003_000

    # the investor sees the lock with the invoice key; so does the mirror's holder
    for key in (env.vault.inkey, env.vault.adminkey, mirror.inkey):
        status = await _ok(
            await client.get(f"{API}/status", headers={"X-Api-Key": key})
        )
        assert status["locked"] is True and status["lock_expiry"] == expiry


async def test_lock_validation(client, env, unlocked, mirror):
    now = int(time.time())
    # expiry in the past / now
    for expiry in (now - 10, now, 0):
        r = await client.put(
            f"{API}/locks/{env.vault.id}",
            headers=bearer(env.admin_token),
            json={"lock_expiry": expiry},
        )
        assert r.status_code == 400, r.text
        assert "not in the future" in r.json()["detail"]
    # milliseconds by mistake
    r = await client.put(
        f"{API}/locks/{env.vault.id}",
        headers=bearer(env.admin_token),
        json={"lock_expiry": (now + HOUR) * 1000},
    )
    assert r.status_code == 400 and "SECONDS" in r.json()["detail"]
    # unknown wallet
    r = await client.put(
        f"{API}/locks/{'0' * 32}",
        headers=bearer(env.admin_token),
        json={"lock_expiry": now + HOUR},
    )
    assert r.status_code == 404, r.text
    # a shared mirror: lock the source instead
    r = await client.put(
        f"{API}/locks/{mirror.id}",
        headers=bearer(env.admin_token),
        json={"lock_expiry": now + HOUR},
    )
    assert r.status_code == 400 and env.vault.id in r.json()["detail"]
    # none of that created a lock
    locks = await _ok(await client.get(f"{API}/locks", headers=bearer(env.admin_token)))
    assert all(not lk["active"] for lk in locks)
    assert all(lk["wallet_id"] not in ("0" * 32, mirror.id) for lk in locks)
    # removing a lock that never existed
    r = await client.delete(f"{API}/locks/{'0' * 32}", headers=bearer(env.admin_token))
    assert r.status_code == 404


async def test_shortening_an_active_lock_needs_force(client, env, unlocked):
    now = int(time.time())
    await set_lock(client, env, env.vault.id, now + 2 * HOUR)
    r = await client.put(
        f"{API}/locks/{env.vault.id}",
        headers=bearer(env.admin_token),
        json={"lock_expiry": now + HOUR},
    )
    assert r.status_code == 409, r.text
    assert "force" in r.json()["detail"]
    lock = await _ok(
        await client.get(f"{API}/locks/{env.vault.id}", headers=bearer(env.admin_token))
    )
    assert lock["lock_expiry"] == now + 2 * HOUR
    # same expiry / extension / new reason: fine without force
    await set_lock(client, env, env.vault.id, now + 2 * HOUR, reason="same")
    await set_lock(client, env, env.vault.id, now + 3 * HOUR, reason="extended")
    # shortening with force
    lock = await set_lock(
        client, env, env.vault.id, now + HOUR, reason="early", force=True
    )
    assert lock["lock_expiry"] == now + HOUR and lock["active"] is True
    # after an unlock, any future expiry is a fresh lock (no force needed)
    await remove_lock(client, env, env.vault.id)
    await set_lock(client, env, env.vault.id, now + 60)
    active = await _ok(
        await client.get(
            f"{API}/locks",
            params={"active_only": "true"},
            headers=bearer(env.admin_token),
        )
    )
    assert [lk["wallet_id"] for lk in active] == [env.vault.id]


async def test_investor_cannot_unlock(client, env, unlocked):
    expiry = int(time.time()) + HOUR
    await set_lock(client, env, env.vault.id, expiry)
    path = f"{API}/locks/{env.vault.id}"
    body = {"lock_expiry": int(time.time()) + 5, "force": True}
    attempts = {
        "own bearer": {"headers": bearer(env.alice_token)},
        "own admin key header": {"headers": {"X-Api-Key": env.vault.adminkey}},
        "own admin key query": {"params": {"api-key": env.vault.adminkey}},
        "own invoice key": {"headers": {"X-Api-Key": env.vault.inkey}},
        "other user's bearer": {"headers": bearer(env.bob_token)},
        "nothing": {},
    }
    for name, kw in attempts.items():
        for method in ("DELETE", "PUT"):
            r = await client.request(
                method, path, json=body if method == "PUT" else None, **kw
            )
            assert r.status_code in (401, 403), (
                f"{name} {method}: {r.status_code} {r.text}"
            )
        r = await client.get(f"{API}/locks", **kw)
        assert r.status_code in (401, 403), f"{name} list: {r.status_code} {r.text}"
    # the specific answers LNbits gives
    r = await client.delete(path, headers=bearer(env.alice_token))
    assert r.status_code == 403 and "No admin privileges" in r.json()["detail"]
    r = await client.delete(path, headers={"X-Api-Key": env.vault.adminkey})
    assert r.status_code == 401, r.text
    # there is no unlock endpoint for investors at all
    for method, p in (
        ("DELETE", f"{API}/status"),
        ("POST", f"{API}/unlock"),
        ("PUT", f"{API}/status"),
    ):
        r = await client.request(method, p, headers={"X-Api-Key": env.vault.adminkey})
        assert r.status_code in (404, 405), f"{method} {p}: {r.status_code}"
    # still locked, same expiry
    lock = await _ok(await client.get(path, headers=bearer(env.admin_token)))
    assert lock["active"] is True and lock["lock_expiry"] == expiry
    assert_vault_refusal(
        await pay(client, env.vault, await invoice(client, env.bob, 1))
    )


async def test_admin_unlock_restores_payments(client, env, unlocked):
    await set_lock(client, env, env.vault.id, int(time.time()) + HOUR)
    assert_vault_refusal(
        await pay(client, env.vault, await invoice(client, env.bob, 1))
    )
    r = await client.delete(
        f"{API}/locks/{env.vault.id}", headers=bearer(env.admin_token)
    )
    assert r.status_code == 200, r.text
    assert r.json()["locked"] is False and r.json()["active"] is False
    await transfer(client, env.vault, env.bob, 1)
    status = await _ok(
        await client.get(f"{API}/status", headers={"X-Api-Key": env.vault.inkey})
    )
    assert status["locked"] is False


async def test_lock_lifts_itself_at_expiry(client, env, unlocked):
    expiry = int(time.time()) + 2
    await set_lock(client, env, env.vault.id, expiry)
    assert_vault_refusal(
        await pay(client, env.vault, await invoice(client, env.bob, 1))
    )
    await asyncio.sleep(max(0.0, expiry - time.time()) + 0.2)
    await transfer(client, env.vault, env.bob, 1)  # no job ran; time did it
    status = await _ok(
        await client.get(f"{API}/status", headers={"X-Api-Key": env.vault.inkey})
    )
    assert status == {"wallet_id": env.vault.id, "locked": False, "lock_expiry": None}
    lock = await _ok(
        await client.get(f"{API}/locks/{env.vault.id}", headers=bearer(env.admin_token))
    )
    assert (
        lock["locked"] is True and lock["active"] is False
    )  # flag kept, expiry passed


# ------------------------------------------------------------ self-check / start-up
async def _changed_signature(wallet_id, tag, amount_msat, conn=None, *, fee=0):
    raise AssertionError("never called")


async def _renamed_params(wallet, tag, amount_msat, conn=None):
    raise AssertionError("never called")


def _sync_version(wallet_id, tag, amount_msat, conn=None):
    raise AssertionError("never called")


def _pay_invoice_without_check(payments):
    """A pay_invoice living in the payments module that never calls the check."""
    code = compile(
        "async def pay_invoice(**kwargs):\n    return None\n", "<changed>", "exec"
    )
    fn_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(fn_code, vars(payments), "pay_invoice")


async def _other_pay_invoice(**kwargs):
    raise AssertionError("never called")


@pytest.mark.parametrize(
    "case,expected",
    [
        ("changed_signature", "signature changed"),
        ("renamed_params", "signature changed"),
        ("sync_function", "no longer an async function"),
        ("missing_function", "does not exist"),
        ("pay_invoice_changed", "pay_invoice no longer looks"),
        ("pay_invoice_moved", "no longer resolves names in the payments module"),
        ("reexport_differs", "is not payments.pay_invoice"),
        ("version_too_new", "outside the supported range"),
        ("version_too_old", "outside the supported range"),
    ],
)
async def test_self_check_refuses_changed_internals(
    client, env, monkeypatch, case, expected
):
    from lnbits.core.services import payments
    from lnbits.settings import settings

    if case == "changed_signature":
        monkeypatch.setattr(payments, "_check_wallet_for_payment", _changed_signature)
    elif case == "renamed_params":
        monkeypatch.setattr(payments, "_check_wallet_for_payment", _renamed_params)
    elif case == "sync_function":
        monkeypatch.setattr(payments, "_check_wallet_for_payment", _sync_version)
    elif case == "missing_function":
        monkeypatch.delattr(payments, "_check_wallet_for_payment")
    elif case == "pay_invoice_changed":
        monkeypatch.setattr(
            payments, "pay_invoice", _pay_invoice_without_check(payments)
        )
    elif case == "pay_invoice_moved":
        monkeypatch.setattr(payments, "pay_invoice", _other_pay_invoice)
    elif case == "reexport_differs":
        from lnbits.core import services

        monkeypatch.setattr(services, "pay_invoice", _other_pay_invoice)
    elif case == "version_too_new":
        monkeypatch.setattr(settings, "version", "1.7.0")
    elif case == "version_too_old":
        monkeypatch.setattr(settings, "version", "1.5.9")

    ext = ext_module()
    with pytest.raises(ext.GuardSelfCheckError, match=expected):
        ext.lds_vault_start()

    # the refusal is visible, and nothing is served as if protected
    res = await _ok(await client.get(f"{API}/guard"))
    assert res["installed"] is False
    assert res["detail"].startswith("guard not installed") and expected in res["detail"]
    r = await client.put(
        f"{API}/locks/{env.vault.id}",
        headers=bearer(env.admin_token),
        json={"lock_expiry": int(time.time()) + HOUR},
    )
    assert r.status_code == 503 and "guard not installed" in r.json()["detail"]
    r = await client.get(f"{API}/status", headers={"X-Api-Key": env.vault.inkey})
    assert r.status_code == 503
    r = await client.get(f"{API}/locks", headers=bearer(env.admin_token))
    assert r.status_code == 503

    # back to the real LNbits: start succeeds again, one guard layer
    monkeypatch.undo()
    ext.lds_vault_start()
    res = await _ok(await client.get(f"{API}/guard"))
    assert res["installed"] is True and res["error"] is None
    fn = payments._check_wallet_for_payment
    assert not getattr(fn.__wrapped__, "__lds_vault_guard__", False)


async def test_self_check_passes_on_real_lnbits():
    guard = ext_module("guard")
    assert guard.self_check() == []
    from lnbits.core.services import payments

    sig = inspect.signature(guard.unwrap(payments._check_wallet_for_payment))
    assert list(sig.parameters) == ["wallet_id", "tag", "amount_msat", "conn"]


async def test_refused_activation_is_visible(client, env, monkeypatch):
    """LNbits' activate API swallows a failing <id>_start() (answers 200), so the
    refusal must be visible through the extension itself: /guard and 503s."""
    from lnbits.core.services import payments

    admin = bearer(env.admin_token)
    monkeypatch.setattr(payments, "_check_wallet_for_payment", _changed_signature)
    r = await client.put(f"/api/v1/extension/{EXT_ID}/activate", headers=admin)
    assert r.status_code == 200, r.text  # LNbits 1.6.2 reports success anyway
    res = await _ok(await client.get(f"{API}/guard"))
    assert res["installed"] is False and "signature changed" in res["detail"]
    r = await client.get(f"{API}/status", headers={"X-Api-Key": env.vault.inkey})
    assert r.status_code == 503

    monkeypatch.undo()
    await _ok(await client.put(f"/api/v1/extension/{EXT_ID}/activate", headers=admin))
    res = await _ok(await client.get(f"{API}/guard"))
    assert res["installed"] is True and res["error"] is None


async def test_deactivate_keeps_guard_fail_closed(client, env, unlocked):
    """lds_vault_stop() leaves the guard installed: deactivating the extension does
    not open locked wallets. Re-activating replaces the guard (never stacks it)."""
    admin = bearer(env.admin_token)
    await set_lock(client, env, env.vault.id, int(time.time()) + HOUR)
    await _ok(await client.put(f"/api/v1/extension/{EXT_ID}/deactivate", headers=admin))
    try:
        # the extension's routes are gone for everyone ...
        r = await client.get(f"{API}/guard")
        assert r.status_code == 404 and "disabled" in r.json()["detail"]
        # ... but the lock is still enforced, and receiving still works
        assert_vault_refusal(
            await pay(client, env.vault, await invoice(client, env.bob, 1))
        )
        await transfer(client, env.operator, env.vault, 1)
        await transfer(client, env.bob, env.operator, 1)
    finally:
        await _ok(
            await client.put(f"/api/v1/extension/{EXT_ID}/activate", headers=admin)
        )

    res = await _ok(await client.get(f"{API}/guard"))
    assert res["installed"] is True
    from lnbits.core.services import payments

    fn = payments._check_wallet_for_payment
    assert not getattr(fn.__wrapped__, "__lds_vault_guard__", False)
    assert_vault_refusal(
        await pay(client, env.vault, await invoice(client, env.bob, 1))
    )
    await remove_lock(client, env, env.vault.id)
    await transfer(client, env.vault, env.bob, 1)


async def test_guard_fails_closed_when_lock_state_unreadable(client, env, monkeypatch):
    """If the lock table cannot be read, payments are refused (503), not let through."""
    from lnbits.core.services import payments

    async def broken(*args, **kwargs):
        raise RuntimeError("no such table: lds_vault.locks")

    guard_globals = (
        payments._check_wallet_for_payment.__globals__
    )  # the installed guard's
    monkeypatch.setitem(guard_globals, "get_active_lock", broken)
    b0 = await balance(client, env.bob)
    resp = await pay(client, env.bob, await invoice(client, env.operator, 1))
    assert resp.status_code == 503, resp.text
    assert resp.json() == {
        "detail": "LDS Vault could not read the wallet lock state; payment refused "
        "(fail-closed)"
    }
    assert await balance(client, env.bob) == b0
    monkeypatch.undo()
    await transfer(client, env.bob, env.operator, 1)
