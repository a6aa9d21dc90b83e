#!/bin/sh
# Builds target/example-fee.wasm from app.py with componentize-py (pinned in requirements.txt).
# One command: ./build.sh. The tool goes into a virtualenv, target/venv by default;
# REVOPS_PY_VENV shares one between projects, REVOPS_OUT_DIR moves the output.
set -eu
cd "$(dirname "$0")"
venv="${REVOPS_PY_VENV:-target/venv}"
out="${REVOPS_OUT_DIR:-target}"
if ! command -v python3 >/dev/null 2>&1; then
    echo "build.sh: python3 (3.9 or newer, with the venv module) is needed" >&2
    exit 1
fi
if ! cmp -s requirements.txt "$venv/.revops-requirements" 2>/dev/null; then
    echo "build.sh: installing componentize-py into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
    cp requirements.txt "$venv/.revops-requirements"
fi
mkdir -p "$out"
# Build from a copy of the sources (all but target/ and wit/), so that the compiler's
# __pycache__ lands in the output directory, not beside app.py.
src="$out/python-src"
rm -rf "$src"
mkdir -p "$src"
for entry in *; do
    case "$entry" in target | wit | __pycache__) ;; *) cp -R "$entry" "$src/" ;; esac
done
"$venv/bin/componentize-py" --quiet --wit-path wit --world fee-policy \
    componentize app --python-path "$src" --output "$out/example-fee.wasm"
echo "built $out/example-fee.wasm"
