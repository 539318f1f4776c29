# Shared definitions for the test fleet scripts (sourced, not executed).
# The fleet: ten hosts, each in its own network + mount namespace on one bridge.

FLEET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="$FLEET_DIR/.state"
CACHE="${AIP_FLEET_CACHE:-$STATE/cache}"
HOSTS_DIR="$STATE/hosts"

ALL_HOSTS=(erebus hephaestus thanatos zelus orpheus kratos nyx hades moros local)
BRIDGE=aipfleet0
SUBNET_PREFIX=10.77.0
SUBNET="$SUBNET_PREFIX.0/24"
BRIDGE_ADDR="$SUBNET_PREFIX.1"
DEPLOY_USER=deploy
DOCKER=/usr/bin/docker # Debian's CLI; the machine may carry another one in /usr/local/bin
COMPOSE_V2_PLUGIN="$CACHE/compose-v2/docker-compose"
HOST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[fleet %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'fleet: %s\n' "$*" >&2; exit 1; }

is_fleet_host() { local h; for h in "${ALL_HOSTS[@]}"; do [[ $h == "$1" ]] && return 0; done; return 1; }

host_index() { local i; for i in "${!ALL_HOSTS[@]}"; do [[ ${ALL_HOSTS[$i]} == "$1" ]] && { echo "$i"; return; }; done; return 1; }
host_address() { echo "$SUBNET_PREFIX.$((11 + $(host_index "$1")))"; }
host_netns() { echo "aip-$1"; }
host_veth() { echo "aipv-$1"; } # <= 15 chars for every fleet name
host_dir() { echo "$HOSTS_DIR/$1"; }
host_socket() { echo "$HOSTS_DIR/$1/run/docker.sock"; }

host_compose() {
  case $1 in erebus | orpheus | nyx | moros | local) echo v2 ;; *) echo v1 ;; esac
}
# vendor count vramGb, or nothing
host_gpu() {
  case $1 in orpheus | kratos | nyx) echo "nvidia 1 12" ;; hades) echo "amd 2 24" ;; esac
}
host_has_node_image() {
  case $1 in orpheus | kratos | nyx | hades | local) return 0 ;; *) return 1 ;; esac
}

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
read_pid() { [[ -r $1 ]] && cat "$1" 2>/dev/null || true; }

# The holder is the process that owns a host's mount namespace (see host-init.sh).
holder_pid() { read_pid "$(host_dir "$1")/pids/holder"; }
host_running() {
  local p
  p=$(holder_pid "$1")
  pid_alive "$p" && [[ $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null) == *host-init.sh* ]]
}

# Run a command inside a host's namespaces (as root).
in_host() {
  local h=$1
  shift
  local p
  p=$(holder_pid "$h")
  pid_alive "$p" || die "host $h is not running"
  nsenter --net="/run/netns/$(host_netns "$h")" --mount="/proc/$p/ns/mnt" --uts="/proc/$p/ns/uts" -- \
    env -i PATH="$HOST_PATH" "$@"
}

docker_host() { local h=$1; shift; "$DOCKER" -H "unix://$(host_socket "$h")" "$@"; }

wait_for() { # seconds description command...
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "timed out after ${secs}s waiting for $what"
}

# A fresh network namespace NS on the bridge: veth VETH, address ADDR/24, default route via the bridge.
netns_attach() {
  local ns=$1 veth=$2 addr=$3
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$veth" 2>/dev/null || true
  ip netns add "$ns"
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip link set "$veth" master "$BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$BRIDGE_ADDR"
}

tcp_open() { timeout 1 bash -c ":</dev/tcp/$1/$2" 2>/dev/null; }

# The fleet's image registry (Debian's docker-registry, the CNCF distribution server): its own network
# namespace on the bridge, TLS from a CA the fleet generates and every host's dockerd trusts
# (/etc/docker/certs.d/ADDR:PORT/ca.crt), htpasswd login `fleet` with a generated password.
REGISTRY_NETNS=aip-registry
REGISTRY_VETH=aipv-registry
REGISTRY_ADDR="$SUBNET_PREFIX.5"
REGISTRY_PORT=5000
REGISTRY_USER=fleet
REGISTRY_DIR="$STATE/registry"
REGISTRY_CA_DIR="$STATE/registry-ca" # kept across fleet:down, like the client key
registry_running() {
  local p
  p=$(read_pid "$REGISTRY_DIR/pid")
  pid_alive "$p" && [[ $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) == *docker-registry* ]]
}
