#!/usr/bin/env bash
# Builds (or reuses) the local cluster used by `npm run test:k8s`: kube-apiserver, kube-controller-manager,
# kube-scheduler, and the real node's kubelet and kube-proxy (from k8s.io/kubernetes through the wrapper module in
# tools/k8s), etcd (wrapper in tools/etcd), kwok, and the pod sandbox's `pause` (tools/pause). Binaries go to a version-keyed directory outside the repo, so a machine builds each version set once
# (cold: tens of minutes on 2 cores) and CI reuses it. Prints the bin directory on its last stdout line.
#
#   K8S_BIN_DIR overrides the cache directory. MAESTRO_K8S_REGEN=1 regenerates the wrapper go.mod/go.sum.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

K8S=v1.36.3
ETCD=v3.6.11
KWOK=v0.8.0
BIN=${K8S_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/maestro-ts/k8s-${K8S}_etcd-${ETCD}_kwok-${KWOK}/bin}

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0
# Be a polite neighbour on a shared machine: one compile job at a time unless told otherwise.
export GOMAXPROCS=${GOMAXPROCS:-2}
GOFLAGS_P=${K8S_BUILD_P:-2}

have() {
  "$BIN/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes $K8S" &&
    "$BIN/kube-controller-manager" --version 2>/dev/null | grep -qx "Kubernetes $K8S" &&
    "$BIN/kube-scheduler" --version 2>/dev/null | grep -qx "Kubernetes $K8S" &&
    "$BIN/kubelet" --version 2>/dev/null | grep -qx "Kubernetes $K8S" &&
    "$BIN/kube-proxy" --version 2>/dev/null | grep -qx "Kubernetes $K8S" && [ -x "$BIN/pause" ] &&
    "$BIN/etcd" --version 2>/dev/null | grep -q "etcd Version: ${ETCD#v}" &&
    [ -x "$BIN/kwok" ] && [ -s "$BIN/kwok-stages.yaml" ]
}

if have; then
  echo "control plane binaries cached in $BIN" >&2
  echo "$BIN"
  exit 0
fi
if ! "$GO" version >/dev/null 2>&1; then
  echo "build-binaries: no Go toolchain at '$GO' (Go >= 1.26 needed once to build the control plane; set GO=/path/to/go)" >&2
  exit 1
fi
mkdir -p "$BIN"
start=$(date +%s)

# --- k8s wrapper module: go.mod requires k8s.io/kubernetes and points every staging module at its published copy.
k8s_mod="$here/tools/k8s"
if [ ! -s "$k8s_mod/go.sum" ] || [ "${MAESTRO_K8S_REGEN:-}" = 1 ]; then
  (
    cd "$k8s_mod"
    stg="v0.${K8S#v1.}"
    GOFLAGS=-mod=mod "$GO" mod download "k8s.io/kubernetes@$K8S"
    modf="$("$GO" env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S.mod"
    printf 'module example.invalid/k8s-bins\n\ngo %s\n' "$(sed -n 's/^go //p' "$modf")" >go.mod
    g=$(sed -n 's/^godebug //p' "$modf")
    if [ -n "$g" ]; then "$GO" mod edit -godebug="$g"; fi
    sed -n 's#^[[:space:]]*\(k8s.io/[^[:space:]]*\) => ./staging/src/.*#\1#p' "$modf" |
      while read -r m; do "$GO" mod edit -replace="$m=$m@$stg"; done
    "$GO" mod edit -require="k8s.io/kubernetes@$K8S"
    GOFLAGS=-mod=mod "$GO" mod tidy
  )
fi

# --- etcd wrapper module: server/go.mod carries monorepo replaces, so `go install` of it cannot work.
etcd_mod="$here/tools/etcd"
if [ ! -s "$etcd_mod/go.sum" ] || [ "${MAESTRO_K8S_REGEN:-}" = 1 ]; then
  (
    cd "$etcd_mod"
    printf 'module example.invalid/etcd-bin\n\ngo 1.26.0\n' >go.mod
    GOFLAGS=-mod=mod "$GO" get "go.etcd.io/etcd/server/v3@$ETCD"
    GOFLAGS=-mod=mod "$GO" mod tidy
  )
fi

minor=${K8S#v1.}
minor=${minor%%.*}
ld="-s -w"
for kv in "gitVersion=$K8S" gitMajor=1 "gitMinor=$minor" gitTreeState=clean "buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; do
  ld="$ld -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
done

have_etcd() { "$BIN/etcd" --version 2>/dev/null | grep -q "etcd Version: ${ETCD#v}"; }
have_k8s() {
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
    "$BIN/$b" --version 2>/dev/null | grep -qx "Kubernetes $K8S" || return 1
  done
}

echo "building pause" >&2
(cd "$here/tools/pause" && "$GO" build -trimpath -ldflags='-s -w' -o "$BIN/pause" .)

have_etcd || echo "building etcd $ETCD" >&2
have_etcd || (cd "$etcd_mod" && "$GO" build -p "$GOFLAGS_P" -mod=readonly -trimpath -ldflags='-s -w' -o "$BIN/etcd" .)

[ -x "$BIN/kwok" ] || echo "building kwok $KWOK" >&2
[ -x "$BIN/kwok" ] || GOBIN=$BIN GOFLAGS=-mod=mod "$GO" install -p "$GOFLAGS_P" -trimpath -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@$KWOK"
stages="$("$GO" env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK/kustomize/stage"
for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  cat "$stages/$f"
  echo '---'
done >"$BIN/kwok-stages.yaml"

echo "building kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy $K8S" >&2
# One `go build` for the five so their shared packages compile once (and only once per machine: the Go build cache
# keeps them when a new command is added).
have_k8s || (cd "$k8s_mod" && "$GO" build -p "$GOFLAGS_P" -mod=readonly -trimpath -tags=selinux,notest,grpcnotrace \
  -ldflags="$ld" -o "$BIN/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)

have || {
  echo "built binaries do not report the expected versions" >&2
  exit 1
}
echo "control plane built in $(($(date +%s) - start)) s into $BIN" >&2
echo "$BIN"
