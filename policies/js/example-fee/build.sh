#!/bin/sh
# Builds target/example-fee.wasm from policy.js with ComponentizeJS (pinned in package.json and
# package-lock.json). One command: ./build.sh. The tools go into node_modules here;
# REVOPS_JS_TOOLS shares one install between projects, REVOPS_OUT_DIR moves the output.
set -eu
cd "$(dirname "$0")"
here=$(pwd)
tools="${REVOPS_JS_TOOLS:-$here}"
out="${REVOPS_OUT_DIR:-target}"
if ! command -v npm >/dev/null 2>&1; then
    echo "build.sh: node and npm (Node.js 18 or newer) are needed" >&2
    exit 1
fi
if ! cmp -s package-lock.json "$tools/node_modules/.revops-lock" 2>/dev/null; then
    echo "build.sh: installing ComponentizeJS into $tools/node_modules" >&2
    mkdir -p "$tools"
    if [ "$tools" != "$here" ]; then
        cp package.json package-lock.json "$tools/"
    fi
    # Exactly the versions of package-lock.json, which is left unchanged. (Not `npm ci`: jco's
    # optional per-platform packages name versions that were never published, and `npm ci`
    # refuses any lock file that cannot list them.)
    (cd "$tools" && npm install --no-save --silent --no-audit --no-fund)
    cp package-lock.json "$tools/node_modules/.revops-lock"
fi
mkdir -p "$out"
# No WASI features: the component imports nothing but revops' own logging.
"$tools/node_modules/.bin/componentize-js" --wit wit --world-name fee-policy \
    --disable random stdio clocks http fetch-event \
    --out "$out/example-fee.wasm" policy.js
echo "built $out/example-fee.wasm"
