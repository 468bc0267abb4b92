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

# Compact signed badges (BL1, COSE_Sign1 signed with pycose): @auth0/cose verifies them.
"$PYTHON" "$JS_DIR/make_compact_samples.py" > "$samples"
node "$JS_DIR/verify_compact.mjs" "$samples"

# OpenID4VCI: an independent wallet (Sphereon's @sphereon/oid4vci-client) takes offers from a running
# Blason (demo data, a loopback port, a throw-away instance), obtains the badge in both formats with
# its own holder keys, and sees a replayed code, a wrong transaction code, a stale nonce and a proof
# signed by another key refused; badges.verify and verify.mjs then verify what it received.
instance="$(mktemp -d "${TMPDIR:-/tmp}/blason-oid4vci.XXXXXX")"
port="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
server_pid=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill -- "-$server_pid" 2>/dev/null || kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$instance"
    rm -f "$samples"
}
trap stop_server EXIT

echo "== OpenID4VCI: starting Blason on $base"
BLASON_ENV=development BLASON_INSTANCE_DIR="$instance" BLASON_PUBLIC_BASE_URL="$base" BLASON_LOG_LEVEL=WARNING \
    setsid "$(dirname "$PYTHON")/flask" --app wsgi blason serve --host 127.0.0.1 --port "$port" --no-worker \
    > "$instance/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 120); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$instance/server.log" >&2
        echo "Blason did not start" >&2
        exit 1
    fi
    sleep 1
done
curl -sf "$base/healthz" >/dev/null || { cat "$instance/server.log" >&2; echo "Blason did not answer" >&2; exit 1; }

"$PYTHON" "$JS_DIR/oid4vci_live.py" offers "$base" > "$instance/offers.json"
(cd "$JS_DIR" && node oid4vci_client.mjs "$instance/offers.json" "$instance/received.json" > "$instance/client.log")
"$PYTHON" "$JS_DIR/oid4vci_live.py" check "$base" "$instance/received.json" "$instance/samples.json"
node "$JS_DIR/verify.mjs" "$instance/samples.json"
echo "== OpenID4VCI: the independent wallet's checks passed"
