#!/usr/bin/env bash
# A Docker daemon of our own for building images offline, when none answers already.
#
#   dockerd.sh up     prints the DOCKER_HOST to use: $DOCKER_HOST or /var/run/docker.sock when one answers there,
#                     else starts dockerd (Debian's docker.io) with a private data root and socket and prints those.
#   dockerd.sh down   stops the daemon `up` started (nothing else).
#
# The private daemon touches no host networking (no bridge, no iptables): image builds use `--network host`.
# MAESTRO_DOCKER_ROOT (default ~/.cache/maestro-ts/docker) keeps its layers, so rebuilds reuse them.
set -euo pipefail
root=${MAESTRO_DOCKER_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/maestro-ts/docker}
sock=$root/run/docker.sock
pidfile=$root/run/dockerd.pid
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}

answers() { DOCKER_HOST=$1 "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

case ${1:-} in
up)
  if [ -n "${DOCKER_HOST:-}" ] && answers "$DOCKER_HOST"; then
    echo "$DOCKER_HOST"
    exit 0
  fi
  if answers unix:///var/run/docker.sock; then
    echo unix:///var/run/docker.sock
    exit 0
  fi
  if answers "unix://$sock"; then
    echo "unix://$sock"
    exit 0
  fi
  if ! command -v dockerd >/dev/null; then
    echo "dockerd.sh: no dockerd; install Debian's docker.io, containerd and runc (apt-get install docker.io)" >&2
    exit 1
  fi
  mkdir -p "$root/data" "$root/run" "$root/exec"
  # setsid: the daemon outlives this script; `down` stops it by its pid file.
  setsid dockerd --data-root "$root/data" --exec-root "$root/exec" --pidfile "$pidfile" -H "unix://$sock" \
    --bridge=none --iptables=false --ip-masq=false --ip-forward=false \
    --containerd-namespace=maestro-docker --containerd-plugins-namespace=maestro-docker-plugins \
    >"$root/run/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 120); do
    if answers "unix://$sock"; then
      echo "unix://$sock"
      exit 0
    fi
    sleep 0.5
  done
  echo "dockerd did not answer within 60 s:" >&2
  tail -n 30 "$root/run/dockerd.log" >&2
  exit 1
  ;;
down)
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  ;;
*)
  echo "usage: $0 up|down" >&2
  exit 2
  ;;
esac
