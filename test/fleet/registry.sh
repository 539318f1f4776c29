#!/usr/bin/env bash
# registry.sh up|down   (root; idempotent; called by up.sh and down.sh)
# The fleet's image registry: Debian's docker-registry in network namespace aip-registry at
# REGISTRY_ADDR:REGISTRY_PORT, TLS with a certificate from the fleet's own CA, htpasswd auth.
# `up` also writes the CA into every host's /etc/docker/certs.d, so their engines trust it.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $(id -u) -eq 0 ]] || die "registry.sh must run as root"
command -v docker-registry >/dev/null || die "missing docker-registry: run test/fleet/install-deps.sh first"
command -v htpasswd >/dev/null || die "missing htpasswd: run test/fleet/install-deps.sh first"

ca() {
  [[ -f $REGISTRY_CA_DIR/ca.crt && -f $REGISTRY_CA_DIR/ca.key ]] && return 0
  mkdir -p -m 700 "$REGISTRY_CA_DIR"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=aip test fleet CA" -keyout "$REGISTRY_CA_DIR/ca.key" -out "$REGISTRY_CA_DIR/ca.crt" 2>/dev/null
}

# Every host's engine trusts the fleet's CA for the registry (dockerd reads certs.d on each pull).
trust() {
  local h H
  for h in "${ALL_HOSTS[@]}"; do
    H=$(host_dir "$h")
    [[ -d $H/etc-docker ]] || continue
    install -D -m 644 "$REGISTRY_CA_DIR/ca.crt" "$H/etc-docker/certs.d/$REGISTRY_ADDR:$REGISTRY_PORT/ca.crt"
  done
}

up() {
  ca
  if registry_running && tcp_open "$REGISTRY_ADDR" "$REGISTRY_PORT"; then
    trust
    log "registry already up at $REGISTRY_ADDR:$REGISTRY_PORT"
    return 0
  fi
  down_quiet
  mkdir -p -m 700 "$REGISTRY_DIR" "$REGISTRY_DIR/data"
  local D=$REGISTRY_DIR
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$REGISTRY_ADDR" \
    -keyout "$D/server.key" -out "$D/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$REGISTRY_ADDR" >"$D/server.ext"
  openssl x509 -req -in "$D/server.csr" -CA "$REGISTRY_CA_DIR/ca.crt" -CAkey "$REGISTRY_CA_DIR/ca.key" \
    -CAcreateserial -days 30 -extfile "$D/server.ext" -out "$D/server.crt" 2>/dev/null
  head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$D/password"
  htpasswd -B -i -c "$D/htpasswd" "$REGISTRY_USER" <"$D/password" 2>/dev/null
  cat >"$D/config.yml" <<CFG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $D/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR:$REGISTRY_PORT
  secret: $(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  tls:
    certificate: $D/server.crt
    key: $D/server.key
auth:
  htpasswd:
    realm: aip-fleet
    path: $D/htpasswd
CFG
  netns_attach "$REGISTRY_NETNS" "$REGISTRY_VETH" "$REGISTRY_ADDR"
  # setsid: its own session, so nothing that ends this script's job reaches it.
  setsid nsenter --net="/run/netns/$REGISTRY_NETNS" -- docker-registry serve "$D/config.yml" \
    </dev/null >>"$D/registry.log" 2>&1 &
  echo $! >"$D/pid"
  wait_for 20 "the registry ($D/registry.log)" tcp_open "$REGISTRY_ADDR" "$REGISTRY_PORT"
  trust
  log "registry up at $REGISTRY_ADDR:$REGISTRY_PORT"
}

down_quiet() {
  local p i
  p=$(read_pid "$REGISTRY_DIR/pid")
  if registry_running; then
    kill "$p" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do pid_alive "$p" || break; sleep 0.1; done
    pid_alive "$p" && kill -9 "$p" 2>/dev/null || true
  fi
  ip netns del "$REGISTRY_NETNS" 2>/dev/null || true
  ip link del "$REGISTRY_VETH" 2>/dev/null || true
  rm -rf "$REGISTRY_DIR"
}

case ${1:-} in
  up) up ;;
  down) down_quiet && log "registry down" ;;
  *) die "usage: registry.sh up|down" ;;
esac
