#!/usr/bin/env bash
# test/fleet/scale/down.sh   (root; idempotent; npm run fleet:scale:down)
# Stops the scale fleet: every host's sshd and whatever runs in its network namespace (sessions,
# stand-in httpds, socat: all started through up.sh's sshds), the stand-in runtime, by pid; then
# deletes the namespaces (and with them the veths), the bridge, /run/sshd and /run/netns when up.sh
# made them, and the hosts' state. Host keys, the client key and the aipscale user stay (so
# known_hosts stays valid across runs).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$(date +%s.%N)
[[ $(id -u) -eq 0 ]] || die "down.sh must run as root"

wait_gone() { # tenths pid...
  local n=$1 i p alive
  shift
  for ((i = 0; i < n; i++)); do
    alive=0
    for p in "$@"; do pid_alive "$p" && alive=1 && break; done
    ((alive)) || return 0
    sleep 0.1
  done
  return 1
}

hosts=()
if [[ -d $HOSTS_DIR ]]; then
  for d in "$HOSTS_DIR"/s[0-9][0-9][0-9]; do [[ -e $d ]] && hosts+=("$(basename "$d")"); done
fi
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^aips-s[0-9]{3}$' || true); do
  h=${ns#aips-}
  [[ " ${hosts[*]} " == *" $h "* ]] || hosts+=("$h")
done

# 1. sshd listeners (recorded pids that still run our config), so no new session starts
sshds=()
for h in "${hosts[@]}"; do
  p=$(read_pid "$(host_dir "$h")/sshd.pid")
  pid_runs "$p" "$(host_dir "$h")/sshd_config" && sshds+=("$p")
done
if ((${#sshds[@]})); then
  kill -TERM "${sshds[@]}" 2>/dev/null || true
  wait_gone 50 "${sshds[@]}" || kill -KILL "${sshds[@]}" 2>/dev/null || true
fi

# 2. everything left in the hosts' namespaces: sessions, httpds, socat (each started through them)
leftovers=()
for p in $(netns_pids "${hosts[@]}"); do [[ $p != "$$" ]] && leftovers+=("$p"); done
if ((${#leftovers[@]})); then
  kill -TERM "${leftovers[@]}" 2>/dev/null || true
  wait_gone 30 "${leftovers[@]}" || kill -KILL "${leftovers[@]}" 2>/dev/null || true
fi

# 3. the runtime
rt=$(read_pid "$STATE/runtime.pid")
if pid_runs "$rt" runtime.mjs; then
  kill -TERM "$rt"
  wait_gone 50 "$rt" || kill -KILL "$rt" 2>/dev/null || true
fi
rm -f "$STATE/runtime.pid"

# 4. namespaces (their eth0 goes with them, and so does the veth peer), stray veths, the bridge
batch=$(mktemp)
for h in "${hosts[@]}"; do
  [[ -e /run/netns/$(host_netns "$h") ]] && echo "netns del $(host_netns "$h")"
done >"$batch"
[[ -s $batch ]] && ip -batch "$batch" 2>/dev/null || true
rm -f "$batch"
for h in "${hosts[@]}"; do
  ip link show "$(host_veth "$h")" >/dev/null 2>&1 && ip link del "$(host_veth "$h")" 2>/dev/null || true
done
if [[ -f $STATE/bridge-created ]]; then
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -f "$STATE/bridge-created"
fi
if [[ -f $STATE/run-sshd-created ]]; then
  rmdir /run/sshd 2>/dev/null || true
  rm -f "$STATE/run-sshd-created"
fi
if [[ -f $STATE/netns-dir-created ]]; then
  rmdir /run/netns 2>/dev/null || true # only when no namespace of anyone else is left in it
  rm -f "$STATE/netns-dir-created"
fi

# 5. state (keys, client key, user stay)
rm -rf "$HOSTS_DIR" "$WWW_DIR" "$STATE/known_hosts" "$STATE/scale.json"

T1=$(date +%s.%N)
log "scale fleet down: ${#hosts[@]} host(s), $((${#sshds[@]} + ${#leftovers[@]})) process(es) stopped in $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')s"
