"""Run the REAL LNbits 1.6.2 app in-process with the LDS Vault extension.

One LNbits per test session: ``create_app()`` + ``asgi_lifespan.LifespanManager``
(runs core migrations, discovers the extension, runs its migrations, calls
``lds_vault_start()``) + ``httpx.ASGITransport``. FakeWallet, SQLite in a temp dir.

The environment MUST be set before anything imports ``lnbits``: the settings
singleton reads it at import time. That is why this module does it at import.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

EXT_ID = "lds_vault"
EXT_SRC = Path(__file__).resolve().parent.parent  # lnbits/lds_vault
ADMIN_USER = "admin"
ADMIN_PASSWORD = "lds-vault-test-admin"
BASE_URL = "http://127.0.0.1:5000"

# ----------------------------------------------------------------- environment
_TMP = Path(tempfile.mkdtemp(prefix="lds-vault-test-"))
_EXTROOT = _TMP / "extroot"
_EXT_DST = _EXTROOT / "extensions" / EXT_ID
# A copy (not a link) so LNbits' imports leave no bytecode in the source tree.
shutil.copytree(
    EXT_SRC, _EXT_DST, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.pyc")
)
(_TMP / "data").mkdir()

# Never let the source tree shadow the copy as the top-level package `lds_vault`.
sys.path[:] = [
    p for p in sys.path if Path(p or os.getcwd()).resolve() != EXT_SRC.parent.resolve()
]

os.environ.update(
    {
        "LNBITS_DATA_FOLDER": str(_TMP / "data"),
        "LNBITS_EXTENSIONS_PATH": str(_EXTROOT),
        "LNBITS_EXTENSIONS_DEFAULT_INSTALL": "",
        "LNBITS_BACKEND_WALLET_CLASS": "FakeWallet",
        "LNBITS_ADMIN_UI": "true",
        "AUTH_HTTPS_ONLY": "false",
        "LNBITS_RATE_LIMIT_NO": "100000",
        # offline: no fiat price look-ups on every payment (wallets default to USD)
        "LNBITS_PRICE_AGGREGATOR_ENABLED": "false",
        "LNBITS_EXCHANGE_RATE_PROVIDERS": "[]",
        "DEBUG": "false",
    }
)
os.environ.pop("LNBITS_DATABASE_URL", None)
os.environ.pop("SUPER_USER", None)
os.environ.pop("FIRST_INSTALL_TOKEN", None)

# G2: create_app() mounts ./lnbits/static relative to the cwd.
_spec = importlib.util.find_spec("lnbits")
assert _spec and _spec.origin, "lnbits is not installed in this interpreter"
os.chdir(Path(_spec.origin).parent.parent)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_TMP, ignore_errors=True)


# -------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
async def app():
    from asgi_lifespan import LifespanManager
    from lnbits.app import create_app

    application = create_app()
    async with LifespanManager(
        application, startup_timeout=120, shutdown_timeout=30
    ) as manager:
        yield manager.app


@pytest.fixture(scope="session")
async def client(app):
    import http.cookiejar

    import httpx

    # NO cookie jar: LNbits' login/first_install set a `cookie_access_token` cookie,
    # and a shared client would then silently authenticate every later request
    # (e.g. an "investor" request would run as the admin). Auth is always explicit.
    no_cookies = http.cookiejar.CookieJar(
        policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        timeout=60,
        cookies=no_cookies,
    ) as c:
        yield c


@dataclass
class WalletKeys:
    id: str
    adminkey: str
    inkey: str


@dataclass
class Env:
    admin_token: str
    operator: WalletKeys  # the admin's wallet, funded out of thin air
    alice_token: str  # the investor
    vault: WalletKeys  # the investor's wallet that gets locked
    bob_token: str  # another user
    bob: WalletKeys
    extra: dict = field(default_factory=dict)


async def _ok(resp, *codes):
    codes = codes or (200, 201)
    assert resp.status_code in codes, (
        f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
    )
    return resp.json()


async def _make_user(
    client, admin_h, username: str, password: str
) -> tuple[str, WalletKeys]:
    user = await _ok(
        await client.post(
            "/users/api/v1/user",
            headers=admin_h,
            json={
                "username": username,
                "password": password,
                "password_repeat": password,
                "extensions": [EXT_ID],
            },
        )
    )
    wallets = await _ok(
        await client.get(f"/users/api/v1/user/{user['id']}/wallet", headers=admin_h)
    )
    w = wallets[0]
    token = (
        await _ok(
            await client.post(
                "/api/v1/auth", json={"username": username, "password": password}
            )
        )
    )["access_token"]
    return token, WalletKeys(w["id"], w["adminkey"], w["inkey"])


@pytest.fixture(scope="session")
async def env(client) -> Env:
    res = await _ok(
        await client.put(
            "/api/v1/auth/first_install",
            json={
                "username": ADMIN_USER,
                "password": ADMIN_PASSWORD,
                "password_repeat": ADMIN_PASSWORD,
            },
        )
    )
    token = res["access_token"]
    admin_h = {"Authorization": f"Bearer {token}"}
    await _ok(await client.put(f"/api/v1/extension/{EXT_ID}/enable", headers=admin_h))
    me = await _ok(await client.get("/api/v1/auth", headers=admin_h))
    w = me["wallets"][0]
    operator = WalletKeys(w["id"], w["adminkey"], w["inkey"])
    await _ok(
        await client.put(
            "/users/api/v1/balance",
            headers=admin_h,
            json={"id": operator.id, "amount": 1_000_000},
        )
    )
    alice_token, vault = await _make_user(client, admin_h, "alice", "alice-password-1")
    bob_token, bob = await _make_user(client, admin_h, "bob", "bob-password-1")
    assert not client.cookies, "the test client must not keep LNbits' auth cookies"
    e = Env(token, operator, alice_token, vault, bob_token, bob)
    # capital into the vault and some change for bob (internal transfers)
    await transfer(client, e.operator, e.vault, 100_000)
    await transfer(client, e.operator, e.bob, 50_000)
    return e


# --------------------------------------------------------------------- helpers
async def invoice(client, to: WalletKeys, sats: int, memo: str = "test") -> str:
    res = await _ok(
        await client.post(
            "/api/v1/payments",
            headers={"X-Api-Key": to.inkey},
            json={"out": False, "amount": sats, "memo": memo},
        )
    )
    return res["bolt11"]


async def pay(client, frm: WalletKeys, bolt11: str, via: str = "header"):
    body = {"out": True, "bolt11": bolt11}
    if via == "header":
        return await client.post(
            "/api/v1/payments", headers={"X-Api-Key": frm.adminkey}, json=body
        )
    if via == "query":
        return await client.post(
            "/api/v1/payments", params={"api-key": frm.adminkey}, json=body
        )
    raise ValueError(via)


async def transfer(client, frm: WalletKeys, to: WalletKeys, sats: int):
    resp = await pay(client, frm, await invoice(client, to, sats))
    await _ok(resp, 201)
    return resp


async def balance(client, w: WalletKeys) -> int:
    res = await _ok(await client.get("/api/v1/wallet", headers={"X-Api-Key": w.inkey}))
    return int(res["balance"])


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def ext_module(name: str = ""):
    """The CURRENT instance of the extension (LNbits re-imports it on activate)."""
    return sys.modules[f"{EXT_ID}.{name}" if name else EXT_ID]
