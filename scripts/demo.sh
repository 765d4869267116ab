#!/usr/bin/env bash
# Prepares the embedded demo that `make run` uses, only where something is missing:
#  - a git repo of examples/hello under $RAPTOR_DATA/repos/hello (the playbook deploys from it),
#    with a new commit whenever examples/hello changed;
#  - a supervisord for the `local` squad on 127.0.0.1:$RAPTOR_SUPERVISOR_PORT, including the
#    program files Raptor writes under $RAPTOR_DATA/hosts/127.0.0.1/supervisor.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${RAPTOR_DATA:-$PWD/.raptor}"
port="${RAPTOR_SUPERVISOR_PORT:-9001}"
user="${RAPTOR_SUPERVISOR_USER:-raptor}"
pass="${RAPTOR_SUPERVISOR_PASSWORD:-raptor}"

repo="$data/repos/hello"
mkdir -p "$repo"
[ -d "$repo/.git" ] || git -C "$repo" init -q -b main
rsync -a --delete --exclude .git examples/hello/ "$repo/" 2>/dev/null || { find "$repo" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +; cp -a examples/hello/. "$repo/"; }
git -C "$repo" add -A
if ! git -C "$repo" diff --cached --quiet 2>/dev/null || ! git -C "$repo" rev-parse -q --verify HEAD >/dev/null; then
  git -C "$repo" -c user.name=raptor -c user.email=raptor@localhost commit -qm "hello demo $(date -u +%FT%TZ)"
fi

root="$data/hosts/127.0.0.1"
mkdir -p "$root/supervisor" "$data/supervisord"
conf="$data/supervisord/supervisord.conf"
cat > "$conf" <<CONF
[supervisord]
logfile=$data/supervisord/supervisord.log
pidfile=$data/supervisord/supervisord.pid
childlogdir=$data/supervisord
[inet_http_server]
port=127.0.0.1:$port
username=$user
password=$pass
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=http://127.0.0.1:$port
username=$user
password=$pass
[include]
files = $root/supervisor/*.conf
CONF
if ! curl -s -o /dev/null -u "$user:$pass" "http://127.0.0.1:$port/RPC2" -d '<?xml version="1.0"?><methodCall><methodName>supervisor.getState</methodName></methodCall>'; then
  echo "demo: starting supervisord on 127.0.0.1:$port" >&2
  supervisord -c "$conf"
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/RPC2" && break; sleep 0.1; done
fi
