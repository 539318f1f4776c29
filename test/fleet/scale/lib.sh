# Shared definitions for the scale fleet scripts (sourced, not executed).
# The scale fleet: up to 999 light hosts s001..sNNN, each a network namespace with only its own
# sshd, on bridge aipscale0 (10.78.0.0/16). Docker and Compose are stand-ins (bin/, runtime.mjs).
# Nothing here touches the ten-host fleet (aipfleet0, 10.77.0.0/24, netns aip-*).

SCALE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCALE_DIR/../../.." && pwd)"
STATE="$SCALE_DIR/.state"
HOSTS_DIR="$STATE/hosts"
KEYS_DIR="$STATE/keys" # host keys: generated once, kept by down.sh so known_hosts stays valid
WWW_DIR="$STATE/www"   # what every stand-in HTTP port serves (health and metrics paths)

BRIDGE=aipscale0
BRIDGE_ADDR=10.78.0.1
SUBNET=10.78.0.0/16
SCALE_USER=aipscale # login user of every host; /bin/sh as shell, so no rc file runs per session
HOST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[scale %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  printf 'scale: %s\n' "$*" >&2
  exit 1
}

host_name() { printf 's%03d' "$1"; }
host_number() { echo $((10#${1#s})); }
# s001 -> 10.78.1.10 ... s200 -> 10.78.1.209, s201 -> 10.78.2.10: 200 hosts per /24, never .0-.9
host_address() {
  local i=$(($(host_number "$1") - 1))
  echo "10.78.$((1 + i / 200)).$((10 + i % 200))"
}
host_netns() { echo "aips-$1"; }
host_veth() { echo "aipsv-$1"; }
host_dir() { echo "$HOSTS_DIR/$1"; }

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
read_pid() { [[ -r $1 ]] && tr -dc '0-9' <"$1" 2>/dev/null || true; }
# A recorded pid counts only while it still runs what we started (pids get reused).
pid_runs() { # pid pattern
  local p=$1 cmd
  pid_alive "$p" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$2"* ]]
}

tcp_open() { timeout 1 bash -c ":</dev/tcp/$1/$2" 2>/dev/null; }

# Pids of processes in the given hosts' network namespaces (one pass over /proc), one per line.
netns_pids() { # host...
  local h ino want=""
  for h in "$@"; do
    ino=$(stat -L -c %i "/run/netns/$(host_netns "$h")" 2>/dev/null) && want+=" net:[$ino]"
  done
  [[ -n $want ]] || return 0
  find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/net' -printf '%h %l\n' 2>/dev/null |
    awk -v want="$want " 'index(want, " " $2 " ") { split($1, a, "/"); print a[3] }'
}
