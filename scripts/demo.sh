#!/usr/bin/env bash
# Prepares the embedded demo that `make run` uses, only where something is missing (the demo
# app needs nothing: the playbook deploys examples/hello as it is, `working_copy: true`):
#  - $RAPTOR_DATA (Raptor's database, log, builds, and the demo's Redis and supervisord) is
#    root's alone, 0700: procs run as other users (docs/security.md "Raptor's data"). What the
#    demo's host and balancer hold (proc dirs, nginx) is under $RAPTOR_DATA-demo instead.
#  - Raptor's own Redis on a unix socket in $RAPTOR_DATA/redis (scripts/demo-redis.sh).
#  - a supervisord for the `local` squad on 127.0.0.1:$RAPTOR_SUPERVISOR_PORT, including the
#    program files Raptor writes under $RAPTOR_DATA-demo/hosts/127.0.0.1/supervisor.
#  - an nginx on 127.0.0.1:$RAPTOR_NGINX_PORT (default 8080) for the `local` balancer, so a
#    deploy of `hello local` answers `curl 127.0.0.1:8080`. `make stop` stops both daemons.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${RAPTOR_DATA:-$PWD/.raptor}"
port="${RAPTOR_SUPERVISOR_PORT:-9001}"
user="${RAPTOR_SUPERVISOR_USER:-raptor}"
pass="${RAPTOR_SUPERVISOR_PASSWORD:-}"

demo="$data-demo"
root="$demo/hosts/127.0.0.1"
(umask 077 && mkdir -p "$data/supervisord")
chmod 0700 "$data"
# supervisord's XML-RPC port is on loopback, where the demo's procs are too: with a known
# password any proc could read every other app's log through it. Unless RAPTOR_SUPERVISOR_PASSWORD
# is set, a random one is made once and kept 0600 in $RAPTOR_DATA; Raptor reads it from there
# (bin/runtime.ts), so `bin/raptor say` beside `make run` has it too.
if [ -z "$pass" ]; then
  pwfile="$data/supervisord/password"
  if [ ! -s "$pwfile" ]; then
    (umask 077 && head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 >"$pwfile")
  fi
  chmod 0600 "$pwfile"
  pass=$(cat "$pwfile")
fi
mkdir -p "$root/supervisor"
# Both ports first, before anything starts: on a shared machine another user's supervisord or
# nginx may hold them. Ours is the one whose pid file's pid listens there (scripts/port-check.sh).
ngx="$demo/nginx"
nginx_port="${RAPTOR_NGINX_PORT:-8080}"
pid_of() { [ -f "$1" ] && tr -dc '0-9' <"$1" || true; }
sup_rc=0 ngx_rc=0
./scripts/port-check.sh "$port" RAPTOR_SUPERVISOR_PORT "$(pid_of "$data/supervisord/supervisord.pid")" || sup_rc=$?
./scripts/port-check.sh "$nginx_port" RAPTOR_NGINX_PORT "$(pid_of "$ngx/nginx.pid")" || ngx_rc=$?
[ "$sup_rc" = 1 ] || [ "$ngx_rc" = 1 ] && exit 1
./scripts/demo-redis.sh
# The demo's procs run as their app's unprivileged user, raptor-<app> (docs/security.md "Procs do
# not run as root"), which must be able to reach their directories: checked as `nobody`, another
# unprivileged user. A checkout under a private home (/root is 0700) cannot.
proc_user="${RAPTOR_PROC_USER:-nobody}"
if [ "$(id -u)" = 0 ] && id "$proc_user" >/dev/null 2>&1 && ! runuser -u "$proc_user" -- test -x "$root"; then
  blocked="" path=""
  IFS=/ read -ra parts <<< "${root#/}"
  for part in "${parts[@]}"; do
    path="$path/$part"
    if ! runuser -u "$proc_user" -- test -x "$path"; then blocked="$path"; break; fi
  done
  echo "make run: the demo's procs run as unprivileged users (raptor-<app>), which cannot enter $blocked (mode $(stat -c %a "$blocked"))," >&2
  echo "  so none of them could start. Clone Raptor where other users can read it (e.g. /srv/raptor)," >&2
  echo "  or keep the demo's data elsewhere: RAPTOR_DATA=/var/lib/raptor-demo make run" >&2
  exit 1
fi
conf="$data/supervisord/supervisord.conf"
(umask 077 && : >"$conf")
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
if [ "$sup_rc" != 3 ]; then
  echo "demo: starting supervisord on 127.0.0.1:$port" >&2
  # A cleared environment: supervisord's programs inherit it, and `make run`'s shell holds
  # RAPTOR_SECRET_KEY, the supervisord password and playbook secrets (procs get theirs from Raptor).
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 supervisord -c "$conf"
  for _ in $(seq 100); do curl -sf -o /dev/null -u "$user:$pass" "http://127.0.0.1:$port/RPC2" -d '<?xml version="1.0"?><methodCall><methodName>supervisor.getState</methodName></methodCall>' && break; sleep 0.1; done
fi

# nginx on 127.0.0.1:$RAPTOR_NGINX_PORT in front of the demo (the `local` balancer of
# playbooks/examples/balancers.yaml): its own prefix under $RAPTOR_DATA-demo/nginx, not the system one.
# Raptor owns $ngx/raptor/<pool>.conf; this server block (the operator's part) proxies to the pool.
mkdir -p "$ngx/raptor" "$ngx/tmp"
cat > "$ngx/nginx.conf" <<CONF
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
worker_processes 1;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $ngx/tmp/body;
  proxy_temp_path $ngx/tmp/proxy;
  fastcgi_temp_path $ngx/tmp/fastcgi;
  uwsgi_temp_path $ngx/tmp/uwsgi;
  scgi_temp_path $ngx/tmp/scgi;
  include $ngx/raptor/*.conf;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { proxy_pass http://hello_local; }
  }
}
CONF
# The pool's file before the first deploy: exactly what Raptor writes for an empty pool.
if [ ! -f "$ngx/raptor/hello_local.conf" ]; then
  cat > "$ngx/raptor/hello_local.conf" <<'CONF'
# Written by Raptor (balancer local, pool hello_local). Raptor rewrites this file on every
# deployment: change the server block that proxies to http://hello_local instead.
upstream hello_local {
    server 127.0.0.1:9 down; # raptor: empty pool placeholder
}
CONF
fi
nginx_argv=(nginx -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log")
"${nginx_argv[@]}" -t -q
if [ -f "$ngx/nginx.pid" ] && kill -0 "$(cat "$ngx/nginx.pid")" 2>/dev/null; then
  "${nginx_argv[@]}" -s reload
else
  echo "demo: starting nginx on 127.0.0.1:$nginx_port (deploys of hello local are reachable there)" >&2
  "${nginx_argv[@]}"
fi
