#!/usr/bin/env bash
# Fuzzes every management API operation with schemathesis (pinned, from PyPI, in a venv under ~/.cache) through the
# API's own /openapi.json, authenticated with a write token through the document's bearer scheme. Fails on any 5xx,
# any 4xx outside the API's error shape, or a server crash. Bounded: examples per operation and wall time.
# Usage: bash test/fuzz/schemathesis.sh   (after the server is built; FUZZ_EXAMPLES, FUZZ_SECONDS tune the bounds)
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=4.32.5
EXAMPLES=${FUZZ_EXAMPLES:-20}
SECONDS_BUDGET=${FUZZ_SECONDS:-240}
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/maestro-ts/schemathesis-$VERSION"
if [ ! -x "$VENV/bin/schemathesis" ]; then
  echo "installing schemathesis $VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$VERSION"
fi

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
data=$(mktemp -d)
mgmt=$(free_port)
token="fuzz-write-$RANDOM$RANDOM"
# Fuzzed schedulers run fuzzed commands: as root, each room gets a throwaway uid of its own.
run_as=""
if [ "$(id -u)" = 0 ]; then run_as=300000-300199; fi

MAESTRO_DATADIR="$data" \
  MAESTRO_MANAGEMENTAPI_PORT="$mgmt" \
  MAESTRO_ROOMSAPI_PORT="$(free_port)" \
  MAESTRO_INTERNALAPI_PORT="$(free_port)" \
  MAESTRO_MANAGEMENTAPI_WRITETOKENS="$token" \
  MAESTRO_LIMITS_ROOMSPERSCHEDULER=3 \
  MAESTRO_RUNTIME_PROCESS_RUNASUSER="$run_as" \
  MAESTRO_LOG_LEVEL=error \
  MAESTRO_LOG_FORMAT=json \
  node server/dist/cli.js start >"$data/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$mgmt/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$data/server.log"; echo "maestro did not start" >&2; exit 1; fi
  sleep 0.2
done

set +e
PYTHONPATH="$PWD/test/fuzz" SCHEMATHESIS_HOOKS=maestro_checks timeout "$SECONDS_BUDGET" \
  "$VENV/bin/schemathesis" run "http://127.0.0.1:$mgmt/openapi.json" \
  --url "http://127.0.0.1:$mgmt" \
  -H "Authorization: Bearer $token" \
  --exclude-path-regex '^/scheduler/' \
  --checks not_a_server_error,maestro_error_shape \
  --max-examples "$EXAMPLES" \
  --workers 1 \
  --request-timeout 10 \
  --generation-deterministic \
  --no-color 2>&1 | tee "$data/schemathesis.log"
status=${PIPESTATUS[0]}
set -e

alive=yes
kill -0 "$server" 2>/dev/null || alive=no
internal=$(grep -c '"request failed"' "$data/server.log" || true)
summary=$(grep -E "passed|failed" "$data/schemathesis.log" | tail -1 | sed 's/=//g' | xargs)
echo "fuzz: schemathesis $VERSION over the management API: ${summary:-no summary}; server alive: $alive; internal errors logged: $internal"
if [ "$status" -eq 124 ]; then echo "schemathesis exceeded ${SECONDS_BUDGET}s" >&2; exit 1; fi
if [ "$alive" != yes ] || [ "$internal" != 0 ]; then tail -50 "$data/server.log" >&2; exit 1; fi
exit "$status"
