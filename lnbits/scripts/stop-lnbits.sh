#!/usr/bin/env bash
# Stop an LNbits started by start-lnbits.sh (only the pid in its pid file).
#
# usage: stop-lnbits.sh [--port N] [--workdir DIR]     (same defaults as start-lnbits.sh)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$(dirname "$here")")"
port="${LNBITS_PORT:-5055}"
workdir="${LNBITS_WORKDIR:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="$2"; shift 2 ;;
        --port=*) port="${1#*=}"; shift ;;
        --workdir) workdir="$2"; shift 2 ;;
        --workdir=*) workdir="${1#*=}"; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "stop-lnbits.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
workdir="${workdir:-$repo/target/lnbits-work/$port}"
pidfile="$workdir/lnbits.pid"

if [ ! -f "$pidfile" ]; then
    echo "[stop-lnbits] no pid file $pidfile; nothing to stop" >&2
    exit 0
fi
pid="$(cat "$pidfile")"
if ! kill -0 "$pid" 2>/dev/null; then
    echo "[stop-lnbits] pid $pid is not running; removing stale $pidfile" >&2
    rm -f "$pidfile"
    exit 0
fi
# Refuse to signal a recycled pid that is not our uvicorn.
if [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'uvicorn lnbits.__main__:app'; then
    echo "[stop-lnbits] pid $pid is not an LNbits uvicorn process; not killing it" >&2
    rm -f "$pidfile"
    exit 1
fi
kill -TERM "$pid"
for _ in $(seq 1 150); do            # graceful shutdown takes ~2-3 s
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
    echo "[stop-lnbits] pid $pid still alive after 15 s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$pidfile"
echo "[stop-lnbits] stopped LNbits pid $pid" >&2
