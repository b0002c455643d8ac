#!/usr/bin/env bash
# `npm run test:k8s`: builds (or reuses) the control plane, starts it unless MAESTRO_TEST_KUBECONFIG points at one
# already running, runs the Kubernetes suite (server/test/k8s) and stops what it started. Extra arguments go to vitest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${MAESTRO_TEST_KUBECONFIG:-}" ]; then
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
