#!/usr/bin/env bash
# Fault switches for integration tests (root):  test/fleet/fault.sh HOST ACTION [ARG]
#   sshd-stop | sshd-start            stop/start the host's sshd (open sessions survive a stop)
#   link-down | link-up               cut/restore the host's veth on the bridge
#   docker-stop | docker-start        stop dockerd (its containers stop too) / start it again
#   hostkey-rotate | hostkey-restore  give sshd a new host key (known_hosts keeps the old one,
#                                     so strict clients must refuse) / put the original back
#   gpu-driver-missing | gpu-driver-ok  GPU hosts: nvidia-smi exits 9 with the driver message,
#                                     rocm-smi prints the error on stderr and exits 0, GPU
#                                     containers fail to start (hook error / no /dev/kfd)
#   gpu-runtime-missing | gpu-runtime-ok  NVIDIA hosts: nvidia-container-runtime-hook gone / back,
#                                     dockerd restarted (it registers its nvidia device driver at
#                                     start), so GPU containers fail with `could not select device
#                                     driver "nvidia"` / start; the host's containers restart with it
#   service-unhealthy | service-healthy CONTAINER   stand-in service: health paths 404 / 200
#   hostcert-on CA_KEY | hostcert-off   sshd presents its Ed25519 key with a host certificate signed
#                                     by CA_KEY (principal: the host's address) / without one
#   docker-hang | docker-unhang       `docker system dial-stdio` (the Docker API over SSH) takes the
#                                     request and never answers; every other docker command works
#   status                            one line of state for the host
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $(id -u) -eq 0 ]] || die "fault.sh must run as root"
(($# >= 2)) || die "usage: fault.sh HOST ACTION [ARG]"
h=$1
action=$2
arg=${3:-}
is_fleet_host "$h" || die "unknown host '$h'"
H=$(host_dir "$h")
host_running "$h" || die "host $h is not running (npm run fleet:up -- $h)"

control() { # send one command to the host's holder (see host-init.sh)
  timeout 10 bash -c 'echo "$1" >"$2"' _ "$1" "$H/ctl" || die "host $h does not answer on its control FIFO"
}
refresh_fleet_json() { node "$FLEET_DIR/tool.mjs" fleet-json; }
sshd_pid() { read_pid "$H/pids/sshd"; }
dockerd_pid() { read_pid "$H/pids/dockerd"; }
wait_dead() {
  local p=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do pid_alive "$p" || return 0; sleep 0.1; done
  return 1
}
gpu_vendor() { sed -n 's/^GPU_VENDOR=//p' "$H/host.env"; }
nvidia_hook="$H/usr-local/bin/nvidia-container-runtime-hook"

case $action in
  sshd-stop)
    p=$(sshd_pid)
    if pid_alive "$p"; then
      kill -TERM "$p"
      wait_dead "$p" 10 || die "sshd $p on $h did not stop"
    fi
    ;;
  sshd-start)
    pid_alive "$(sshd_pid)" || control sshd-start
    wait_for 30 "sshd on $h" tcp_open "$(host_address "$h")" 22
    refresh_fleet_json
    ;;
  link-down) ip link set "$(host_veth "$h")" down ;;
  link-up)
    ip link set "$(host_veth "$h")" up
    wait_for 30 "link of $h" bash -c "ip link show $(host_veth "$h") | grep -q 'state UP'"
    ;;
  docker-stop)
    p=$(dockerd_pid)
    if pid_alive "$p"; then
      kill -TERM "$p"
      wait_dead "$p" 30 || die "dockerd $p on $h did not stop"
    fi
    ;;
  docker-start)
    pid_alive "$(dockerd_pid)" || control dockerd-start
    wait_for 60 "dockerd on $h" docker_host "$h" version
    refresh_fleet_json
    ;;
  hostkey-rotate)
    [[ -f $H/ssh/original_host_key ]] || cp -p "$H/ssh/ssh_host_ed25519_key" "$H/ssh/original_host_key"
    rm -f "$H/ssh/ssh_host_ed25519_key" "$H/ssh/ssh_host_ed25519_key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "root@$h-rotated" -f "$H/ssh/ssh_host_ed25519_key"
    "$0" "$h" sshd-stop
    "$0" "$h" sshd-start
    ;;
  hostkey-restore)
    if [[ -f $H/ssh/original_host_key ]]; then
      cp -p "$H/ssh/original_host_key" "$H/ssh/ssh_host_ed25519_key"
      cp "$H/ssh/recorded.pub" "$H/ssh/ssh_host_ed25519_key.pub"
      rm -f "$H/ssh/original_host_key"
      "$0" "$h" sshd-stop
      "$0" "$h" sshd-start
    fi
    ;;
  gpu-driver-missing | gpu-driver-ok)
    vendor=$(gpu_vendor)
    [[ -n $vendor ]] || die "$h has no GPU"
    if [[ $action == gpu-driver-missing ]]; then
      touch "$H/usr-local/etc/aip-gpu/driver-missing"
      if [[ $vendor == amd ]]; then control gpu-nodes-remove; fi
    else
      rm -f "$H/usr-local/etc/aip-gpu/driver-missing"
      if [[ $vendor == amd ]]; then control gpu-nodes-create; fi
    fi
    ;;
  gpu-runtime-missing | gpu-runtime-ok)
    [[ $(gpu_vendor) == nvidia ]] || die "$h has no NVIDIA GPU"
    if [[ $action == gpu-runtime-missing ]]; then
      rm -f "$nvidia_hook"
    else
      install -m 755 "$FLEET_DIR/gpu/nvidia-container-runtime-hook" "$nvidia_hook"
    fi
    # dockerd looks the hook up once, at start (restarted either way, so a half-done switch heals)
    "$0" "$h" docker-stop
    "$0" "$h" docker-start
    ;;
  service-unhealthy | service-healthy)
    [[ -n $arg ]] || die "usage: fault.sh HOST $action CONTAINER"
    docker_host "$h" exec "$arg" /standin/fault "${action#service-}" ||
      die "$arg on $h is not a running stand-in service container"
    ;;
  docker-hang)
    # /usr/local/bin comes before /usr/bin in the PATH sshd gives the deploy user
    printf '%s\n' '#!/bin/sh' 'if [ "$1" = system ] && [ "$2" = dial-stdio ]; then exec cat >/dev/null; fi' 'exec /usr/bin/docker "$@"' >"$H/usr-local/bin/docker"
    chmod 755 "$H/usr-local/bin/docker"
    ;;
  docker-unhang) rm -f "$H/usr-local/bin/docker" ;;
  hostcert-on)
    [[ -f $arg ]] || die "hostcert-on needs the CA's private key file"
    ssh-keygen -q -s "$arg" -I "$h-host" -h -n "$(host_address "$h")" "$H/ssh/ssh_host_ed25519_key.pub"
    grep -q '^HostCertificate ' "$H/ssh/sshd_config" || echo "HostCertificate $H/ssh/ssh_host_ed25519_key-cert.pub" >>"$H/ssh/sshd_config"
    "$0" "$h" sshd-stop
    "$0" "$h" sshd-start
    ;;
  hostcert-off)
    sed -i '/^HostCertificate /d' "$H/ssh/sshd_config"
    rm -f "$H/ssh/ssh_host_ed25519_key-cert.pub"
    "$0" "$h" sshd-stop
    "$0" "$h" sshd-start
    ;;
  status)
    printf '%s sshd=%s dockerd=%s link=%s hostkey=%s gpu-driver=%s gpu-runtime=%s\n' "$h" \
      "$(pid_alive "$(sshd_pid)" && echo up || echo down)" \
      "$(pid_alive "$(dockerd_pid)" && echo up || echo down)" \
      "$(ip link show "$(host_veth "$h")" | grep -q 'state UP' && echo up || echo down)" \
      "$([[ -f $H/ssh/original_host_key ]] && echo rotated || echo original)" \
      "$([[ -z $(gpu_vendor) ]] && echo none || { [[ -e $H/usr-local/etc/aip-gpu/driver-missing ]] && echo missing || echo ok; })" \
      "$([[ $(gpu_vendor) != nvidia ]] && echo none || { [[ -e $nvidia_hook ]] && echo ok || echo missing; })"
    ;;
  *) die "unknown action '$action' (see the header of $0)" ;;
esac
