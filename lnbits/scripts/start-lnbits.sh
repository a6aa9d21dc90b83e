#!/usr/bin/env bash
# Start a headless LNbits 1.6.2 (FakeWallet, SQLite) with the LDS Vault extension,
# for tests. Binds to 127.0.0.1 only.
#
# usage: start-lnbits.sh [--port N] [--workdir DIR] [--link]
#   --port N      (env LNBITS_PORT, default 5055)
#   --workdir DIR (env LNBITS_WORKDIR, default <repo>/target/lnbits-work/<port>)
#   --link        symlink the extension instead of copying it (edits apply on restart)
#   LNBITS_VENV   venv made by setup-venv.sh (default <repo>/target/lnbits-venv);
#                 setup-venv.sh is run first if the venv has no lnbits.
#   LNBITS_START_TIMEOUT  seconds to wait for /api/v1/health (default 60)
#   LDS_VAULT_SRC the extension folder to install (default <repo>/lnbits/lds_vault)
#
# Work dir layout (created):
#   lnbits -> <venv site-packages>/lnbits   uvicorn runs from here (LNbits needs ./lnbits/static)
#   data/                                   LNBITS_DATA_FOLDER: SQLite files, .super_user, logs
#   extroot/extensions/lds_vault            LNBITS_EXTENSIONS_PATH=extroot (copy of lnbits/lds_vault)
#   lnbits.log, lnbits.pid
#
# On success prints one line "LNBITS_PID=<pid> LNBITS_URL=http://127.0.0.1:<port> LNBITS_WORKDIR=<dir>"
# and exits 0; the server keeps running (stop it with stop-lnbits.sh).
# A fresh work dir still needs first_install: run bootstrap.py init.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lnbits_dir="$(dirname "$here")"
repo="$(dirname "$lnbits_dir")"

port="${LNBITS_PORT:-5055}"
workdir="${LNBITS_WORKDIR:-}"
link=0
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="$2"; shift 2 ;;
        --port=*) port="${1#*=}"; shift ;;
        --workdir) workdir="$2"; shift 2 ;;
        --workdir=*) workdir="${1#*=}"; shift ;;
        --link) link=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "start-lnbits.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$port" in ''|*[!0-9]*) echo "start-lnbits.sh: bad port '$port'" >&2; exit 2 ;; esac
workdir="${workdir:-$repo/target/lnbits-work/$port}"
venv="${LNBITS_VENV:-$repo/target/lnbits-venv}"
timeout="${LNBITS_START_TIMEOUT:-60}"
url="http://127.0.0.1:$port"

log() { echo "[start-lnbits] $*" >&2; }

# (find_spec, not `import lnbits`: importing it creates ./data/ in the current dir)
has_lnbits='import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("lnbits") else 1)'
if ! [ -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "$has_lnbits" 2>/dev/null; then
    log "no usable venv at $venv; running setup-venv.sh"
    LNBITS_VENV="$venv" bash "$here/setup-venv.sh" >&2
fi
py="$venv/bin/python"

mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"
pidfile="$workdir/lnbits.pid"
logfile="$workdir/lnbits.log"

if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "start-lnbits.sh: LNbits already running with pid $(cat "$pidfile") (work dir $workdir); stop it first" >&2
    exit 1
fi
if "$py" - "$port" <<'EOF'
import socket, sys
try:   # something already accepts connections there
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
except OSError:
    sys.exit(1)
sys.exit(0)
EOF
then
    echo "start-lnbits.sh: port $port on 127.0.0.1 is already in use" >&2
    exit 1
fi

# G2: LNbits mounts ./lnbits/static and ./lnbits/templates relative to the cwd.
pkg="$("$py" -c 'import importlib.util; print(importlib.util.find_spec("lnbits").submodule_search_locations[0])')"
ln -sfn "$pkg" "$workdir/lnbits"

# The extension: $LNBITS_EXTENSIONS_PATH/extensions/lds_vault (only found at startup).
ext_src="${LDS_VAULT_SRC:-$lnbits_dir/lds_vault}"
ext_src="$(cd "$ext_src" && pwd)"
ext_dst="$workdir/extroot/extensions/lds_vault"
mkdir -p "$workdir/extroot/extensions" "$workdir/data"
rm -rf "$ext_dst"
if [ "$link" = 1 ]; then
    ln -s "$ext_src" "$ext_dst"
else
    cp -R "$ext_src" "$ext_dst"
    rm -rf "$ext_dst/tests"
    find "$ext_dst" -name __pycache__ -prune -exec rm -rf {} +
fi

log "starting LNbits on $url (work dir $workdir, log $logfile)"
(
    cd "$workdir"
    # Settings come from the environment (and ./.env, which we do not create).
    export LNBITS_DATA_FOLDER="$workdir/data"
    export LNBITS_EXTENSIONS_PATH="$workdir/extroot"
    export LNBITS_EXTENSIONS_DEFAULT_INSTALL=""     # offline: never download extensions
    export LNBITS_BACKEND_WALLET_CLASS=FakeWallet
    export LNBITS_ADMIN_UI=true
    export AUTH_HTTPS_ONLY=false
    export LNBITS_RATE_LIMIT_NO="${LNBITS_RATE_LIMIT_NO:-100000}"  # tests hammer the API
    # offline: no fiat price look-ups on every payment (new wallets default to USD)
    export LNBITS_PRICE_AGGREGATOR_ENABLED="${LNBITS_PRICE_AGGREGATOR_ENABLED:-false}"
    export LNBITS_EXCHANGE_RATE_PROVIDERS="${LNBITS_EXCHANGE_RATE_PROVIDERS:-[]}"
    unset LNBITS_DATABASE_URL                        # SQLite in the data folder
    export HOST=127.0.0.1 PORT="$port"
    # One process (G3: not the `lnbits` supervisor script). exec: the pid is uvicorn's.
    exec nohup "$py" -m uvicorn lnbits.__main__:app --host 127.0.0.1 --port "$port" \
        >"$logfile" 2>&1 </dev/null
) &
pid=$!
echo "$pid" > "$pidfile"

deadline=$(( $(date +%s) + timeout ))
while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "start-lnbits.sh: LNbits (pid $pid) exited during startup; last log lines:" >&2
        tail -n 40 "$logfile" >&2 || true
        rm -f "$pidfile"
        exit 1
    fi
    if "$py" - "$url/api/v1/health" <<'EOF' 2>/dev/null
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
    then
        break
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "start-lnbits.sh: LNbits did not answer $url/api/v1/health within ${timeout}s; last log lines:" >&2
        tail -n 40 "$logfile" >&2 || true
        kill -TERM "$pid" 2>/dev/null || true
        rm -f "$pidfile"
        exit 1
    fi
    sleep 0.3
done

if grep -q "Could not load extension \`lds_vault\`" "$logfile"; then
    log "WARNING: LNbits could not load lds_vault (see $logfile); locks are NOT enforced"
fi
log "LNbits is up (pid $pid)"
echo "LNBITS_PID=$pid LNBITS_URL=$url LNBITS_WORKDIR=$workdir"
