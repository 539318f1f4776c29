#!/usr/bin/env bash
# npm run fleet:up -- [host...]   (root; idempotent; no arguments = all ten hosts)
# Brings up fleet hosts, each in its own network + mount namespace on bridge aipfleet0, with its
# own sshd and dockerd, loads the fleet images, and writes test/fleet/.state/fleet.json.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$(date +%s.%N)
[[ $(id -u) -eq 0 ]] || die "fleet:up must run as root"
for bin in dockerd /usr/sbin/sshd /bin/busybox nsenter unshare ip ssh-keygen; do
  command -v "$bin" >/dev/null || die "missing $bin: run test/fleet/install-deps.sh first"
done
[[ -x $COMPOSE_V2_PLUGIN ]] || die "missing Compose v2 plugin: run test/fleet/install-deps.sh first"
# Each host mounts its own /tmp, /run, /opt, /var/log, /usr/local and /home/deploy over the machine's
# (host-init.sh): a state directory under one of them would vanish from the host's view.
case "$(realpath -m "$STATE")/" in
  /tmp/* | /run/* | /opt/* | /var/log/* | /usr/local/* | /home/deploy/*)
    die "the fleet's state directory $STATE is under a path each test host mounts its own copy of (/tmp, /run, /opt, /var/log, /usr/local, /home/deploy): clone the repository elsewhere" ;;
esac

if (($# == 0)); then
  hosts=("${ALL_HOSTS[@]}")
else
  hosts=()
  for h in "$@"; do
    is_fleet_host "$h" || die "unknown host '$h' (hosts: ${ALL_HOSTS[*]})"
    hosts+=("$h")
  done
fi

mkdir -p "$STATE" "$HOSTS_DIR" "$CACHE"

# --- machine-wide pieces (idempotent) -------------------------------------------------------
if ! id "$DEPLOY_USER" >/dev/null 2>&1; then
  log "creating user $DEPLOY_USER"
  useradd --create-home --shell /bin/bash --groups docker "$DEPLOY_USER"
fi
id -nG "$DEPLOY_USER" | grep -qw docker || usermod -aG docker "$DEPLOY_USER"
# Key-only logins: '*' (not '!') so sshd does not treat the account as locked.
[[ $(getent shadow "$DEPLOY_USER" | cut -d: -f2) == '*' ]] || usermod -p '*' "$DEPLOY_USER"
mkdir -p "/home/$DEPLOY_USER"

if [[ ! -f $STATE/id_ed25519 ]]; then
  ssh-keygen -q -t ed25519 -N '' -C "fleet-client@aip" -f "$STATE/id_ed25519"
fi

# Mount points the hosts need on the machine; fleet:down removes them again when fleet:up made them.
if [[ ! -e /etc/docker ]]; then
  mkdir -p /etc/docker
  touch "$STATE/etc-docker-created"
fi
if [[ ! -e /run/netns ]]; then
  mkdir -p /run/netns
  touch "$STATE/netns-dir-created"
fi
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link add "$BRIDGE" type bridge
  ip addr add "$BRIDGE_ADDR/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
fi

# --- per host -------------------------------------------------------------------------------
write_host_files() {
  local h=$1 H compose gpu vendor="" count=0 vram=0
  H=$(host_dir "$h")
  compose=$(host_compose "$h")
  gpu=$(host_gpu "$h")
  [[ -n $gpu ]] && read -r vendor count vram <<<"$gpu"

  rm -rf "$H"
  mkdir -p "$H"/{opt/ai-platform,run,tmp,varlog,home,etc-docker,usr-local/{bin,sbin,lib,etc,share,include,src},ssh,log,pids,docker}
  chmod 1777 "$H/tmp"
  touch "$H/varlog/wtmp" "$H/varlog/btmp" "$H/varlog/lastlog"
  chown "$DEPLOY_USER:$DEPLOY_USER" "$H/opt/ai-platform"
  mkfifo -m 600 "$H/ctl"

  cat >"$H/host.env" <<ENV
NAME=$h
ADDRESS=$(host_address "$h")
NETNS=$(host_netns "$h")
COMPOSE=$compose
GPU_VENDOR=$vendor
GPU_COUNT=$count
GPU_VRAM_GB=$vram
ENV

  # deploy's home: authorized key, nothing else
  install -d -m 755 -o "$DEPLOY_USER" -g "$DEPLOY_USER" "$H/home"
  install -d -m 700 -o "$DEPLOY_USER" -g "$DEPLOY_USER" "$H/home/.ssh"
  install -m 600 -o "$DEPLOY_USER" -g "$DEPLOY_USER" "$STATE/id_ed25519.pub" "$H/home/.ssh/authorized_keys"

  ssh-keygen -q -t ed25519 -N '' -C "root@$h" -f "$H/ssh/ssh_host_ed25519_key"
  # a second key type, as real hosts have: a client that knows only this one must still get it offered
  ssh-keygen -q -t ecdsa -b 256 -N '' -C "root@$h" -f "$H/ssh/ssh_host_ecdsa_key"
  cp "$H/ssh/ssh_host_ed25519_key.pub" "$H/ssh/recorded.pub" # what known_hosts trusts
  cat >"$H/ssh/sshd_config" <<CFG
# sshd for fleet host $h (MaxSessions/MaxStartups left at their defaults)
Port 22
ListenAddress 0.0.0.0
HostKey $H/ssh/ssh_host_ed25519_key
HostKey $H/ssh/ssh_host_ecdsa_key
PidFile /run/sshd.pid
PermitRootLogin no
AllowUsers $DEPLOY_USER
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
PrintMotd no
PrintLastLog no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
CFG

  cat >"$H/etc-docker/daemon.json" <<CFG
{
  "data-root": "$H/docker",
  "exec-root": "/run/docker",
  "pidfile": "/run/docker.pid",
  "hosts": ["unix:///run/docker.sock"],
  "group": "docker",
  "storage-driver": "overlay2",
  "cgroup-parent": "/aip-fleet/$h",
  "log-level": "warn",
  "shutdown-timeout": 10
}
CFG

  # /usr/local of the host (bind-mounted over the machine's): Compose v2 and the GPU stand-ins.
  local ul="$H/usr-local"
  if [[ $compose == v2 ]]; then
    mkdir -p "$ul/lib/docker/cli-plugins"
    ln "$COMPOSE_V2_PLUGIN" "$ul/lib/docker/cli-plugins/docker-compose" 2>/dev/null ||
      cp "$COMPOSE_V2_PLUGIN" "$ul/lib/docker/cli-plugins/docker-compose"
    # As Debian trixie's package does: docker-compose is Compose v2 here (it shadows /usr/bin's v1).
    ln -s ../lib/docker/cli-plugins/docker-compose "$ul/bin/docker-compose"
  fi
  if [[ -n $vendor ]]; then
    mkdir -p "$ul/lib/aip-gpu" "$ul/etc/aip-gpu"
    cp "$FLEET_DIR/gpu/gpu-standin.mjs" "$ul/lib/aip-gpu/"
    node "$FLEET_DIR/tool.mjs" gpu-config "$h" "$vendor" "$count" "$vram" >"$ul/etc/aip-gpu/gpus.json"
    local tools=(rocm-smi amd-smi)
    [[ $vendor == nvidia ]] && tools=(nvidia-smi)
    for t in "${tools[@]}"; do
      printf '#!/bin/sh\nexec /usr/bin/node /usr/local/lib/aip-gpu/gpu-standin.mjs %s "$@"\n' "$t" >"$ul/bin/$t"
      chmod 755 "$ul/bin/$t"
    done
    if [[ $vendor == nvidia ]]; then
      # dockerd registers its "nvidia" device driver when this hook is on its PATH, so compose
      # GPU reservations work here (and fail elsewhere with the real error).
      install -m 755 "$FLEET_DIR/gpu/nvidia-container-runtime-hook" "$ul/bin/"
    fi
  fi

  if [[ $h == local ]]; then
    # The workstation is used from the machine's own namespace: stable outside paths.
    ln -s run/docker.sock "$H/docker.sock"
    mkdir -p "$H/docker-config/cli-plugins"
    echo '{}' >"$H/docker-config/config.json"
    ln "$COMPOSE_V2_PLUGIN" "$H/docker-config/cli-plugins/docker-compose" 2>/dev/null ||
      cp "$COMPOSE_V2_PLUGIN" "$H/docker-config/cli-plugins/docker-compose"
  fi
}

setup_network() {
  netns_attach "$(host_netns "$1")" "$(host_veth "$1")" "$(host_address "$1")"
}

start_host() {
  local h=$1 H
  H=$(host_dir "$h")
  write_host_files "$h"
  setup_network "$h"
  # setsid: its own session, so nothing that ends this script's job reaches the host.
  setsid nsenter --net="/run/netns/$(host_netns "$h")" -- \
    unshare --mount --uts --propagation private -- \
    env -i PATH="$HOST_PATH" HOME=/root LANG=C.UTF-8 /bin/bash "$FLEET_DIR/host-init.sh" "$h" "$H" \
    </dev/null >>"$H/log/holder.log" 2>&1 &
}

host_healthy() {
  local h=$1
  host_running "$h" && docker_host "$h" version >/dev/null 2>&1 && tcp_open "$(host_address "$h")" 22
}

to_start=()
for h in "${hosts[@]}"; do
  if host_healthy "$h"; then
    log "$h already up"
    continue
  fi
  if [[ -d $(host_dir "$h") ]]; then
    log "$h is broken or stale: tearing it down first"
    bash "$FLEET_DIR/down.sh" --keep-shared "$h"
  fi
  to_start+=("$h")
done

pids=()
for h in "${to_start[@]}"; do
  start_host "$h" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "host setup failed (see $HOSTS_DIR/*/log)"; done
((${#to_start[@]})) && log "started ${to_start[*]}"

for h in "${to_start[@]}"; do
  wait_for 60 "dockerd on $h ($(host_dir "$h")/log/dockerd.log)" docker_host "$h" version
done
for h in "${to_start[@]}"; do
  wait_for 30 "sshd on $h ($(host_dir "$h")/log/sshd.log)" tcp_open "$(host_address "$h")" 22
  # down.sh finds what is left of a host by its mount namespace
  readlink "/proc/$(holder_pid "$h")/ns/mnt" >"$(host_dir "$h")/pids/mntns"
done
T_HOSTS=$(date +%s.%N)

# --- images ---------------------------------------------------------------------------------
need_images() { # host -> image names it should have
  echo aip/busybox:1 aip/standin:1
  host_has_node_image "$1" && echo aip/node:20 aip/ollama-standin:1
  return 0
}
missing_on() {
  local h=$1 img
  for img in $(need_images "$h"); do
    docker_host "$h" image inspect "$img" >/dev/null 2>&1 || echo "$img"
  done
}
load_images() {
  local h=$1 dir=$2
  if [[ -n $(missing_on "$h" | grep -E 'busybox|aip/standin' || true) ]]; then
    docker_host "$h" load -q -i "$dir/base.tar" >/dev/null
  fi
  if [[ -n $(missing_on "$h" | grep -E 'node|ollama' || true) ]]; then
    docker_host "$h" load -q -i "$dir/node.tar" >/dev/null
  fi
  need_images "$h" | tr ' ' '\n' | sed '/^$/d' >"$(host_dir "$h")/images"
  [[ -z $(missing_on "$h") ]] || die "images missing on $h: $(missing_on "$h" | tr '\n' ' ')"
}

if ((${#to_start[@]})); then
  IMAGE_DIR=$(bash "$FLEET_DIR/images/build.sh" "$(host_socket "${to_start[0]}")")
  pids=()
  for h in "${to_start[@]}"; do
    load_images "$h" "$IMAGE_DIR" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || die "loading images failed"; done
fi
T_IMAGES=$(date +%s.%N)

# --- the registry ---------------------------------------------------------------------------
bash "$FLEET_DIR/registry.sh" up
T_REGISTRY=$(date +%s.%N)

# --- known_hosts and fleet.json ---------------------------------------------------------------
{
  for h in "${ALL_HOSTS[@]}"; do
    H=$(host_dir "$h")
    [[ -f $H/ssh/recorded.pub ]] || continue
    echo "$(host_address "$h") $(cut -d' ' -f1,2 "$H/ssh/recorded.pub")"
  done
} >"$STATE/known_hosts.tmp"
mv "$STATE/known_hosts.tmp" "$STATE/known_hosts"
node "$FLEET_DIR/tool.mjs" fleet-json

T1=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
log "fleet up: ${#hosts[@]} host(s) (${#to_start[@]} started) in $(elapsed "$T0" "$T1")s" \
  "[hosts $(elapsed "$T0" "$T_HOSTS")s, images $(elapsed "$T_HOSTS" "$T_IMAGES")s, registry $(elapsed "$T_IMAGES" "$T_REGISTRY")s]; state in $STATE/fleet.json"
