#!/usr/bin/env bash
# `npm run test:k8s`: builds (or reuses) the control plane, starts it unless MAESTRO_TEST_KUBECONFIG points at one
# already running — with a real node and Maestro deployed on it (up.sh) when this machine can run one — runs the
# Kubernetes suite (server/test/k8s) and stops what it started. Extra arguments go to vitest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

# The real node needs root and Debian's containerd, runc, CNI plugins, dnsmasq and docker.io (for the images);
# MAESTRO_K8S_REAL_NODE=0 skips it (then only the kwok suites run, the real-pod suite is skipped).
real_node() {
  [ "${MAESTRO_K8S_REAL_NODE:-1}" != 0 ] && [ "$(id -u)" -eq 0 ] && command -v containerd >/dev/null &&
    command -v dockerd >/dev/null && command -v dnsmasq >/dev/null && [ -x /usr/lib/cni/bridge ]
}
if [ -z "${MAESTRO_TEST_KUBECONFIG:-}" ] && real_node; then
  MAESTRO_K8S_DIR=$(mktemp -u "${TMPDIR:-/tmp}/maestro-k8s-up.XXXXXX")
  export MAESTRO_K8S_DIR
  trap 'bash "$here/up.sh" down' EXIT
  started=$(date +%s)
  bash "$here/up.sh" >"$MAESTRO_K8S_DIR.env"
  # shellcheck disable=SC1090
  source "$MAESTRO_K8S_DIR.env"
  rm -f "$MAESTRO_K8S_DIR.env"
  export MAESTRO_TEST_KUBECONFIG=$KUBECONFIG
  echo "local cluster with a real node and Maestro on it up in $(($(date +%s) - started)) s ($MAESTRO_URL)"
elif [ -z "${MAESTRO_TEST_KUBECONFIG:-}" ]; then
  export K8S_BIN_DIR=${K8S_BIN_DIR:-$(bash "$here/build-binaries.sh" | tail -n 1)}
  run_dir=$(mktemp -d "${TMPDIR:-/tmp}/maestro-k8s.XXXXXX")
  trap 'bash "$here/cluster.sh" down "$run_dir"' EXIT
  started=$(date +%s)
  MAESTRO_TEST_KUBECONFIG=$(bash "$here/cluster.sh" up "$run_dir" | tail -n 1)
  export MAESTRO_TEST_KUBECONFIG
  echo "local control plane up in $(($(date +%s) - started)) s ($MAESTRO_TEST_KUBECONFIG)"
fi
cd "$root/server"
npx vitest run --config "$here/vitest.config.ts" "$@"
