#!/usr/bin/env bash
# test/fleet/scale/up.sh [N=100]   (root; idempotent; npm run fleet:scale:up -- N)
# Brings up scale hosts s001..sN: each a network namespace on bridge aipscale0 with only its own
# OpenSSH sshd, plus one stand-in Docker Engine (runtime.mjs) serving every host's socket. Hosts
# already up are left alone (hosts above N too). Writes .state/known_hosts and .state/scale.json.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$(date +%s.%N)
[[ $(id -u) -eq 0 ]] || die "up.sh must run as root"
N=${1:-100}
[[ $N =~ ^[0-9]+$ ]] && ((N >= 1 && N <= 999)) || die "N must be 1..999 (got '$N')"
for bin in /usr/sbin/sshd socat busybox ip nsenter ssh-keygen node; do
  command -v "$bin" >/dev/null || die "missing $bin: run test/fleet/install-deps.sh first (socat, openssh-server, busybox-static)"
done
[[ -d $REPO_DIR/node_modules/yaml ]] || die "missing node_modules: run npm ci in $REPO_DIR"
# sun_path is 108 bytes: the runtime's sockets live under the state directory
((${#HOSTS_DIR} + 20 < 108)) || die "state directory path too long for unix sockets: $HOSTS_DIR"

mkdir -p "$STATE" "$HOSTS_DIR" "$KEYS_DIR"

# --- machine-wide pieces (each recorded when made here, so down.sh removes only those) -------
if ! id "$SCALE_USER" >/dev/null 2>&1; then
  log "creating user $SCALE_USER (home $STATE/home, shell /bin/sh)"
  useradd --system --user-group --no-create-home --home-dir "$STATE/home" --shell /bin/sh "$SCALE_USER"
  touch "$STATE/user-created"
fi
# Key-only logins: '*' (not '!') so sshd does not treat the account as locked.
[[ $(getent shadow "$SCALE_USER" | cut -d: -f2) == '*' ]] || usermod -p '*' "$SCALE_USER"
install -d -m 755 -o "$SCALE_USER" -g "$SCALE_USER" "$STATE/home"

if [[ ! -f $STATE/id_ed25519 ]]; then
  ssh-keygen -q -t ed25519 -N '' -C "scale-client@aip" -f "$STATE/id_ed25519"
fi
install -m 644 "$STATE/id_ed25519.pub" "$STATE/authorized_keys"

if [[ ! -d /run/sshd ]]; then # sshd's privilege separation directory (Debian's unit makes it)
  mkdir -m 755 /run/sshd
  touch "$STATE/run-sshd-created"
fi
if [[ ! -d /run/netns ]]; then
  mkdir -p /run/netns
  touch "$STATE/netns-dir-created"
fi
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link add "$BRIDGE" type bridge
  ip addr add "$BRIDGE_ADDR/16" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  touch "$STATE/bridge-created"
fi

# What every published port serves: each health or metrics path the scale platform uses.
mkdir -p "$WWW_DIR/-" "$WWW_DIR/api"
{
  echo '# HELP node_load1 1m load average.'
  echo '# TYPE node_load1 gauge'
  echo 'node_load1 0.01'
} >"$WWW_DIR/metrics"
for p in health ready -/healthy -/ready api/health; do echo ok >"$WWW_DIR/$p"; done
echo 'scale stand-in' >"$WWW_DIR/index.html"

# --- the stand-in Docker Engine: one process, one unix socket per host ------------------------
runtime_up() { pid_runs "$(read_pid "$STATE/runtime.pid")" runtime.mjs; }
if ! runtime_up; then
  rm -f "$STATE/runtime.pid"
  setsid node "$SCALE_DIR/runtime.mjs" "$STATE" "$(id -u "$SCALE_USER")" "$(id -g "$SCALE_USER")" </dev/null >>"$STATE/runtime.log" 2>&1 &
  for ((i = 0; i < 100; i++)); do runtime_up && break || sleep 0.1; done
  runtime_up || die "the stand-in runtime did not start (see $STATE/runtime.log)"
  log "runtime started (pid $(read_pid "$STATE/runtime.pid"))"
fi

# --- per host ---------------------------------------------------------------------------------
sshd_pid() { read_pid "$(host_dir "$1")/sshd.pid"; }
host_up() {
  local h=$1
  [[ -e /run/netns/$(host_netns "$h") ]] && pid_runs "$(sshd_pid "$h")" "$(host_dir "$h")/sshd_config" &&
    tcp_open "$(host_address "$h")" 22
}

# Whatever is left of a half-made host: its processes (all in its namespace), namespace, files.
reset_host() {
  local h=$1 ns pids
  ns=$(host_netns "$h")
  if [[ -e /run/netns/$ns ]]; then
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [[ -n $pids ]] && kill -KILL $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  fi
  ip link del "$(host_veth "$h")" 2>/dev/null || true
  rm -rf "$(host_dir "$h")"
}

write_host_files() {
  local h=$1 H K
  H=$(host_dir "$h")
  K=$KEYS_DIR/$h
  mkdir -p "$H" "$K"
  install -d -m 755 -o "$SCALE_USER" -g "$SCALE_USER" "$H/opt" "$H/opt/ai-platform" "$H/runtime"
  if [[ ! -f $K/ssh_host_ed25519_key ]]; then
    ssh-keygen -q -t ed25519 -N '' -C "aipscale@$h" -f "$K/ssh_host_ed25519_key"
  fi
  cat >"$H/sshd_config" <<CFG
# sshd of scale host $h (MaxSessions/MaxStartups left at their defaults)
Port 22
ListenAddress $(host_address "$h")
HostKey $K/ssh_host_ed25519_key
PidFile $H/sshd.pid
AllowUsers $SCALE_USER
PermitRootLogin no
PubkeyAuthentication yes
AuthorizedKeysFile $STATE/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
Subsystem sftp /usr/lib/openssh/sftp-server
# Every session: which host it is on, and the stand-in docker first on PATH (SetEnv is applied
# after sshd's default PATH, so it wins).
SetEnv AIP_SCALE_HOST=$h AIP_SCALE_DIR=$H PATH=$SCALE_DIR/bin:$HOST_PATH
CFG
}

start_sshd() {
  local h=$1 H
  H=$(host_dir "$h")
  nsenter --net="/run/netns/$(host_netns "$h")" -- \
    env -i PATH="$HOST_PATH" LANG=C.UTF-8 /usr/sbin/sshd -f "$H/sshd_config" -E "$H/sshd.log" </dev/null
}
wait_sshd() {
  local h=$1 t
  for ((t = 0; t < 150; t++)); do
    pid_runs "$(sshd_pid "$h")" "$(host_dir "$h")/sshd_config" && return 0
    sleep 0.1
  done
  die "sshd on $h did not start (see $(host_dir "$h")/sshd.log)"
}

to_start=()
restarted=()
for ((i = 1; i <= N; i++)); do
  h=$(host_name "$i")
  if host_up "$h"; then continue; fi
  H=$(host_dir "$h")
  if [[ -e /run/netns/$(host_netns "$h") && -f $H/sshd_config ]] && ! pid_runs "$(sshd_pid "$h")" "$H/sshd_config" &&
    ip -n "$(host_netns "$h")" -br addr show eth0 2>/dev/null | grep -q "$(host_address "$h")/"; then
    # only its sshd is gone (stopped by a test): start it again, keep what is deployed there
    start_sshd "$h" && wait_sshd "$h" && restarted+=("$h") && continue
  fi
  [[ -d $H || -e /run/netns/$(host_netns "$h") ]] && reset_host "$h"
  to_start+=("$h")
done
log "$((N - ${#to_start[@]} - ${#restarted[@]})) of $N host(s) already up; sshd restarted on ${#restarted[@]}; starting ${#to_start[@]}"

if ((${#to_start[@]})); then
  # files and host keys, in parallel (ssh-keygen only for hosts never made before)
  printf '%s\n' "${to_start[@]}" | xargs -P 16 -I{} bash -c "source '$SCALE_DIR/lib.sh'; $(declare -f write_host_files); write_host_files {}"

  # namespaces and veths: one ip process for the machine's side, one per namespace for the inside
  batch=$(mktemp)
  for h in "${to_start[@]}"; do
    echo "netns add $(host_netns "$h")"
    echo "link add $(host_veth "$h") type veth peer name eth0 netns $(host_netns "$h")"
    echo "link set $(host_veth "$h") master $BRIDGE up"
  done >"$batch"
  ip -batch "$batch"
  rm -f "$batch"
  pids=()
  for h in "${to_start[@]}"; do
    printf 'link set lo up\naddr add %s/16 dev eth0\nlink set eth0 up\nroute add default via %s\n' \
      "$(host_address "$h")" "$BRIDGE_ADDR" | ip -n "$(host_netns "$h")" -batch - &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || die "configuring a namespace failed"; done

  # sshd daemonizes once listening and writes its PidFile; -E: its log, not syslog
  pids=()
  for h in "${to_start[@]}"; do
    start_sshd "$h" &
    pids+=($!)
  done
  # (never a bare `wait`: the runtime is a child of this shell too)
  for p in "${pids[@]}"; do wait "$p" || die "an sshd did not start (see $HOSTS_DIR/*/sshd.log)"; done
  for h in "${to_start[@]}"; do wait_sshd "$h"; done
fi

# --- the runtime learns the new hosts; known_hosts and scale.json ------------------------------
kill -HUP "$(read_pid "$STATE/runtime.pid")"
for h in "${to_start[@]}"; do
  for ((t = 0; t < 100; t++)); do
    [[ -S $(host_dir "$h")/docker.sock ]] && break
    sleep 0.05
  done
  [[ -S $(host_dir "$h")/docker.sock ]] || die "the runtime did not open $h's socket (see $STATE/runtime.log)"
done

hosts_up=()
for d in "$HOSTS_DIR"/s[0-9][0-9][0-9]; do [[ -f $d/sshd_config ]] && hosts_up+=("$(basename "$d")"); done
{
  for h in "${hosts_up[@]}"; do
    echo "$(host_address "$h") $(cut -d' ' -f1,2 "$KEYS_DIR/$h/ssh_host_ed25519_key.pub")"
  done
} >"$STATE/known_hosts.tmp"
mv "$STATE/known_hosts.tmp" "$STATE/known_hosts"
{
  printf '{\n  "version": 1,\n  "stateDir": "%s",\n  "bridge": "%s",\n  "bridgeAddress": "%s",\n  "subnet": "%s",\n' "$STATE" "$BRIDGE" "$BRIDGE_ADDR" "$SUBNET"
  printf '  "user": "%s",\n  "identityFile": "%s",\n  "knownHostsFile": "%s",\n  "runtimePid": %s,\n  "hosts": [' \
    "$SCALE_USER" "$STATE/id_ed25519" "$STATE/known_hosts" "$(read_pid "$STATE/runtime.pid")"
  sep=''
  for h in "${hosts_up[@]}"; do
    printf '%s\n    { "name": "%s", "address": "%s", "netns": "%s", "dir": "%s", "baseDir": "%s", "dockerSocket": "%s", "sshdPid": %s }' \
      "$sep" "$h" "$(host_address "$h")" "$(host_netns "$h")" "$(host_dir "$h")" "$(host_dir "$h")/opt/ai-platform" \
      "$(host_dir "$h")/docker.sock" "$(sshd_pid "$h")"
    sep=','
  done
  printf '\n  ]\n}\n'
} >"$STATE/scale.json.tmp"
mv "$STATE/scale.json.tmp" "$STATE/scale.json"

# Every host answers on port 22 (checked from the machine, as the CLI will)
for h in "${to_start[@]}"; do
  for ((t = 0; t < 50; t++)); do tcp_open "$(host_address "$h")" 22 && break || sleep 0.1; done
  tcp_open "$(host_address "$h")" 22 || die "$h: port 22 at $(host_address "$h") does not answer"
done

T1=$(date +%s.%N)
log "scale fleet up: ${#hosts_up[@]} host(s) (${#to_start[@]} started) in $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')s; state in $STATE/scale.json"
