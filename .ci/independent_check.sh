#!/usr/bin/env bash
# Verify a sample of badges/ signed output with independent implementations from the
# registries: Digital Bazaar's VC libraries (Data Integrity) and jose (VC-JWT).
# Run from the repository root after the Python virtualenv exists at .venv.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
JS_DIR=bench/js

if [ ! -d "$JS_DIR/node_modules" ] || [ "${FORCE_NPM_CI:-0}" = 1 ]; then
    (cd "$JS_DIR" && npm ci --no-audit --no-fund)
fi

samples="$(mktemp "${TMPDIR:-/tmp}/badges-samples.XXXXXX.json")"
trap 'rm -f "$samples"' EXIT

"$PYTHON" "$JS_DIR/make_samples.py" > "$samples"
node "$JS_DIR/verify.mjs" "$samples"
