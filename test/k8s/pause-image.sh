#!/usr/bin/env bash
# Writes the pod sandbox image `maestro.local/pause:1` as a docker-archive tar (what `ctr images import` reads) from
# the `pause` binary build-binaries.sh made: one layer holding /pause. No daemon, no registry.
#   pause-image.sh <out.tar>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: pause-image.sh <out.tar>}
BIN=${K8S_BIN_DIR:-$(bash "$here/build-binaries.sh" | tail -n 1)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs" "$work/image/layer"
cp "$BIN/pause" "$work/rootfs/pause"
tar -C "$work/rootfs" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work/image/layer/layer.tar" pause
diff_id=$(sha256sum "$work/image/layer/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"test/k8s/pause-image.sh"}]}' \
  "$diff_id" >"$work/image/config.json"
config_id=$(sha256sum "$work/image/config.json" | cut -d' ' -f1)
mv "$work/image/config.json" "$work/image/$config_id.json"
printf '[{"Config":"%s.json","RepoTags":["maestro.local/pause:1"],"Layers":["layer/layer.tar"]}]' "$config_id" \
  >"$work/image/manifest.json"
tar -C "$work/image" -cf "$out" .
echo "$out"
