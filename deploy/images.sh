#!/usr/bin/env bash
# `npm run images`: builds maestro:dev and maestro-game-room:dev from deploy/Dockerfile without any registry.
#
# The Dockerfile's base (node:20-bookworm-slim) cannot be pulled here, so a stand-in is made from this machine:
# its Node 20 binary and npm, dash as /bin/sh, a dozen coreutils and the shared libraries they load — no distribution —
# imported with `docker import` under the name the Dockerfile asks for. npm inside the build reaches the npm registry
# through the host's network (`--network host`). Then both images are saved as tar files (what the local cluster's
# node imports into its container runtime) next to the daemon's data.
#
#   IMAGES_OUT   where the tar files go (default ~/.cache/maestro-ts/images)
#   DOCKER_HOST  a daemon to use; otherwise deploy/dockerd.sh starts one and this script stops it at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${IMAGES_OUT:-${XDG_CACHE_HOME:-$HOME/.cache}/maestro-ts/images}
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
BASE=node:20-bookworm-slim

started_here=
if [ -z "${DOCKER_HOST:-}" ] || ! "$DOCKER" version >/dev/null 2>&1; then
  pid_before=$(cat "${MAESTRO_DOCKER_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/maestro-ts/docker}/run/dockerd.pid" 2>/dev/null || true)
  DOCKER_HOST=$(bash "$here/dockerd.sh" up)
  pid_after=$(cat "${MAESTRO_DOCKER_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/maestro-ts/docker}/run/dockerd.pid" 2>/dev/null || true)
  [ "$pid_before" != "$pid_after" ] && started_here=1
fi
export DOCKER_HOST
cleanup() { if [ -n "$started_here" ]; then bash "$here/dockerd.sh" down; fi; }
trap cleanup EXIT

node_bin=$(command -v node)
node_version=$("$node_bin" --version)
case $node_version in
v20.*) ;;
*)
  echo "images: the base image is made from this machine's Node, which must be 20.x (found $node_version)" >&2
  exit 1
  ;;
esac

# Bump `recipe` when the base image's contents change, so machines that have the old one make it again.
recipe=3
base_label=$("$DOCKER" image inspect -f '{{index .Config.Labels "maestro.base"}}' "$BASE" 2>/dev/null || true)
if [ "$base_label" != "$node_version-$recipe" ]; then
  echo "== base image $BASE from this machine's Node $node_version ==" >&2
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/maestro-rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"; cleanup' EXIT
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  mkdir -p "$rootfs"/{bin,etc,tmp,root,home/node,usr/local/bin,usr/local/lib,usr/bin}
  chmod 1777 "$rootfs/tmp"
  # The few commands build scripts call (npm scripts run under sh: tsup's onSuccess copies files).
  tools=$(for t in env cat chmod cp ln ls mkdir mv rm sleep touch; do command -v "$t"; done)
  # Every shared library node, dash and the commands load, at the path the loader looks for it, and the rest of glibc's small
  # libraries, which native addons (rollup's, for one) expect on any glibc system.
  libdir=$(dirname "$(ldd "$node_bin" | awk '/libc\.so/{print $3}')")
  {
    for f in "$node_bin" /usr/bin/dash $tools; do
      ldd "$f" | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}'
    done
    for l in librt.so.1 libresolv.so.2 libutil.so.1 libanl.so.1 libnss_files.so.2 libnss_dns.so.2; do
      [ -e "$libdir/$l" ] && echo "$libdir/$l"
    done
  } | sort -u | while read -r lib; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
  cp "$node_bin" "$rootfs/usr/local/bin/node"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/npm"
  ln -s ../lib/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  cp /usr/bin/dash "$rootfs/bin/sh"
  for t in $tools; do cp "$t" "$rootfs/usr/bin/"; done
  # The official image's user: uid/gid 1000, home /home/node.
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  # The machine's trust store, so npm inside the build trusts what this machine trusts (an egress proxy's CA).
  extra_ca=()
  if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$rootfs/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
    extra_ca=(--change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")
  fi
  chown -R 1000:1000 "$rootfs/home/node"
  tar -C "$rootfs" --numeric-owner -c . |
    "$DOCKER" import \
      --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_VERSION='"${node_version#v}" \
      "${extra_ca[@]}" \
      --change "LABEL maestro.base=$node_version-$recipe" \
      --change 'CMD ["node"]' - "$BASE" >/dev/null
  rm -rf "$rootfs"
fi

cd "$repo"
# The classic builder: BuildKit would fetch the `# syntax=` frontend image from a registry.
build() {
  DOCKER_BUILDKIT=0 "$DOCKER" build --network host -f deploy/Dockerfile "$@" .
}
started=$(date +%s)
echo "== maestro:dev ==" >&2
build -t maestro:dev >&2
echo "== maestro-game-room:dev ==" >&2
build --target game-room -t maestro-game-room:dev >&2
echo "images built in $(($(date +%s) - started)) s" >&2

mkdir -p "$out"
for image in maestro:dev maestro-game-room:dev; do
  "$DOCKER" save -o "$out/${image%%:*}.tar" "$image"
done
"$DOCKER" image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(maestro|maestro-game-room|node):' >&2
echo "$out"
