#!/usr/bin/env bash
# A local Kubernetes control plane on loopback for the Kubernetes runtime's tests: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (two fake nodes). No container runtime: kwok plays the kubelet.
#
#   cluster.sh up <dir>    starts it; <dir> gets the PKI, admin.kubeconfig, logs and pids. Prints the kubeconfig path.
#   cluster.sh down <dir>  stops what `up` started there and removes <dir>.
#
# K8S_BIN_DIR (default: what build-binaries.sh prints) says where the binaries are.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
  echo "usage: $0 up|down <dir>" >&2
  exit 2
}

down() {
  [ -d "$dir" ] || return 0
  # The real node first, while the API server can still tell its kubelet to stop the pods.
  if [ -d "$dir/node" ]; then bash "$here/node.sh" down "$dir" || true; fi
  # Reverse start order, so nothing restarts pods or nodes while the API server goes away.
  for name in kwok scheduler kcm apiserver etcd; do
    pid=$(cat "$dir/pids/$name" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  # etcd's data lives in /dev/shm when it can (see `up`); the link in <dir> points at it.
  if [ -L "$dir/etcd-data" ]; then rm -rf "$(readlink "$dir/etcd-data")"; fi
  rm -rf "$dir"
}

if [ "$cmd" = down ]; then
  down
  exit 0
fi
[ "$cmd" = up ] || {
  echo "unknown command $cmd" >&2
  exit 2
}

BIN=${K8S_BIN_DIR:-$(bash "$here/build-binaries.sh" | tail -n 1)}
mkdir -p "$dir"/{pki,logs,pids}
dir=$(cd "$dir" && pwd)

fail() {
  echo "local cluster failed to start: $*" >&2
  for f in "$dir"/logs/*.log; do
    echo "--- $f" >&2
    tail -n 30 "$f" >&2
  done
  down
  exit 1
}

# Free loopback ports, chosen by the kernel, so that several runs (or other users of the machine) never collide.
read -r EP PP AP KCMP SP KP < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks: s.close()')

# --- PKI: one CA, one admin certificate (system:masters) for serving and every client, a service-account key pair.
(
  cd "$dir/pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=maestro-test-ca" -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=maestro-test-admin" -keyout admin.key \
    -out admin.csr 2>/dev/null
  printf 'subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1,IP:10.88.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >ext.cnf
  openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile ext.cnf \
    -out admin.crt 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
)
b64() { base64 -w0 "$1"; }
cat >"$dir/admin.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$AP", certificate-authority-data: "$(b64 "$dir/pki/ca.crt")"}}]
users: [{name: admin, user: {client-certificate-data: "$(b64 "$dir/pki/admin.crt")", client-key-data: "$(b64 "$dir/pki/admin.key")"}}]
contexts: [{name: local, context: {cluster: local, user: admin}}]
current-context: local
EOF
cat >"$dir/scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection: {kubeconfig: "$dir/admin.kubeconfig", qps: 500, burst: 1000}
leaderElection: {leaderElect: false}
EOF

start() {
  local name=$1
  shift
  # setsid: the components outlive this script (the caller stops them with `down`), in a session of their own.
  setsid "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$name"
}
waitfor() {
  local tries=$1
  shift
  for _ in $(seq "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}
CURL=(curl -fsS --cacert "$dir/pki/ca.crt" --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key")
API=https://127.0.0.1:$AP

mkdir -p /dev/shm 2>/dev/null || true
data=$dir/etcd
if [ -w /dev/shm ]; then data=$(mktemp -d /dev/shm/maestro-etcd.XXXXXX); ln -s "$data" "$dir/etcd-data"; fi
start etcd "$BIN/etcd" --name=node0 --data-dir="$data" \
  --listen-client-urls="http://127.0.0.1:$EP" --advertise-client-urls="http://127.0.0.1:$EP" \
  --listen-peer-urls="http://127.0.0.1:$PP" --initial-advertise-peer-urls="http://127.0.0.1:$PP" \
  --initial-cluster="node0=http://127.0.0.1:$PP" --auto-compaction-retention=1 \
  --quota-backend-bytes=8589934592 --unsafe-no-fsync --log-level=warn
waitfor 60 curl -fsS "http://127.0.0.1:$EP/health" || fail "etcd not healthy"

# --advertise-address: any address works with the `none` endpoint reconciler, and it spares the default-route lookup.
start apiserver "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$EP" --bind-address=127.0.0.1 \
  --secure-port="$AP" --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
  --tls-cert-file="$dir/pki/admin.crt" --tls-private-key-file="$dir/pki/admin.key" --client-ca-file="$dir/pki/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$dir/pki/sa.pub" --service-account-signing-key-file="$dir/pki/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 --authorization-mode=RBAC --allow-privileged=true \
  --kubelet-client-certificate="$dir/pki/admin.crt" --kubelet-client-key="$dir/pki/admin.key" \
  --kubelet-preferred-address-types=InternalIP \
  --disable-admission-plugins=TaintNodesByCondition \
  --max-requests-inflight=0 --max-mutating-requests-inflight=0 --enable-priority-and-fairness=false
waitfor 240 sh -c "${CURL[*]} $API/readyz | grep -qx ok" || fail "kube-apiserver not ready"

start kcm "$BIN/kube-controller-manager" --kubeconfig="$dir/admin.kubeconfig" --leader-elect=false \
  --bind-address=127.0.0.1 --secure-port="$KCMP" \
  --controllers=namespace-controller,garbage-collector-controller,serviceaccount-controller,disruption-controller,deployment-controller,replicaset-controller,endpointslice-controller,root-ca-certificate-publisher-controller \
  --root-ca-file="$dir/pki/ca.crt" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics --kube-api-qps=500 --kube-api-burst=1000
start scheduler "$BIN/kube-scheduler" --config="$dir/scheduler.yaml" --bind-address=127.0.0.1 --secure-port="$SP" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics
# kwok's default stages plus ours (test/k8s/kwok/*.yaml). kwok plays pod stages 4 at a time and rate-limits its client
# by default: 10,000 pods then waited minutes for their Running status. Each stage is one PATCH whose answer takes up to
# a second on a loaded machine, so many go at once. A given options block replaces kwok's defaults: all are set here.
{
  cat <<'EOF2'
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  podPlayStageParallelism: 64
  nodePlayStageParallelism: 4
  nodeLeaseParallelism: 4
  podsOnNodeSyncParallelism: 4
  heartbeatFactor: 5
  disableQPSLimits: true
---
EOF2
  cat "$BIN/kwok-stages.yaml"
  for f in "$here"/kwok/*.yaml; do
    cat "$f"
    echo '---'
  done
} >"$dir/kwok.yaml"
start kwok "$BIN/kwok" --kubeconfig="$dir/admin.kubeconfig" --config="$dir/kwok.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --cidr=10.244.0.0/16 --node-lease-duration-seconds=40 --server-address="127.0.0.1:$KP" -v=WARN
waitfor 120 curl -fsk "https://127.0.0.1:$KCMP/healthz" || fail "kube-controller-manager not healthy"
waitfor 120 curl -fsk "https://127.0.0.1:$SP/healthz" || fail "kube-scheduler not healthy"

# Two fake nodes. Addresses are documentation ranges (RFC 5737): data only, nothing ever dials them.
for n in 0 1; do
  cat <<EOF | "${CURL[@]}" -H 'Content-Type: application/json' -X POST --data-binary @- "$API/api/v1/nodes" >/dev/null || fail "cannot create node $n"
{"apiVersion":"v1","kind":"Node",
 "metadata":{"name":"kwok-node-$n","annotations":{"kwok.x-k8s.io/node":"fake","node.alpha.kubernetes.io/ttl":"0"},
   "labels":{"kubernetes.io/hostname":"kwok-node-$n","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","type":"kwok"}},
 "status":{"capacity":{"cpu":"1000","memory":"4Ti","pods":"20000"},"allocatable":{"cpu":"1000","memory":"4Ti","pods":"20000"},
   "addresses":[{"type":"InternalIP","address":"192.0.2.$((10 + n))"},{"type":"ExternalIP","address":"203.0.113.$((10 + n))"},
                {"type":"Hostname","address":"kwok-node-$n"}],
   "nodeInfo":{"architecture":"amd64","operatingSystem":"linux","kubeletVersion":"fake","kubeProxyVersion":"fake",
     "containerRuntimeVersion":"kwok","kernelVersion":"","osImage":"","bootID":"","machineID":"","systemUUID":""}}}
EOF
done
nodes_ready() {
  "${CURL[@]}" "$API/api/v1/nodes" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const ready = JSON.parse(s).items.filter((n) => (n.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"));
      process.exit(ready.length >= 2 ? 0 : 1);
    });'
}
waitfor 120 nodes_ready || fail "kwok nodes not ready"
# The default service account is what pod admission waits for in a new namespace; make sure its controller runs.
waitfor 120 "${CURL[@]}" "$API/api/v1/namespaces/default/serviceaccounts/default" || fail "no default service account"
# A real node too (kubelet, containerd, CNI, kube-proxy) when asked: see node.sh.
if [ "${MAESTRO_K8S_REAL_NODE:-}" = 1 ]; then
  K8S_BIN_DIR=$BIN bash "$here/node.sh" up "$dir" >/dev/null || fail "real node"
fi
echo "$dir/admin.kubeconfig"
