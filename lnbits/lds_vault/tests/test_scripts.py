"""The test-harness scripts the Rust integration tests use, against a REAL uvicorn
LNbits: start-lnbits.sh -> bootstrap.py CLI (JSON on stdout) -> stop-lnbits.sh.

This is the suite's one extra LNbits start (a separate process on a free
127.0.0.1 port, fresh SQLite work dir). Set LDS_VAULT_SKIP_SCRIPT_TESTS=1 to skip it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
MSG = "Capital is currently deployed in routing channels and is time-locked"

pytestmark = pytest.mark.skipif(
    os.environ.get("LDS_VAULT_SKIP_SCRIPT_TESTS") == "1",
    reason="LDS_VAULT_SKIP_SCRIPT_TESTS=1",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _script_env() -> dict:
    # Only what the scripts need; the in-process app's LNBITS_* settings stay out.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LNBITS_")}
    env["LNBITS_VENV"] = sys.prefix  # the venv running this test
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    work = tmp_path_factory.mktemp("lnbits-work")
    env = _script_env()
    started = time.monotonic()
    proc = subprocess.run(
        [
            "bash",
            str(SCRIPTS / "start-lnbits.sh"),
            "--port",
            str(port),
            "--workdir",
            str(work),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    fields = dict(kv.split("=", 1) for kv in line.split())
    assert fields["LNBITS_URL"] == f"http://127.0.0.1:{port}"
    assert (work / "lnbits.pid").read_text().strip() == fields["LNBITS_PID"]
    print(f"start-lnbits.sh took {time.monotonic() - started:.1f} s")
    try:
        yield fields["LNBITS_URL"], work, int(fields["LNBITS_PID"])
    finally:
        stop = subprocess.run(
            ["bash", str(SCRIPTS / "stop-lnbits.sh"), "--workdir", str(work)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert stop.returncode == 0, stop.stderr
        assert not (work / "lnbits.pid").exists()


def cli(url: str, *args: str, token: str | None = None):
    env = {**_script_env(), "LNBITS_URL": url}
    if token:
        env["LNBITS_ADMIN_TOKEN"] = token
    p = subprocess.run(
        [sys.executable, str(SCRIPTS / "bootstrap.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = json.loads(p.stdout) if p.stdout.strip() else None
    err = (
        json.loads(p.stderr)
        if p.returncode and p.stderr.strip().startswith("{")
        else None
    )
    return p.returncode, out, err


def test_scripts_end_to_end(server):
    url, work, pid = server
    assert (work / "extroot" / "extensions" / "lds_vault" / "config.json").is_file()
    assert not (work / "extroot" / "extensions" / "lds_vault" / "tests").exists()

    rc, init, _ = cli(url, "init")
    assert rc == 0
    assert init["first_install"] is True and init["url"] == url
    assert set(init["admin"]) == {"username", "user_id", "token"}
    assert set(init["wallet"]) == {"id", "adminkey", "inkey"}
    assert (
        init["guard"]["installed"] is True
        and init["guard"]["lnbits_version"] == "1.6.2"
    )
    token = init["admin"]["token"]

    rc, again, _ = cli(url, "init")  # idempotent: logs in the second time
    assert rc == 0 and again["first_install"] is False
    assert again["admin"]["user_id"] == init["admin"]["user_id"]
    assert again["wallet"] == init["wallet"]

    rc, alice, _ = cli(url, "create-user-wallet", "alice", token=token)
    assert rc == 0
    assert {
        "id",
        "adminkey",
        "inkey",
        "name",
        "user_id",
        "username",
        "password",
    } <= set(alice)
    rc, bob, _ = cli(url, "create-user-wallet", "bob", token=token)
    assert rc == 0

    # without --token / env the CLI logs in with the default admin credentials
    rc, funded, _ = cli(url, "fund", alice["id"], "1000")
    assert rc == 0 and funded == {
        "wallet_id": alice["id"],
        "amount_sat": 1000,
        "success": True,
    }

    expiry = int(time.time()) + 3600
    rc, lock, _ = cli(
        url, "lock", alice["id"], str(expiry), "--reason", "channel open", token=token
    )
    assert rc == 0
    assert (
        lock["locked"] is True
        and lock["active"] is True
        and lock["lock_expiry"] == expiry
    )

    rc, inv, _ = cli(url, "invoice", bob["inkey"], "10")
    assert rc == 0 and inv["bolt11"].startswith("lnbc")
    rc, paid, _ = cli(url, "pay", alice["adminkey"], inv["bolt11"])
    assert rc == 0 and paid == {"status": 403, "body": {"detail": MSG}}

    rc, status, _ = cli(url, "status", alice["inkey"])
    assert rc == 0 and status == {
        "wallet_id": alice["id"],
        "locked": True,
        "lock_expiry": expiry,
    }

    rc, _, err = cli(url, "lock", alice["id"], str(int(time.time()) - 5), token=token)
    assert rc == 1 and err["status"] == 400
    rc, _, err = cli(url, "lock", alice["id"], str(expiry - 60), token=token)
    assert rc == 1 and err["status"] == 409
    rc, forced, _ = cli(
        url, "lock", alice["id"], str(expiry - 60), "--force", token=token
    )
    assert rc == 0 and forced["lock_expiry"] == expiry - 60

    rc, locks, _ = cli(url, "locks", token=token)
    assert rc == 0 and [lk["wallet_id"] for lk in locks["locks"]] == [alice["id"]]

    rc, unlocked, _ = cli(url, "unlock", alice["id"], token=token)
    assert rc == 0 and unlocked["locked"] is False and unlocked["active"] is False
    rc, paid, _ = cli(url, "pay", alice["adminkey"], inv["bolt11"])
    assert rc == 0 and paid["status"] == 201

    rc, bal, _ = cli(url, "balance", alice["inkey"])
    assert rc == 0 and bal == {"balance_msat": 990_000}
    rc, bal, _ = cli(url, "balance", bob["inkey"])
    assert rc == 0 and bal == {"balance_msat": 10_000}

    rc, guard, _ = cli(url, "guard")
    assert rc == 0 and guard["installed"] is True
