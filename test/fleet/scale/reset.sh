#!/usr/bin/env bash
# test/fleet/scale/reset.sh [host...]   (root; default: every scale host)
# Makes hosts fresh for a cold deploy: stops the stand-in containers (their httpds, by recorded pid),
# forgets containers and images, and empties the base directory. sshd, keys and the runtime stay.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $(id -u) -eq 0 ]] || die "reset.sh must run as root"
hosts=("$@")
if ((${#hosts[@]} == 0)); then
  for d in "$HOSTS_DIR"/s[0-9][0-9][0-9]; do [[ -d $d ]] && hosts+=("$(basename "$d")"); done
fi
for h in "${hosts[@]}"; do [[ -d $(host_dir "$h")/runtime ]] || die "unknown scale host $h"; done
# the stand-in containers' processes: every httpd in these hosts' namespaces
pids=()
for p in $(netns_pids "${hosts[@]}"); do pid_runs "$p" httpd && pids+=("$p"); done
((${#pids[@]})) && kill -TERM "${pids[@]}" 2>/dev/null || true
for h in "${hosts[@]}"; do
  H=$(host_dir "$h")
  rm -f "$H/runtime/containers.json" "$H/runtime/images.json"
  find "$H/opt/ai-platform" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
done
for ((i = 0; i < 50; i++)); do
  alive=0
  for p in "${pids[@]}"; do pid_alive "$p" && alive=1 && break; done
  ((alive)) || break
  sleep 0.1
done
