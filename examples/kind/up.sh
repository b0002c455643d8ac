#!/usr/bin/env bash
# Maestro on a local kind cluster: builds the images, loads them into kind, applies deploy/k8s and forwards the
# management API to localhost:8080. Needs Docker, kind and kubectl. Not run in CI (CI uses test/k8s instead).
#
#   examples/kind/up.sh            create cluster `maestro` (if absent), deploy, port-forward
#   examples/kind/up.sh down       delete the cluster
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cluster=${KIND_CLUSTER:-maestro}

for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || {
    echo "$tool is required" >&2
    exit 1
  }
done

if [ "${1:-}" = down ]; then
  kind delete cluster --name "$cluster"
  exit 0
fi

if ! kind get clusters | grep -qx "$cluster"; then
  kind create cluster --name "$cluster" --config "$root/examples/kind/cluster.yaml"
fi
kubectl config use-context "kind-$cluster" >/dev/null

docker build -f "$root/deploy/Dockerfile" --target server -t maestro:dev "$root"
docker build -f "$root/deploy/Dockerfile" --target game-room -t maestro-game-room:dev "$root"
kind load docker-image --name "$cluster" maestro:dev maestro-game-room:dev

kubectl apply -k "$root/deploy/k8s"
kubectl -n maestro rollout status deploy/maestro-postgres deploy/maestro-redis --timeout=180s
# The modules start once their storage is there; restart them in case they gave up waiting.
kubectl -n maestro rollout restart deploy -l app.kubernetes.io/name=maestro
kubectl -n maestro rollout status deploy -l app.kubernetes.io/name=maestro --timeout=180s 2>/dev/null ||
  kubectl -n maestro get pods

echo "management API on http://127.0.0.1:8080 (token: change-me-write-token); Ctrl-C stops the port-forward"
kubectl -n maestro port-forward svc/maestro-management-api 8080:8080
