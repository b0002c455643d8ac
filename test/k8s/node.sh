#!/usr/bin/env bash
# A real node for the local control plane (cluster.sh): containerd + runc run the pods, the CNI bridge plugin wires
# them to a bridge of ours (with portmap, so host ports work), kube-proxy makes Services work, dnsmasq answers the
# cluster's Service names, and kubelet joins it all to the API server as node `real-node-0`.
#
#   node.sh up <cluster dir>     after `cluster.sh up <cluster dir>`; the node's files go to <cluster dir>/node.
#   node.sh down <cluster dir>   removes the node: its pods, processes, bridge, iptables rules and files.
#
# Addresses: the bridge `mstr0` (10.88.0.1/24) is the node's address and the pods' gateway; nothing else outside
# loopback is used. One real node per machine (the bridge and the iptables rules are the machine's).
# The node is tainted `dedicated=real-node:NoSchedule` and labelled `real-node=true`, so only pods asking for it land
# there (a scheduler's `toleration`/`affinity` of `real-node`) and kwok's fake nodes keep every other pod.
# Needs root, Debian's containerd, runc, containernetworking-plugins, iptables, conntrack, dnsmasq-base, and kubelet
# and kube-proxy in K8S_BIN_DIR (build-binaries.sh builds them); images to load are the tar files in $NODE_IMAGES.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
  echo "usage: $0 up|down <cluster dir>" >&2
  exit 2
}
dir=$(cd "$dir" && pwd)
nd=$dir/node
NODE=real-node-0
BR=mstr0
NODE_IP=10.88.0.1
POD_CIDR=10.88.0.0/24
CTR=(ctr --address "$nd/containerd.sock" -n k8s.io)

stop_pid() {
  local pid
  pid=$(cat "$nd/pids/$1" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$nd/pids/$1"
}

# Rules and chains kubelet, kube-proxy and the CNI plugins leave in the machine's tables (KUBE-*, CNI-*).
clean_tables() {
  local ipt t rule chain
  for ipt in iptables ip6tables; do
    for t in nat filter mangle; do
      { "$ipt" -t "$t" -S 2>/dev/null || true; } | { grep -E '^-A [A-Z]+ .*-j (KUBE|CNI)-' || true; } |
        sed 's/^-A/-D/' | while read -r rule; do eval "$ipt" -t "$t" "$rule" 2>/dev/null || true; done
      for chain in $({ "$ipt" -t "$t" -S 2>/dev/null || true; } | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
        "$ipt" -t "$t" -F "$chain" 2>/dev/null || true
      done
      for chain in $({ "$ipt" -t "$t" -S 2>/dev/null || true; } | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
        "$ipt" -t "$t" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

down() {
  [ -d "$nd" ] || return 0
  set +e
  local api
  api=$(sed -n 's/.*server: "\(https:[^"]*\)".*/\1/p' "$dir/admin.kubeconfig" | head -1)
  local curl=(curl -fsS --max-time 10 --cacert "$dir/pki/ca.crt" --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key")
  local on_node="$api/api/v1/pods?fieldSelector=spec.nodeName=$NODE"
  count_pods() { "${curl[@]}" "$on_node" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).items.length))'; }
  # Pods go through kubelet, so their sandboxes' networks are torn down by the CNI plugins, not left behind.
  if [ -s "$nd/pids/kubelet" ] && "${curl[@]}" "$api/readyz" >/dev/null 2>&1; then
    # Cordoned first, so the replacements controllers make for deleted pods do not land here again.
    "${curl[@]}" -X PATCH -H 'Content-Type: application/merge-patch+json' --data '{"spec":{"unschedulable":true}}' \
      "$api/api/v1/nodes/$NODE" >/dev/null 2>&1
    "${curl[@]}" "$on_node" |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const p of JSON.parse(s).items)console.log(p.metadata.namespace+" "+p.metadata.name)})' |
      while read -r ns name; do
        "${curl[@]}" -X DELETE -H 'Content-Type: application/json' --data '{"gracePeriodSeconds":1}' \
          "$api/api/v1/namespaces/$ns/pods/$name" >/dev/null 2>&1
      done
    # Kubelet confirms each deletion once the pod's containers are stopped and its sandbox is gone.
    for _ in $(seq 120); do
      [ "$(count_pods 2>/dev/null)" = 0 ] && break
      sleep 0.5
    done
    "${curl[@]}" -X DELETE "$api/api/v1/nodes/$NODE" >/dev/null 2>&1
  fi
  stop_pid dns-hosts
  stop_pid kubelet
  stop_pid kube-proxy
  # Whatever kubelet did not get to: kill and remove it directly.
  for c in $("${CTR[@]}" containers ls -q 2>/dev/null); do
    "${CTR[@]}" tasks kill -s SIGKILL "$c" >/dev/null 2>&1
    "${CTR[@]}" tasks delete -f "$c" >/dev/null 2>&1
    "${CTR[@]}" containers delete "$c" >/dev/null 2>&1
  done
  stop_pid containerd
  stop_pid dnsmasq
  stop_pid apiserver-proxy
  local bin=${K8S_BIN_DIR:-$(cat "$nd/bin-dir" 2>/dev/null)}
  if [ -x "$bin/kube-proxy" ]; then "$bin/kube-proxy" --cleanup >/dev/null 2>&1; fi
  clean_tables
  # Mounts under the node's directories (pod volumes, container root file systems) and sandboxes' network
  # namespaces CNI did not get to delete (containerd names them cni-*).
  findmnt -rn -o TARGET | grep -E "^$nd/" | sort -r | while read -r m; do umount -l "$m"; done
  for ns in $(cat "$nd/netns-before" 2>/dev/null | sort | comm -13 - <(ls /run/netns 2>/dev/null | sort)); do
    case $ns in cni-*) ip netns delete "$ns" ;; esac
  done
  ip link delete "$BR" 2>/dev/null
  if [ -s "$nd/ip_forward" ]; then sysctl -qw net.ipv4.ip_forward="$(cat "$nd/ip_forward")"; fi
  rm -rf "$nd"
  set -e
}

if [ "$cmd" = down ]; then
  down
  exit 0
fi
[ "$cmd" = up ] || {
  echo "unknown command $cmd" >&2
  exit 2
}
[ "$(id -u)" -eq 0 ] || {
  echo "node.sh: a real node needs root (containerd, network namespaces, iptables)" >&2
  exit 1
}
for tool in containerd containerd-shim-runc-v2 runc ctr iptables conntrack dnsmasq socat; do
  command -v "$tool" >/dev/null || {
    echo "node.sh: $tool is missing (apt-get install containerd runc containernetworking-plugins iptables conntrack dnsmasq-base socat)" >&2
    exit 1
  }
done
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/portmap ] || {
  echo "node.sh: CNI plugins missing (apt-get install containernetworking-plugins)" >&2
  exit 1
}
if ip link show "$BR" >/dev/null 2>&1; then
  echo "node.sh: bridge $BR exists: another real node runs on this machine (node.sh down <its dir>)" >&2
  exit 1
fi
BIN=${K8S_BIN_DIR:-$(bash "$here/build-binaries.sh" | tail -n 1)}
for b in kubelet kube-proxy; do
  [ -x "$BIN/$b" ] || {
    echo "node.sh: $BIN/$b missing (bash test/k8s/build-binaries.sh builds it)" >&2
    exit 1
  }
done
mkdir -p "$nd"/{pids,logs,cni/net.d,cni/ipam,containerd,kubelet,pod-logs}
echo "$BIN" >"$nd/bin-dir"
ls /run/netns >"$nd/netns-before" 2>/dev/null || true
API=$(sed -n 's/.*server: "\(https:[^"]*\)".*/\1/p' "$dir/admin.kubeconfig" | head -1)
AP=${API##*:}
CURL=(curl -fsS --cacert "$dir/pki/ca.crt" --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key")

fail() {
  echo "real node failed to start: $*" >&2
  for f in "$nd"/logs/*.log; do
    echo "--- $f" >&2
    tail -n 30 "$f" >&2
  done
  down
  exit 1
}
start() {
  local name=$1
  shift
  setsid "$@" >"$nd/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$nd/pids/$name"
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
read -r KUBELET_PORT KUBELET_HEALTHZ PROXY_HEALTHZ PROXY_METRICS < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks: s.close()')

# --- network: the bridge (node address + pods' gateway); Service traffic between pods of the bridge is routed.
ip link add "$BR" type bridge
ip addr add "$NODE_IP/24" dev "$BR"
ip link set "$BR" up
cat /proc/sys/net/ipv4/ip_forward >"$nd/ip_forward"
sysctl -qw net.ipv4.ip_forward=1
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || fail "br_netfilter is not loaded (modprobe br_netfilter)"
sysctl -qw net.bridge.bridge-nf-call-iptables=1
cat >"$nd/cni/net.d/10-maestro.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "maestro-node", "plugins": [
  {"type": "bridge", "bridge": "$BR", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$nd/cni/ipam", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}
]}
EOF

# Pods reach the API server (Service `kubernetes`) at the node's address; it listens on loopback only.
start apiserver-proxy socat "TCP-LISTEN:$AP,bind=$NODE_IP,fork,reuseaddr" "TCP:127.0.0.1:$AP"

# --- cluster DNS: the Services' names, from a hosts file kept up to date by dns-hosts (see below).
: >"$nd/dns-hosts"
printf 'nameserver %s\noptions ndots:5\n' "$NODE_IP" >"$nd/resolv.conf"
start dnsmasq dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces --listen-address="$NODE_IP" \
  --except-interface=lo --addn-hosts="$nd/dns-hosts" --local=/cluster.local/ --domain-needed --log-facility=- \
  --pid-file=

# --- container runtime
cat >"$nd/containerd.toml" <<EOF
version = 2
root = "$nd/containerd/root"
state = "$nd/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$nd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "maestro.local/pause:1"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  # This machine does not let even root lower an oom_score_adj (runc's -998 for sandboxes fails): keep ours as floor.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$nd/cni/net.d"
EOF
start containerd containerd --config "$nd/containerd.toml"
waitfor 60 "${CTR[@]}" version || fail "containerd not answering"

# The pod sandbox image (no registry serves registry.k8s.io/pause here) and the images to run.
images=${NODE_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/maestro-ts/images}
bash "$here/pause-image.sh" "$nd/pause.tar" >/dev/null || fail "cannot build the pause image"
for tar in "$nd/pause.tar" "$images"/*.tar; do
  [ -s "$tar" ] || continue
  "${CTR[@]}" images import "$tar" >/dev/null || fail "cannot import $tar"
done

# --- kubelet
cat >"$nd/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ
containerRuntimeEndpoint: unix://$nd/containerd.sock
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [$NODE_IP]
resolvConf: $nd/resolv.conf
podLogsDir: $nd/pod-logs
maxPods: 250
failSwapOn: false
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 50Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
registerWithTaints: [{key: dedicated, value: real-node, effect: NoSchedule}]
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
fileCheckFrequency: 10s
EOF
start kubelet "$BIN/kubelet" --config="$nd/kubelet.yaml" --kubeconfig="$dir/admin.kubeconfig" \
  --root-dir="$nd/kubelet" --cert-dir="$nd/kubelet/pki" --hostname-override="$NODE" --node-ip="$NODE_IP" \
  --node-labels=real-node=true,type=real
node_ready() {
  "${CURL[@]}" "$API/api/v1/nodes/$NODE" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const n = JSON.parse(s);
      process.exit((n.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True") ? 0 : 1);
    });'
}
waitfor 240 node_ready || fail "kubelet's node $NODE not Ready"

# --- kube-proxy
cat >"$nd/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $dir/admin.kubeconfig}
hostnameOverride: $NODE
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:$PROXY_HEALTHZ
metricsBindAddress: 127.0.0.1:$PROXY_METRICS
nodePortAddresses: [$NODE_IP/32]
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false, syncPeriod: 5s, minSyncPeriod: 0s}
EOF
start kube-proxy "$BIN/kube-proxy" --config="$nd/kube-proxy.yaml"
waitfor 120 curl -fsS "http://127.0.0.1:$PROXY_HEALTHZ/healthz" || fail "kube-proxy not healthy"

# The `kubernetes` Service points at the node-side forwarder (the API server's endpoint reconciler is off).
cat <<EOF | "${CURL[@]}" -H 'Content-Type: application/json' -X POST --data-binary @- \
  "$API/apis/discovery.k8s.io/v1/namespaces/default/endpointslices" >/dev/null || fail "cannot create the kubernetes EndpointSlice"
{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
 "metadata":{"name":"kubernetes","namespace":"default","labels":{"kubernetes.io/service-name":"kubernetes","endpointslice.kubernetes.io/managed-by":"maestro-test-node"}},
 "addressType":"IPv4","endpoints":[{"addresses":["$NODE_IP"],"conditions":{"ready":true}}],
 "ports":[{"name":"https","port":$AP,"protocol":"TCP"}]}
EOF

# Service names: dns-hosts rewrites the hosts file from the Services every few seconds (dnsmasq rereads it on HUP).
start dns-hosts node "$here/dns-hosts.mjs" "$dir/admin.kubeconfig" "$nd/dns-hosts" "$nd/pids/dnsmasq"
echo "$NODE"
