#!/usr/bin/env bash
# Builds the fleet's images once and caches them as `docker save` tarballs:
#   base.tar: aip/busybox:1 (busybox-static rootfs) and aip/standin:1 (generic stand-in service)
#   node.tar: aip/node:20 (the machine's node + the libraries ldd lists) and aip/ollama-standin:1
# Usage: build.sh BUILDER_SOCKET   (any running fleet dockerd does the docker import/build)
# Prints the cache directory. Inputs are hashed, so a changed stand-in rebuilds automatically.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SOCKET=${1:?usage: build.sh BUILDER_SOCKET}
d() { "$DOCKER" -H "unix://$SOCKET" "$@"; }

cache_key() {
  {
    echo "busybox $(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || /bin/busybox | head -1)"
    echo "node $(stat -c '%s %Y' /usr/bin/node) $(/usr/bin/node -v)"
    ldd /usr/bin/node | awk '{print $(NF-1)}' | xargs -r stat -L -c '%n %s %Y' 2>/dev/null
    (cd "$FLEET_DIR" && find images standin ollama-standin -path images/postgres -prune -o -type f ! -name '*.test.*' -print0 | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}

KEY=$(cache_key)
OUT="$CACHE/images/$KEY"
if [[ -f $OUT/complete ]]; then
  echo "$OUT"
  exit 0
fi
log "building images (cache key $KEY)"
rm -rf "$OUT"
mkdir -p "$OUT"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

busybox_root() {
  local r=$1 a
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,root,home,tmp,var/tmp,var/run,proc,sys,dev}
  chmod 1777 "$r/tmp" "$r/var/tmp"
  chmod 700 "$r/root"
  cp /bin/busybox "$r/bin/busybox"
  for a in $(/bin/busybox --list-full); do
    [[ -e $r/$a || -L $r/$a ]] || ln -s /bin/busybox "$r/$a"
  done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$r/etc/passwd"
  printf '%s\n' 'root:x:0:' 'video:x:44:' 'render:x:109:' 'nobody:x:65534:' >"$r/etc/group"
  printf '%s\n' 'hosts: files dns' >"$r/etc/nsswitch.conf"
}

# aip/busybox:1
busybox_root "$WORK/busybox"
tar -C "$WORK/busybox" --numeric-owner -cf "$WORK/busybox.tar" .
d import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$WORK/busybox.tar" aip/busybox:1 >/dev/null

# aip/node:20: busybox (for sh, wget and the like) plus node and its shared libraries
busybox_root "$WORK/node"
mkdir -p "$WORK/node/usr/bin"
cp /usr/bin/node "$WORK/node/usr/bin/node"
for lib in $(ldd /usr/bin/node | grep -o '/[^ ]*'); do
  mkdir -p "$WORK/node$(dirname "$lib")"
  cp -L "$lib" "$WORK/node$lib"
done
tar -C "$WORK/node" --numeric-owner -cf "$WORK/node.tar" .
d import -c 'CMD ["node"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$WORK/node.tar" aip/node:20 >/dev/null
d run --rm aip/node:20 node -e 'process.exit(process.version.startsWith("v") ? 0 : 1)' ||
  die "aip/node:20 cannot run node"

# Images built on those, with Debian's (legacy, offline) builder.
DOCKER_BUILDKIT=0 d build -q -t aip/standin:1 "$FLEET_DIR/standin" >/dev/null
DOCKER_BUILDKIT=0 d build -q -t aip/ollama-standin:1 "$FLEET_DIR/ollama-standin" >/dev/null

d save -o "$OUT/base.tar" aip/busybox:1 aip/standin:1
d save -o "$OUT/node.tar" aip/node:20 aip/ollama-standin:1
touch "$OUT/complete"
# Older builds are of no use any more.
find "$CACHE/images" -mindepth 1 -maxdepth 1 -type d ! -name "$KEY" -exec rm -rf {} +
log "images built into $OUT"
echo "$OUT"
