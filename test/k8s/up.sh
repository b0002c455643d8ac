#!/usr/bin/env bash
# The whole local cluster with Maestro on it, for a person or CI:
#   bash test/k8s/up.sh        builds (or reuses) the binaries and images, starts the control plane + kwok nodes
#                              (cluster.sh) + a real node (node.sh), PostgreSQL and Redis for Maestro, applies
#                              deploy/k8s (deploy-maestro.mjs), waits until every Deployment is Ready and prints
#                              `export KUBECONFIG=… MAESTRO_URL=… MAESTRO_ROOMS_URL=… MAESTRO_TOKEN=…` lines (and
#                              MAESTRO_MATCHMAKER_TOKEN for allocations, MAESTRO_NODE_CONTAINERD for `ctr`).
#   bash test/k8s/up.sh down   removes everything `up` started.
#
# MAESTRO_K8S_DIR (default /tmp/maestro-k8s) holds the cluster's files. Needs root (see node.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${MAESTRO_K8S_DIR:-/tmp/maestro-k8s}
NODE_IP=10.88.0.1

stop_pid() {
  local pid
  pid=$(cat "$dir/pids/$1" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

down() {
  [ -d "$dir" ] || return 0
  # The cluster first: Maestro's pods stop while their databases are still there.
  bash "$here/cluster.sh" down "$dir/cluster" || true
  stop_pid redis
  if [ -d "$dir/postgres" ]; then
    runuser -u postgres -- pg_ctl -D "$dir/postgres" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case ${1:-up} in
down)
  down
  exit 0
  ;;
up) ;;
*)
  echo "usage: $0 [up|down]" >&2
  exit 2
  ;;
esac
if [ -e "$dir" ]; then
  echo "up.sh: $dir exists: a cluster is up (bash test/k8s/up.sh down removes it)" >&2
  exit 1
fi
fail() {
  echo "up.sh: $*" >&2
  for f in "$dir"/logs/*.log; do
    [ -e "$f" ] || continue
    echo "--- $f" >&2
    tail -n 30 "$f" >&2
  done
  down
  exit 1
}
t0=$(date +%s)
BIN=$(bash "$here/build-binaries.sh" | tail -n 1)
t_bin=$(date +%s)
images=$(bash "$root/deploy/images.sh" | tail -n 1)
t_img=$(date +%s)
mkdir -p "$dir"/{pids,logs}
chmod 755 "$dir"
# Stop what was started if this script is interrupted before it is done.
trap 'fail "interrupted"' INT TERM

kubeconfig=$(K8S_BIN_DIR=$BIN NODE_IMAGES=$images MAESTRO_K8S_REAL_NODE=1 bash "$here/cluster.sh" up "$dir/cluster" | tail -n 1) ||
  fail "cluster did not come up"
t_cluster=$(date +%s)

# PostgreSQL and Redis on the node's bridge address: the pods reach them, nothing outside this machine does.
command -v initdb >/dev/null || PATH=$PATH:$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
mkdir -p "$dir/postgres" "$dir/pgsock"
chown postgres "$dir/postgres" "$dir/pgsock"
runuser -u postgres -- initdb -D "$dir/postgres" -U maestro -A trust -E UTF8 --no-sync >"$dir/logs/initdb.log" 2>&1 ||
  fail "initdb failed"
runuser -u postgres -- pg_ctl -D "$dir/postgres" -l "$dir/pgsock/postgres.log" -w \
  -o "-h $NODE_IP -p 5432 -k $dir/pgsock -c fsync=off" start >/dev/null || fail "postgres did not start"
printf 'host all all 10.88.0.0/24 trust\n' >>"$dir/postgres/pg_hba.conf"
runuser -u postgres -- pg_ctl -D "$dir/postgres" reload >/dev/null
createdb -h "$NODE_IP" -p 5432 -U maestro maestro || fail "cannot create the maestro database"
setsid redis-server --bind "$NODE_IP" --port 6379 --save '' --appendonly no --protected-mode no \
  >"$dir/logs/redis.log" 2>&1 </dev/null &
echo $! >"$dir/pids/redis"

node "$here/deploy-maestro.mjs" "$kubeconfig" "$NODE_IP:5432" "$NODE_IP:6379" >&2 || fail "Maestro did not become Ready"
t_maestro=$(date +%s)

svc_ip() {
  KUBECONFIG=$kubeconfig node -e '
    const { CoreV1Api, KubeConfig } = require("@kubernetes/client-node");
    const kc = new KubeConfig(); kc.loadFromDefault();
    kc.makeApiClient(CoreV1Api).readNamespacedService({ name: process.argv[1], namespace: "maestro" })
      .then((s) => console.log(s.spec.clusterIP));' "$1"
}
secret() { sed -n "s/^ *$1: *//p" "$root/deploy/k8s/config.yaml" | head -n 1; }
cat >"$dir/env" <<EOF
export KUBECONFIG=$kubeconfig
export MAESTRO_URL=http://$(cd "$root" && svc_ip maestro-management-api):8080
export MAESTRO_ROOMS_URL=http://$(cd "$root" && svc_ip maestro-rooms-api):8070
export MAESTRO_TOKEN=$(secret MAESTRO_MANAGEMENTAPI_WRITETOKENS)
export MAESTRO_MATCHMAKER_TOKEN=$(secret MAESTRO_ROOMSAPI_MATCHMAKERTOKENS)
export MAESTRO_NODE_CONTAINERD=$dir/cluster/node/containerd.sock
EOF
echo "up in $((t_maestro - t0)) s: binaries $((t_bin - t0)) s, images $((t_img - t_bin)) s, cluster + real node $((t_cluster - t_img)) s, Maestro Ready $((t_maestro - t_cluster)) s" >&2
cat "$dir/env"
