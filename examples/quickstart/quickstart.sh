#!/usr/bin/env bash
# The README's quick start in one go: build, start Maestro (embedded default) unless it is running, apply the example
# scheduler, wait for ready rooms, allocate one and play a round with the example matchmaker.
#
#   examples/quickstart/quickstart.sh
#
# Environment: MAESTRO_URL / MAESTRO_ROOMS_URL (default http://127.0.0.1:8080 / :8070; a Maestro started here listens
# on their ports), MAESTRO_DATA_DIR (default .maestro; also holds quickstart.log and quickstart.pid),
# MAESTRO_INTERNAL_PORT (default 8081), HOLD_MS (how long the round keeps the room occupied, default 3000),
# QUICKSTART_SKIP_BUILD=1 to skip the build.
set -euo pipefail
cd "$(dirname "$0")/../.."

export MAESTRO_URL="${MAESTRO_URL:-http://127.0.0.1:8080}"
export MAESTRO_ROOMS_URL="${MAESTRO_ROOMS_URL:-http://127.0.0.1:8070}"
DATA_DIR="${MAESTRO_DATA_DIR:-.maestro}"
HOLD_MS="${HOLD_MS:-3000}"
SCHEDULER=my-game

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
maestroctl() { node sdk-management/bin/maestroctl.js "$@"; }
matchmaker() { node examples/matchmaker/dist/main.js "$@"; }
# Reads one field of the JSON on stdin: json_field roomId
json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v?.[k];console.log(v??"")})' "$1"; }
reachable() { node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$MAESTRO_URL/readyz"; }

if [ "${QUICKSTART_SKIP_BUILD:-}" != "1" ]; then
  step "Building Maestro, maestroctl and the examples (JavaScript only, as npm start does)"
  npx turbo run build:js --filter=@maestro/server... --filter=@maestro/sdk-management... \
    --filter=@maestro/example-game-room... --filter=@maestro/example-matchmaker... --output-logs=errors-only
fi

if reachable; then
  step "Maestro is already running at $MAESTRO_URL"
elif [[ "$MAESTRO_URL" =~ ^http://(127\.0\.0\.1|localhost):([0-9]+)$ ]]; then
  management_port="${BASH_REMATCH[2]}"
  rooms_port="$(node -e 'console.log(new URL(process.argv[1]).port || 80)' "$MAESTRO_ROOMS_URL")"
  step "Starting Maestro on the embedded default (data in $DATA_DIR, log in $DATA_DIR/quickstart.log)"
  mkdir -p "$DATA_DIR"
  nohup node server/dist/cli.js start --data-dir "$DATA_DIR" --management-port "$management_port" \
    --rooms-port "$rooms_port" --internal-port "${MAESTRO_INTERNAL_PORT:-8081}" >"$DATA_DIR/quickstart.log" 2>&1 &
  echo $! >"$DATA_DIR/quickstart.pid"
  for _ in $(seq 1 120); do reachable && break; sleep 0.5; done
  reachable || { echo "Maestro did not start; see $DATA_DIR/quickstart.log" >&2; exit 1; }
  echo "Maestro runs as pid $(cat "$DATA_DIR/quickstart.pid"); stop it with: kill \$(cat $DATA_DIR/quickstart.pid)"
else
  echo "Nothing answers at $MAESTRO_URL; start Maestro there first (npm start)." >&2
  exit 1
fi

if maestroctl schedulers get "$SCHEDULER" >/dev/null 2>&1; then
  step "Scheduler $SCHEDULER exists already"
else
  step "maestroctl apply -f examples/game-room/scheduler.yaml --wait-ready"
  maestroctl apply -f examples/game-room/scheduler.yaml --wait-ready
fi

step "maestroctl rooms list $SCHEDULER (waiting for a ready room)"
for _ in $(seq 1 120); do
  maestroctl rooms list "$SCHEDULER" --status ready -o json | grep -q '"id"' && break
  sleep 0.5
done
maestroctl rooms list "$SCHEDULER"

step "maestroctl allocate $SCHEDULER"
allocation="$(maestroctl allocate "$SCHEDULER" -o json)"
room="$(json_field roomId <<<"$allocation")"
host="$(json_field host <<<"$allocation")"
port="$(node -e 'const a=JSON.parse(process.argv[1]);console.log((a.ports.find(p=>p.name==="game")??a.ports[0]).port)' "$allocation")"
echo "room $room, game port $host:$port"
maestroctl rooms get "$SCHEDULER" "$room" -o json | json_field status | sed 's/^/status: /'

step "Playing a round: matchmaker play --address $host:$port (holding the match ${HOLD_MS} ms)"
matchmaker play --address "$host:$port" --hold-ms "$HOLD_MS" &
player=$!
seen=""
while kill -0 "$player" 2>/dev/null; do
  seen="$(maestroctl rooms get "$SCHEDULER" "$room" -o json | json_field status)"
  [ "$seen" = "occupied" ] && break
  sleep 0.25
done
if [ "$seen" = "occupied" ]; then
  echo "while the client is connected, room $room is: occupied"
else
  echo "(the round ended before the room's status was read; try HOLD_MS=10000)"
fi
wait "$player"

for _ in $(seq 1 60); do
  status="$(maestroctl rooms get "$SCHEDULER" "$room" -o json | json_field status)"
  [ "$status" = "ready" ] && break
  sleep 0.25
done
echo "after the round, room $room is: $status"

step "Done"
cat <<EOT
What happened: Maestro runs $SCHEDULER's rooms as local processes of examples/game-room; the allocation reserved
room $room; the client's connection made the room report itself occupied (room SDK), and its departure ready again.
Next: maestroctl --help, node examples/matchmaker/dist/main.js --help, and the README's other sections.
EOT
