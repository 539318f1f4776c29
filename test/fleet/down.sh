#!/usr/bin/env bash
# npm run fleet:down [-- host...]   (root; idempotent)
# Stops every fleet host: its containers, dockerd (with its containerd), sshd, the holder of its
# mount namespace and anything left in its namespaces or cgroups (all started by fleet:up), then
# removes its network namespace, veth, cgroups and state. With no host left, the bridge and the
# /run/netns directory fleet:up created go too. Only the image/compose cache and the client key
# stay in test/fleet/.state. Processes are ended by pid, never by name.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $(id -u) -eq 0 ]] || die "fleet:down must run as root"
keep_shared=0
if [[ ${1:-} == --keep-shared ]]; then
  keep_shared=1
  shift
fi
if (($# == 0)); then hosts=("${ALL_HOSTS[@]}"); else hosts=("$@"); fi

# wait_gone SECONDS PID... : true once none of the pids is alive
wait_gone() {
  local secs=$1 i p alive
  shift
  for ((i = 0; i < secs * 10; i++)); do
    alive=0
    for p in "$@"; do pid_alive "$p" && alive=1; done
    ((alive)) || return 0
    sleep 0.1
  done
  return 1
}

# Pids whose mount or network namespace is the host's, or that sit in the host's cgroups.
# (find reads the /proc/PID/ns links without a process per pid.)
host_pids() {
  local h=$1 H mnt netino
  H=$(host_dir "$h")
  mnt=$(cat "$H/pids/mntns" 2>/dev/null || true)
  netino=$(stat -L -c %i "/run/netns/$(host_netns "$h")" 2>/dev/null || true)
  {
    find /proc -mindepth 3 -maxdepth 3 \( -path '/proc/[0-9]*/ns/mnt' -o -path '/proc/[0-9]*/ns/net' \) \
      -printf '%h %l\n' 2>/dev/null |
      awk -v mnt="${mnt:-none}" -v net="net:[${netino:-none}]" '$2 == mnt || $2 == net { split($1, a, "/"); print a[3] }'
    cat /sys/fs/cgroup/*/aip-fleet/"$h"/cgroup.procs /sys/fs/cgroup/*/aip-fleet/"$h"/*/cgroup.procs 2>/dev/null || true
  } | grep -vx "$$" | sort -un
}

remove_cgroups() {
  local h=$1 d
  for d in /sys/fs/cgroup/*/aip-fleet/"$h" /sys/fs/cgroup/unified/aip-fleet/"$h"; do
    [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  return 0
}

stop_host() {
  local h=$1 H holder dockerd sshd leftovers
  H=$(host_dir "$h")
  [[ -d $H || -e /run/netns/$(host_netns "$h") ]] || return 0
  holder=$(read_pid "$H/pids/holder")
  dockerd=$(read_pid "$H/pids/dockerd")
  sshd=$(read_pid "$H/pids/sshd")

  if pid_alive "$dockerd" && [[ -S $(host_socket "$h") ]]; then
    local ids
    ids=$(timeout 10 "$DOCKER" -H "unix://$(host_socket "$h")" ps -q 2>/dev/null || true)
    [[ -n $ids ]] && timeout 20 "$DOCKER" -H "unix://$(host_socket "$h")" kill $ids >/dev/null 2>&1 || true
  fi
  for p in "$dockerd" "$sshd"; do pid_alive "$p" && kill -TERM "$p" 2>/dev/null || true; done
  if ! wait_gone 15 "$dockerd" "$sshd"; then
    for p in "$dockerd" "$sshd"; do pid_alive "$p" && kill -KILL "$p" 2>/dev/null || true; done
  fi

  # containerd, shims, container processes and ssh sessions that outlived their parents
  leftovers=$(host_pids "$h" | grep -vx "${holder:-0}" || true)
  if [[ -n $leftovers ]]; then
    kill -TERM $leftovers 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_gone 5 $leftovers || kill -KILL $leftovers 2>/dev/null || true
  fi
  if pid_alive "$holder"; then
    kill -TERM "$holder" 2>/dev/null || true
    wait_gone 5 "$holder" || kill -KILL "$holder" 2>/dev/null || true
  fi
  leftovers=$(host_pids "$h" || true)
  if [[ -n $leftovers ]]; then
    kill -KILL $leftovers 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_gone 5 $leftovers || log "warning: pids $leftovers of $h would not die"
  fi

  remove_cgroups "$h"
  ip netns del "$(host_netns "$h")" 2>/dev/null || true
  ip link del "$(host_veth "$h")" 2>/dev/null || true
  rm -rf "$H"
  log "$h down"
}

pids=()
for h in "${hosts[@]}"; do
  is_fleet_host "$h" || die "unknown host '$h'"
  stop_host "$h" &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done

remaining=$(find "$HOSTS_DIR" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
if ((remaining == 0 && keep_shared == 0)); then
  bash "$FLEET_DIR/registry.sh" down
  rmdir /sys/fs/cgroup/*/aip-fleet /sys/fs/cgroup/unified/aip-fleet 2>/dev/null || true
  ip link del "$BRIDGE" 2>/dev/null || true
  if [[ -f $STATE/netns-dir-created ]] && [[ -d /run/netns ]] && [[ -z $(ls -A /run/netns) ]]; then
    # `ip netns add` made /run/netns a bind mount of itself; undo what fleet:up caused.
    while mountpoint -q /run/netns; do umount /run/netns; done
    rmdir /run/netns
    rm -f "$STATE/netns-dir-created"
  fi
  if [[ -f $STATE/etc-docker-created ]]; then
    rmdir /etc/docker 2>/dev/null || log "warning: /etc/docker is not empty, left in place"
    rm -f "$STATE/etc-docker-created"
  fi
  rm -f "$STATE/fleet.json" "$STATE/known_hosts"
  rmdir "$HOSTS_DIR" 2>/dev/null || true
  log "fleet down"
elif ((remaining > 0)); then
  node "$FLEET_DIR/tool.mjs" fleet-json 2>/dev/null || true
fi
exit $rc
