#!/usr/bin/env bash
# Builds aip/postgres:15, a stand-in for the official postgres image made from Debian bookworm's
# PostgreSQL 15 packages (no registry is reachable), and caches it as a `docker save` tarball:
#   $CACHE/postgres/image-<key>/postgres.tar    the image
#   $CACHE/postgres/debs/                       the .deb files (apt-get download), kept between builds
# Usage: build.sh BUILDER_SOCKET   (any running fleet dockerd does the docker import)
# Prints the directory holding postgres.tar. The key covers this directory, busybox and the
# candidate versions of the PostgreSQL packages, so a point release rebuilds it.
set -euo pipefail
# shellcheck source=../../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"

SOCKET=${1:?usage: build.sh BUILDER_SOCKET}
d() { "$DOCKER" -H "unix://$SOCKET" "$@"; }

HERE="$FLEET_DIR/images/postgres"
IMAGE=aip/postgres:15
PG_MAJOR=15
PG_UID=999 # as the official Debian-based image (the Alpine one uses 70)
# What the image is made of; their shared libraries are added by lib_closure.
ROOTS=(postgresql-$PG_MAJOR postgresql-client-$PG_MAJOR libpq5 tzdata gosu)
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
DIR="$CACHE/postgres"
DEBS="$DIR/debs"

candidates() { apt-cache policy "$@" | awk '/^[^ ]/ { p = $1 } $1 == "Candidate:" { print p, $2 }'; }

cache_key() {
  {
    echo "busybox $(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || /bin/busybox | head -1)"
    candidates "${ROOTS[@]}" libc6
    (cd "$HERE" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}

known() { [[ $(candidates "${ROOTS[@]}" | awk '$2 != "(none)"' | wc -l) -eq ${#ROOTS[@]} ]]; }
if ! known; then
  apt-get update -qq
  known || die "apt knows no candidate for one of ${ROOTS[*]} even after apt-get update"
fi
KEY=$(cache_key)
OUT="$DIR/image-$KEY"
if [[ -f $OUT/complete ]]; then
  echo "$OUT"
  exit 0
fi
log "building $IMAGE (cache key $KEY)"
rm -rf "$OUT"
mkdir -p "$OUT" "$DEBS"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The packages' shared-library dependencies, followed through library packages only (Depends
# and Pre-Depends): postgresql-common, perl, debconf and the like are not needed to run the
# binaries. LLVM (JIT, ~120 MB) is left out: the server then runs without JIT, as with jit=off.
lib_closure() {
  local -A seen=()
  local queue=("$@") p dep
  while ((${#queue[@]})); do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    [[ -n ${seen[$p]:-} ]] && continue
    seen[$p]=1
    for dep in $(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances "$p" | awk '$1 ~ /^\|?(Pre)?Depends:$/ { print $2 }' |
      grep -E '^(lib|zlib)' | grep -vE '^libllvm|-perl$' || true); do
      queue+=("$dep")
    done
  done
  printf '%s\n' "${!seen[@]}" | sort
}
mapfile -t PKGS < <(lib_closure "${ROOTS[@]}" libc-bin)

# apt-get download skips files already there with the right hash; files of older versions go.
# (--print-uris leaves out files present in the current directory, hence the empty one.)
mapfile -t FILES < <(cd "$WORK" && apt-get -q download --print-uris "${PKGS[@]}" | awk '{ print $2 }')
(cd "$DEBS" && apt-get -q -o APT::Sandbox::User=root download "${PKGS[@]}" >/dev/null)
for f in "$DEBS"/*.deb; do
  [[ " ${FILES[*]} " == *" $(basename "$f") "* ]] || rm -f "$f"
done

# --- the root file system ---------------------------------------------------------------------
R="$WORK/rootfs"
mkdir -p "$R"
for f in "${FILES[@]}"; do
  case $f in
    libc-bin_*) ;; # only its C.UTF-8 locale, below
    *) dpkg-deb -x "$DEBS/$f" "$R" ;;
  esac
done
dpkg-deb -x "$DEBS"/libc-bin_*.deb "$WORK/libc-bin"
mkdir -p "$R/usr/lib/locale"
cp -a "$WORK/libc-bin/usr/lib/locale/C.utf8" "$R/usr/lib/locale/"

rm -rf "$R"/usr/share/{doc,man,info,lintian,bug,locale} "$R/usr/lib/postgresql/$PG_MAJOR/lib/bitcode" \
  "$R/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit"*
# As the official image: initdb writes listen_addresses = '*' into postgresql.conf.
sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$R/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample"
grep -q "^listen_addresses = '\*'" "$R/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample" ||
  die "postgresql.conf.sample has no listen_addresses line to set"

# busybox for sh and the usual tools, without shadowing anything the packages brought
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,root,tmp,var/tmp,proc,sys,dev}
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list-full); do
  [[ -e $R/$a || -L $R/$a ]] || ln -s /bin/busybox "$R/$a"
done
chmod 1777 "$R/tmp" "$R/var/tmp"
chmod 700 "$R/root"

printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' "postgres:x:$PG_UID:$PG_UID:PostgreSQL:/var/lib/postgresql:/bin/sh" \
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$R/etc/passwd"
printf '%s\n' 'root:x:0:' "postgres:x:$PG_UID:" 'nogroup:x:65534:' >"$R/etc/group"
printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$R/etc/nsswitch.conf"
ln -sf /usr/share/zoneinfo/Etc/UTC "$R/etc/localtime"
echo Etc/UTC >"$R/etc/timezone"

# The official image's directories: PGDATA 1777 (0700 at run time; allows `user:`), socket 3777.
install -d -o "$PG_UID" -g "$PG_UID" -m 755 "$R/var/lib/postgresql"
install -d -o "$PG_UID" -g "$PG_UID" -m 1777 "$R/var/lib/postgresql/data"
install -d -o "$PG_UID" -g "$PG_UID" -m 3777 "$R/var/run/postgresql"
install -d -m 755 "$R/docker-entrypoint-initdb.d"
install -m 755 "$HERE/docker-entrypoint.sh" "$R/usr/local/bin/docker-entrypoint.sh"

# Every ELF file must find its libraries inside the image.
missing=$(find "$R/usr/lib/postgresql" "$R/usr/sbin/gosu" -type f \( -perm -u+x -o -name '*.so*' \) |
  while read -r f; do
    [[ $(head -c4 "$f" | od -An -c | tr -d ' ') == 177ELF ]] || continue
    chroot "$R" /lib64/ld-linux-x86-64.so.2 --list "${f#"$R"}" 2>&1 | grep -E 'not found|error while' | sed "s|^|${f#"$R"}: |" || true
  done)
[[ -z $missing ]] || die "libraries missing in $IMAGE:"$'\n'"$missing"

PG_VERSION=$(dpkg-deb -f "$DEBS"/postgresql-"$PG_MAJOR"_*.deb Version)
tar -C "$R" --numeric-owner -cf "$WORK/postgres.tar" .
# (docker import takes no STOPSIGNAL: the official image's SIGINT, a fast shutdown, is not set; a
# stop sends SIGTERM, PostgreSQL's smart shutdown, and Docker's 10 s grace covers it.)
d import \
  -c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PG_BIN" \
  -c 'ENV LANG=C.UTF-8' \
  -c "ENV PG_MAJOR=$PG_MAJOR" \
  -c "ENV PG_VERSION=$PG_VERSION" \
  -c 'ENV PGDATA=/var/lib/postgresql/data' \
  -c 'VOLUME /var/lib/postgresql/data' \
  -c 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  -c 'EXPOSE 5432' \
  -c 'CMD ["postgres"]' \
  "$WORK/postgres.tar" "$IMAGE" >/dev/null
d run --rm --entrypoint sh "$IMAGE" -c \
  'for t in postgres initdb pg_ctl psql pg_isready pg_dump pg_dumpall pg_restore createdb dropdb pg_basebackup gosu; do
     "$t" --version >/dev/null || exit 1
   done' || die "$IMAGE cannot run its tools"

d save -o "$OUT/postgres.tar" "$IMAGE"
touch "$OUT/complete"
# Older builds are of no use any more (the .deb cache stays).
find "$DIR" -mindepth 1 -maxdepth 1 -type d -name 'image-*' ! -name "image-$KEY" -exec rm -rf {} +
log "$IMAGE built into $OUT ($(du -m "$OUT/postgres.tar" | cut -f1) MB)"
echo "$OUT"
