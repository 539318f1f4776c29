#!/usr/bin/env bash
# The original scripts' way (suparious/openapi-ai-platform scripts/deploy.sh): one host after another,
# scp the files, then ssh to run Compose. Usage: sequential.sh HOSTS_TSV RENDERED KNOWN_HOSTS IDENTITY
# HOSTS_TSV lines: name<TAB>address<TAB>compose command (e.g. "docker compose")<TAB>base dir<TAB>local|ssh
set -euo pipefail
hosts=$1 rendered=$2 known=$3 key=$4
ssh_opts=(-o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$known" -i "$key")
# The host list comes in on fd 3: ssh and scp read stdin, and on fd 0 they would swallow the rest of
# the list (the loop then deployed only its first host and still exited 0).
done_hosts=0
while IFS=$'\t' read -r -u 3 name address compose base transport; do
  [[ -n $name ]] || continue
  if [[ $transport == local ]]; then
    mkdir -p "$base/files" "$base/sequential"
    cp -r "$rendered/$name/files/." "$base/files/" 2>/dev/null || true
    cp "$rendered/$name/compose.yaml" "$rendered/$name/.env" "$base/sequential/"
    $compose --project-name ai-platform --project-directory "$base" --file "$base/sequential/compose.yaml" --env-file "$base/sequential/.env" up --detach --remove-orphans >/dev/null 2>&1
    done_hosts=$((done_hosts + 1))
    continue
  fi
  ssh "${ssh_opts[@]}" "deploy@$address" "mkdir -p $base/files $base/sequential"
  if [[ -d $rendered/$name/files ]]; then scp -q -r "${ssh_opts[@]}" "$rendered/$name/files/." "deploy@$address:$base/files/"; fi
  scp -q "${ssh_opts[@]}" "$rendered/$name/compose.yaml" "$rendered/$name/.env" "deploy@$address:$base/sequential/"
  ssh "${ssh_opts[@]}" "deploy@$address" "$compose --project-name ai-platform --project-directory $base --file $base/sequential/compose.yaml --env-file $base/sequential/.env up --detach --remove-orphans" >/dev/null 2>&1
  done_hosts=$((done_hosts + 1))
done 3< "$hosts"
echo "sequential: $done_hosts of $(grep -c . "$hosts") hosts deployed" >&2
[[ $done_hosts -eq $(grep -c . "$hosts") ]]
