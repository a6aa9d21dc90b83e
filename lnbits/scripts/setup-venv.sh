#!/usr/bin/env bash
# Create (or reuse) the Python venv that runs LNbits 1.6.2 for the LDS Vault tests.
#
#   LNBITS_VENV   venv location (default: <repo>/target/lnbits-venv)
#   PYTHON        interpreter to build the venv with (default: first of python3.11,
#                 python3.12, python3.10, python3 that is >=3.10,<3.13)
#
# Idempotent: a stamp file inside the venv records the sha256 of requirements.txt;
# when it matches (and lnbits imports), nothing is installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lnbits_dir="$(dirname "$here")"
repo="$(dirname "$lnbits_dir")"
req="$lnbits_dir/requirements.txt"
venv="${LNBITS_VENV:-$repo/target/lnbits-venv}"
stamp="$venv/.lds-requirements.sha256"

log() { echo "[setup-venv] $*"; }

py_ok() {  # $1 = interpreter; LNbits 1.6.2 requires >=3.10,<3.13
    "$1" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] < (3, 13) else 1)' 2>/dev/null
}

want_sha="$(sha256sum "$req" | cut -d' ' -f1)"

# Never `import lnbits` here: importing it creates ./data/.lnbits_auth_key in the
# current directory. Check the installed distributions instead, plus G1 (bitstring<5
# still exports ConstBitStream, which bolt11 needs).
export LDS_LNBITS_PIN="$(sed -n 's/^lnbits==\([^[:space:]#]*\).*/\1/p' "$req")"
check_installed='
import os
from importlib.metadata import version
assert version("lnbits") == os.environ["LDS_LNBITS_PIN"], version("lnbits")
assert int(version("bitstring").split(".")[0]) < 5
from bitstring import ConstBitStream
import importlib.util as u
for mod in ("lnbits", "pytest", "asgi_lifespan", "uvicorn"):
    assert u.find_spec(mod), mod
'

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_sha" ] \
    && py_ok "$venv/bin/python" \
    && "$venv/bin/python" -c "$check_installed" 2>/dev/null; then
    log "venv $venv is up to date (requirements sha $want_sha); nothing to do"
    exit 0
fi

python_bin=""
if [ -n "${PYTHON:-}" ]; then
    if ! py_ok "$PYTHON"; then
        echo "[setup-venv] ERROR: PYTHON=$PYTHON is not Python >=3.10,<3.13 (LNbits 1.6.2 requires that)" >&2
        exit 2
    fi
    python_bin="$PYTHON"
else
    for cand in python3.11 python3.12 python3.10 python3; do
        if command -v "$cand" >/dev/null 2>&1 && py_ok "$cand"; then
            python_bin="$cand"
            break
        fi
    done
fi
if [ -z "$python_bin" ]; then
    echo "[setup-venv] ERROR: no Python >=3.10,<3.13 found (tried python3.11, python3.12, python3.10, python3)." >&2
    echo "[setup-venv]        LNbits 1.6.2 refuses Python 3.13+; install python3.11 or set PYTHON=/path/to/python3.11" >&2
    exit 2
fi

if [ -x "$venv/bin/python" ] && ! py_ok "$venv/bin/python"; then
    log "existing venv $venv has an unsupported Python; recreating it"
    rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
    log "creating venv $venv with $python_bin ($("$python_bin" --version 2>&1))"
    mkdir -p "$(dirname "$venv")"
    "$python_bin" -m venv "$venv"
fi

log "installing $req into $venv (this takes about 30 s on a fresh venv)"
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
"$venv/bin/python" -c "$check_installed"
"$venv/bin/python" -c 'from importlib.metadata import version as v; print("[setup-venv] lnbits", v("lnbits"), "bitstring", v("bitstring"))'
echo "$want_sha" > "$stamp"
log "done"
