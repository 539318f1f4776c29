#!/usr/bin/env bash
# Installs what the test fleet needs on a Debian bookworm machine (root, non-interactive, idempotent):
# Debian packages, plus the Compose v2 CLI plugin taken from Debian trixie's docker-compose package.
# Services are never started by the installs: the fleet runs its own sshd/dockerd per host.
set -euo pipefail

FLEET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${AIP_FLEET_CACHE:-$FLEET_DIR/.state/cache}"
PACKAGES=(docker.io docker-compose openssh-server openssh-client busybox-static iproute2 util-linux procps socat docker-registry apache2-utils openssl)

log() { printf 'install-deps: %s\n' "$*" >&2; }

[[ $(id -u) -eq 0 ]] || { log "must run as root"; exit 1; }
export DEBIAN_FRONTEND=noninteractive

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  # Keep package scripts from starting sshd/dockerd/containerd on the machine itself.
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  trap '[[ $created_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages already installed"
fi

# Compose v2: Debian trixie's docker-compose (the CLI plugin) runs on bookworm (static Go binary).
plugin="$CACHE_DIR/compose-v2/docker-compose"
if [[ -x $plugin ]] && "$plugin" version >/dev/null 2>&1; then
  log "Compose v2 plugin already cached: $("$plugin" version --short)"
  exit 0
fi

mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [[ -e $f ]] || continue
  # First deb822 stanza whose Suites include bookworm (not -security).
  mirror=$(awk 'BEGIN{RS=""} /Suites:[^\n]*bookworm( |$|\n|-updates)/ && !/bookworm-security/ {
      if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { s = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", s); print s; exit } }' "$f")
  [[ -n $mirror ]] && break
done
if [[ -z $mirror && -r /etc/apt/sources.list ]]; then
  mirror=$(awk '$1=="deb" && $0 ~ / bookworm / { for (i=2;i<=NF;i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}
log "fetching docker-compose (v2) from $mirror trixie"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [[ ${created_policy:-0} == 1 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
mkdir -p "$tmp/etc/apt.conf.d" "$tmp/etc/preferences.d" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/state" "$tmp/dl"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" > "$tmp/etc/sources.list"
# A private apt configuration: the system's lists, caches and sources stay untouched.
apt_opts=(
  -o "Dir::Etc::SourceList=$tmp/etc/sources.list" -o "Dir::Etc::SourceParts=$tmp/etc/none"
  -o "Dir::Etc::Parts=$tmp/etc/apt.conf.d" -o "Dir::Etc::PreferencesParts=$tmp/etc/preferences.d"
  -o "Dir::State=$tmp/state" -o "Dir::State::Lists=$tmp/lists" -o "Dir::State::status=/var/lib/dpkg/status"
  -o "Dir::Cache=$tmp/cache" -o "APT::Architecture=amd64" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
)
apt-get "${apt_opts[@]}" -qq update
(cd "$tmp/dl" && apt-get "${apt_opts[@]}" -qq download docker-compose)
deb=$(ls "$tmp"/dl/docker-compose_*.deb)
dpkg-deb -x "$deb" "$tmp/x"
mkdir -p "$(dirname "$plugin")"
install -m 755 "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" "$plugin"
basename "$deb" > "$(dirname "$plugin")/SOURCE"
log "Compose v2 plugin: $("$plugin" version --short) from $(basename "$deb")"
