#!/bin/bash
# The "holder" of one fleet host. up.sh starts it as
#   nsenter --net=/run/netns/aip-NAME -- unshare --mount --uts --propagation private -- host-init.sh NAME HOSTDIR
# so it runs inside the host's network namespace and fresh, private mount and UTS namespaces.
# It mounts the host's own /opt, /run, /tmp, /var/log, /home/deploy and /usr/local, starts the
# host's dockerd and sshd as its children (so they see those mounts), then serves a control FIFO
# through which fault.sh restarts them. Children are reaped by this shell; fleet:down kills it.
set -euo pipefail

NAME=$1
H=$2
# shellcheck source=/dev/null
source "$H/host.env" # GPU_VENDOR, COMPOSE
exec >>"$H/log/holder.log" 2>&1
echo "holder $$ for $NAME starting at $(date -Is)"

hostname "$NAME"
mount --make-rprivate /
mount --bind "$H/opt" /opt
mount --bind "$H/run" /run
mount --bind "$H/tmp" /tmp
mount --bind "$H/varlog" /var/log
mount --bind "$H/home" /home/deploy
mount --bind "$H/usr-local" /usr/local
mount --bind "$H/etc-docker" /etc/docker # dockerd keeps its identity key (key.json) there

# An AMD host gets its own /dev with stand-in /dev/kfd and /dev/dri nodes (compose `devices:`
# needs them to exist); the other hosts keep the machine's /dev, which has neither.
make_amd_dev() {
  mount -t tmpfs -o mode=755,nosuid devtmp /dev
  mknod -m 666 /dev/null c 1 3
  mknod -m 666 /dev/zero c 1 5
  mknod -m 666 /dev/full c 1 7
  mknod -m 666 /dev/random c 1 8
  mknod -m 666 /dev/urandom c 1 9
  mknod -m 666 /dev/tty c 5 0
  mkdir -m 755 /dev/pts /dev/shm
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts
  ln -s pts/ptmx /dev/ptmx
  mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
  ln -s /proc/self/fd /dev/fd
  ln -s /proc/self/fd/0 /dev/stdin
  ln -s /proc/self/fd/1 /dev/stdout
  ln -s /proc/self/fd/2 /dev/stderr
  gpu_nodes create
}
gpu_nodes() { # create|remove: the device nodes amdgpu would provide (two GPUs, gid 44 = video)
  if [[ $1 == create ]]; then
    [[ -e /dev/kfd ]] || mknod -m 660 /dev/kfd c 238 0
    mkdir -p -m 755 /dev/dri
    [[ -e /dev/dri/card0 ]] || mknod -m 660 /dev/dri/card0 c 226 0
    [[ -e /dev/dri/card1 ]] || mknod -m 660 /dev/dri/card1 c 226 1
    [[ -e /dev/dri/renderD128 ]] || mknod -m 660 /dev/dri/renderD128 c 226 128
    [[ -e /dev/dri/renderD129 ]] || mknod -m 660 /dev/dri/renderD129 c 226 129
    chgrp -R 44 /dev/kfd /dev/dri
  else
    rm -rf /dev/kfd /dev/dri
  fi
}
if [[ ${GPU_VENDOR:-} == amd ]]; then
  make_amd_dev
  [[ -e /usr/local/etc/aip-gpu/driver-missing ]] && gpu_nodes remove
fi

start_dockerd() {
  rm -f /run/docker.pid /run/docker.sock
  dockerd --config-file /etc/docker/daemon.json >>"$H/log/dockerd.log" 2>&1 </dev/null &
  echo $! >"$H/pids/dockerd"
  echo "dockerd $!"
}
start_sshd() {
  mkdir -p -m 755 /run/sshd
  /usr/sbin/sshd -D -f "$H/ssh/sshd_config" -E "$H/log/sshd.log" </dev/null &
  echo $! >"$H/pids/sshd"
  echo "sshd $!"
}
alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }

start_dockerd
start_sshd
echo $$ >"$H/pids/holder"

# Control loop: one command per line written to the FIFO by fault.sh (as root).
# No errexit from here on: a failed command must not take the host down.
set +e
while :; do
  cmd=""
  read -r cmd <"$H/ctl" || continue
  echo "control: $cmd"
  case $cmd in
    sshd-start) alive "$(cat "$H/pids/sshd" 2>/dev/null)" || start_sshd ;;
    dockerd-start) alive "$(cat "$H/pids/dockerd" 2>/dev/null)" || start_dockerd ;;
    gpu-nodes-create) [[ ${GPU_VENDOR:-} == amd ]] && gpu_nodes create ;;
    gpu-nodes-remove) [[ ${GPU_VENDOR:-} == amd ]] && gpu_nodes remove ;;
    *) echo "unknown control command: $cmd" ;;
  esac
  echo "$cmd" >>"$H/ctl.done"
done
