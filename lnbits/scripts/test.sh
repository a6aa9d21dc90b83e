#!/usr/bin/env bash
# One command for CI: make the LNbits venv (idempotent) and run the LDS Vault
# pytest suite against the real LNbits 1.6.2 (in-process, FakeWallet, SQLite in a
# temp dir). Needs only python3.10-3.12 + pip + PyPI. Exit status is pytest's.
#
#   LNBITS_VENV   venv location (default <repo>/target/lnbits-venv)
#   extra arguments are passed to pytest (e.g. -k expiry -x)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lnbits_dir="$(dirname "$here")"
repo="$(dirname "$lnbits_dir")"
venv="${LNBITS_VENV:-$repo/target/lnbits-venv}"

start=$(date +%s)
LNBITS_VENV="$venv" bash "$here/setup-venv.sh"

tests="$lnbits_dir/lds_vault/tests"
cd "$tests"
export PYTHONDONTWRITEBYTECODE=1   # keep the source tree free of __pycache__
# - the pytest console script (not `python -m pytest`): no cwd on sys.path;
# - rootdir = the tests folder: otherwise pytest makes lnbits/lds_vault (it has an
#   __init__.py) a Package node and imports it from the SOURCE folder to look for
#   setup_module, shadowing the copy LNbits is meant to load.
set +e
"$venv/bin/pytest" -c "$tests/pytest.ini" --rootdir "$tests" "$tests" "$@"
rc=$?
set -e
echo "[lds-vault tests] exit $rc after $(( $(date +%s) - start )) s"
exit $rc
