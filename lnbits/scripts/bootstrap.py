#!/usr/bin/env python3
"""Drive a running LNbits 1.6.x (with LDS Vault) over HTTP. Standard library only.

Library use::

    from bootstrap import LNbits
    ln = LNbits("http://127.0.0.1:5055")
    info = ln.first_install()            # admin token + admin wallet; enables lds_vault
    w = ln.create_user_wallet("alice")   # {"id", "adminkey", "inkey", "user_id", ...}
    ln.fund_wallet(w["id"], 100_000)     # sats, out of thin air (super user only)
    ln.lock_wallet(w["id"], int(time.time()) + 3600, reason="channel open")

CLI (every command prints ONE JSON object on stdout; errors: JSON on stderr, exit 1)::

    bootstrap.py [--url URL] [--username U] [--password P] [--token T] COMMAND ...

    init [--allow-no-guard]            first install (or log in if already done);
                                       fails unless the payment guard is installed
    create-user-wallet NAME            new user NAME with one wallet NAME
    fund WALLET_ID SATS
    lock WALLET_ID EXPIRY [--reason R] [--force]
    unlock WALLET_ID
    locks
    status KEY                         investor view, with the wallet's invoice key
    guard
    pay ADMINKEY BOLT11                pay from a wallet (expect 403 when locked)
    invoice INKEY SATS [--memo M]
    balance KEY                        {"balance_msat": ...}
    credits PREFIX KEY...              per key: balance and incoming payments whose
                                       external id starts with PREFIX

Defaults: --url $LNBITS_URL or http://127.0.0.1:5055; --username $LNBITS_ADMIN_USER
or "admin"; --password $LNBITS_ADMIN_PASSWORD or "lds-vault-test-admin"; --token
$LNBITS_ADMIN_TOKEN (if absent, commands that need it log in with user/password).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

EXT_ID = "lds_vault"
DEFAULT_URL = "http://127.0.0.1:5055"
DEFAULT_USER = "admin"
DEFAULT_PASSWORD = "lds-vault-test-admin"


class LNbitsError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: Any):
        self.method, self.path, self.status, self.body = method, path, status, body
        detail = body.get("detail") if isinstance(body, dict) else body
        super().__init__(f"{method} {path} -> {status}: {detail}")


class LNbits:
    def __init__(
        self,
        url: str = DEFAULT_URL,
        username: str = DEFAULT_USER,
        password: str = DEFAULT_PASSWORD,
        token: str | None = None,
        timeout: float = 30.0,
    ):
        self.url = url.rstrip("/")
        self.username = username
        self.password = password
        self.token = token
        self.timeout = timeout

    # ------------------------------------------------------------------ transport
    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        bearer: str | None = None,
        api_key: str | None = None,
        query: dict | None = None,
    ) -> tuple[int, Any]:
        """One HTTP call; returns (status, parsed JSON or text). Never raises on 4xx/5xx."""
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        if api_key:
            headers["X-Api-Key"] = api_key
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return status, text

    def call(
        self, method: str, path: str, body: Any = None, ok=(200, 201), **kw
    ) -> Any:
        status, payload = self.request(method, path, body, **kw)
        if status not in ok:
            raise LNbitsError(method, path, status, payload)
        return payload

    def admin_token(self) -> str:
        if not self.token:
            self.token = self.login(self.username, self.password)
        return self.token

    def admin(self, method: str, path: str, body: Any = None, **kw) -> Any:
        return self.call(method, path, body, bearer=self.admin_token(), **kw)

    # ------------------------------------------------------------------ accounts
    def login(self, username: str, password: str) -> str:
        res = self.call(
            "POST", "/api/v1/auth", {"username": username, "password": password}
        )
        return res["access_token"]

    def first_install(self, require_guard: bool = True) -> dict:
        """Claim the super user (or log in if that was done before), enable lds_vault
        for the admin (activating it first if LNbits left it deactivated, e.g. after
        a refused start), and return the admin's token and default wallet.

        Raises LNbitsError if the payment guard is not installed (unless
        ``require_guard`` is False): a vault without its guard protects nothing."""
        status, res = self.request(
            "PUT",
            "/api/v1/auth/first_install",
            {
                "username": self.username,
                "password": self.password,
                "password_repeat": self.password,
            },
        )
        if status == 200:
            self.token = res["access_token"]
            first = True
        elif status in (401, 403):  # "This is not your first install"
            self.token = self.login(self.username, self.password)
            first = False
        else:
            raise LNbitsError("PUT", "/api/v1/auth/first_install", status, res)
        self.enable_extension(self.token)
        me = self.admin("GET", "/api/v1/auth")
        guard = self.guard()
        if require_guard and not guard.get("installed"):
            raise LNbitsError("GET", f"/{EXT_ID}/api/v1/guard", 503, guard)
        wallet = me["wallets"][0]
        return {
            "url": self.url,
            "first_install": first,
            "admin": {
                "username": self.username,
                "user_id": me["id"],
                "token": self.token,
            },
            "wallet": _wallet_keys(wallet),
            "guard": guard,
        }

    def enable_extension(self, bearer: str, ext_id: str = EXT_ID) -> None:
        status, res = self.request(
            "PUT", f"/api/v1/extension/{ext_id}/enable", bearer=bearer
        )
        if status == 400 and "not activated" in str(res):
            # LNbits keeps an extension deactivated after its start failed once;
            # activating re-runs lds_vault_start() (and its self-check).
            self.call("PUT", f"/api/v1/extension/{ext_id}/activate", bearer=bearer)
            status, res = self.request(
                "PUT", f"/api/v1/extension/{ext_id}/enable", bearer=bearer
            )
        if status != 200:
            raise LNbitsError("PUT", f"/api/v1/extension/{ext_id}/enable", status, res)

    def create_user_wallet(self, name: str, password: str | None = None) -> dict:
        """New LNbits user ``name`` (lds_vault enabled) whose single wallet is named
        ``name``. Returns the wallet's id/adminkey/inkey plus the user's credentials."""
        password = password or secrets.token_hex(12)
        user = self.admin(
            "POST",
            "/users/api/v1/user",
            {
                "username": name,
                "password": password,
                "password_repeat": password,
                "extensions": [EXT_ID],
            },
        )
        user_id = user["id"]
        wallets = self.admin("GET", f"/users/api/v1/user/{user_id}/wallet")
        wallet = wallets[0]
        # the default wallet ("LNbits wallet") is renamed to the user's name
        self.call(
            "PUT",
            f"/api/v1/wallet/{urllib.parse.quote(name)}",
            api_key=wallet["adminkey"],
        )
        return {
            **_wallet_keys(wallet),
            "name": name,
            "user_id": user_id,
            "username": name,
            "password": password,
        }

    # ------------------------------------------------------------------ money
    def fund_wallet(self, wallet_id: str, sats: int) -> dict:
        self.admin(
            "PUT", "/users/api/v1/balance", {"id": wallet_id, "amount": int(sats)}
        )
        return {"wallet_id": wallet_id, "amount_sat": int(sats), "success": True}

    def invoice(self, inkey: str, sats: int, memo: str = "") -> dict:
        return self.call(
            "POST",
            "/api/v1/payments",
            {"out": False, "amount": int(sats), "memo": memo},
            api_key=inkey,
        )

    def pay(self, adminkey: str, bolt11: str) -> tuple[int, Any]:
        """(status, body): 201 on success, 403 + vault message when locked."""
        return self.request(
            "POST",
            "/api/v1/payments",
            {"out": True, "bolt11": bolt11},
            api_key=adminkey,
        )

    def balance_msat(self, key: str) -> int:
        return int(self.call("GET", "/api/v1/wallet", api_key=key)["balance"])

    def credits(self, key: str, prefix: str) -> dict:
        """The wallet's balance and its incoming payments whose external id starts with
        ``prefix`` (how a test counts what a payout run credited)."""
        rows = self.call("GET", "/api/v1/payments", api_key=key)
        credits = [
            {
                "external_id": row.get("external_id"),
                "amount_msat": row["amount"],
                "status": row["status"],
            }
            for row in rows
            if row["amount"] > 0 and (row.get("external_id") or "").startswith(prefix)
        ]
        return {"balance_msat": self.balance_msat(key), "credits": credits}

    # ------------------------------------------------------------------ vault
    def lock_wallet(
        self, wallet_id: str, expiry: int, reason: str = "", force: bool = False
    ) -> dict:
        return self.admin(
            "PUT",
            f"/{EXT_ID}/api/v1/locks/{wallet_id}",
            {"lock_expiry": int(expiry), "reason": reason, "force": force},
        )

    def unlock_wallet(self, wallet_id: str) -> dict:
        return self.admin("DELETE", f"/{EXT_ID}/api/v1/locks/{wallet_id}")

    def locks(self) -> list:
        return self.admin("GET", f"/{EXT_ID}/api/v1/locks")

    def status(self, inkey: str) -> dict:
        return self.call("GET", f"/{EXT_ID}/api/v1/status", api_key=inkey)

    def guard(self) -> dict:
        status, res = self.request("GET", f"/{EXT_ID}/api/v1/guard")
        if status != 200:
            return {"installed": False, "detail": f"HTTP {status}: {res}"}
        return res


def _wallet_keys(wallet: dict) -> dict:
    return {
        "id": wallet["id"],
        "adminkey": wallet["adminkey"],
        "inkey": wallet["inkey"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=os.environ.get("LNBITS_URL", DEFAULT_URL))
    ap.add_argument(
        "--username", default=os.environ.get("LNBITS_ADMIN_USER", DEFAULT_USER)
    )
    ap.add_argument(
        "--password", default=os.environ.get("LNBITS_ADMIN_PASSWORD", DEFAULT_PASSWORD)
    )
    ap.add_argument("--token", default=os.environ.get("LNBITS_ADMIN_TOKEN"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("init")
    p.add_argument(
        "--allow-no-guard",
        action="store_true",
        help="do not fail when the payment guard is not installed",
    )
    p = sub.add_parser("create-user-wallet")
    p.add_argument("name")
    p.add_argument("--user-password")
    p = sub.add_parser("fund")
    p.add_argument("wallet_id")
    p.add_argument("sats", type=int)
    p = sub.add_parser("lock")
    p.add_argument("wallet_id")
    p.add_argument("expiry", type=int, help="unix seconds")
    p.add_argument("--reason", default="")
    p.add_argument("--force", action="store_true")
    p = sub.add_parser("unlock")
    p.add_argument("wallet_id")
    sub.add_parser("locks")
    p = sub.add_parser("status")
    p.add_argument("key")
    sub.add_parser("guard")
    p = sub.add_parser("pay")
    p.add_argument("adminkey")
    p.add_argument("bolt11")
    p = sub.add_parser("invoice")
    p.add_argument("inkey")
    p.add_argument("sats", type=int)
    p.add_argument("--memo", default="")
    p = sub.add_parser("balance")
    p.add_argument("key")
    p = sub.add_parser("credits")
    p.add_argument("prefix")
    p.add_argument("keys", nargs="+")
    args = ap.parse_args(argv)

    ln = LNbits(args.url, args.username, args.password, args.token)
    try:
        if args.cmd == "init":
            out: Any = ln.first_install(require_guard=not args.allow_no_guard)
        elif args.cmd == "create-user-wallet":
            out = ln.create_user_wallet(args.name, args.user_password)
        elif args.cmd == "fund":
            out = ln.fund_wallet(args.wallet_id, args.sats)
        elif args.cmd == "lock":
            out = ln.lock_wallet(args.wallet_id, args.expiry, args.reason, args.force)
        elif args.cmd == "unlock":
            out = ln.unlock_wallet(args.wallet_id)
        elif args.cmd == "locks":
            out = {"locks": ln.locks()}
        elif args.cmd == "status":
            out = ln.status(args.key)
        elif args.cmd == "guard":
            out = ln.guard()
        elif args.cmd == "pay":
            status, body = ln.pay(args.adminkey, args.bolt11)
            out = {"status": status, "body": body}
        elif args.cmd == "invoice":
            res = ln.invoice(args.inkey, args.sats, args.memo)
            out = {"payment_hash": res["payment_hash"], "bolt11": res["bolt11"]}
        elif args.cmd == "balance":
            out = {"balance_msat": ln.balance_msat(args.key)}
        elif args.cmd == "credits":
            out = {"wallets": [ln.credits(key, args.prefix) for key in args.keys]}
        else:  # pragma: no cover - argparse enforces the choices
            raise AssertionError(args.cmd)
    except LNbitsError as err:
        json.dump(
            {"error": str(err), "status": err.status, "body": err.body}, sys.stderr
        )
        sys.stderr.write("\n")
        return 1
    except (urllib.error.URLError, OSError) as err:
        json.dump({"error": f"cannot reach {args.url}: {err}"}, sys.stderr)
        sys.stderr.write("\n")
        return 1
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
