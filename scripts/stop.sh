#!/usr/bin/env bash
# Stops what `make run` started and says what it stopped: Raptor (make run's `raptor all`), the
# demo's supervisord with the procs it runs, and the demo's nginx. `make stop` runs it, and so
# does `make run` when it ends (Ctrl-C, or its terminal closing). Found by the pid files under
# $RAPTOR_DATA, so it touches nothing but the demo's own processes. Releases, config and history
# stay in $RAPTOR_DATA: the next `make run` starts the daemons again and the beat's reconcile job
# brings the procs of the last release back (a repair, within 30 s).
set -uo pipefail
# Its output may go to a pipe that is gone (`make run 2>&1 | tee log`: Ctrl-C ends tee as well):
# a write must then fail quietly, not end the script (SIGPIPE) before the daemons are stopped.
trap '' PIPE
cd "$(dirname "$0")/.."
data="${RAPTOR_DATA:-$PWD/.raptor}"

say() { printf 'stop: %s\n' "$*"; }
pid_in() { [ -f "$1" ] && tr -dc '0-9' <"$1"; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
# Waits up to $2 tenths of a second for pid $1 to be gone.
gone_within() {
  local i
  for ((i = 0; i < $2; i++)); do alive "$1" || return 0; sleep 0.1; done
  ! alive "$1"
}

# What runs now, before anything is stopped (a `make run` ending at the same time may stop some
# of it itself: the report is about what was running and is not any more).
raptor=$(pid_in "$data/run.pid")
alive "$raptor" || raptor=""
sup=$(pid_in "$data/supervisord/supervisord.pid")
alive "$sup" || sup=""
sup_conf="$data/supervisord/supervisord.conf"
procs=""
if [ -n "$sup" ]; then
  procs=$(supervisorctl -c "$sup_conf" status 2>/dev/null | awk '$2 == "RUNNING" || $2 == "STARTING" || $2 == "BACKOFF" { print $1 }' | paste -sd ' ' -)
  sup_port=$(sed -n 's/^port=//p' "$sup_conf" | head -1)
fi
ngx="$data-demo/nginx"
nginx=$(pid_in "$ngx/nginx.pid")
alive "$nginx" || nginx=""
redis=$(pid_in "$data/redis/redis.pid")
alive "$redis" || redis=""
[ -n "$nginx" ] && nginx_listen=$(sed -n 's/^ *listen \([^;]*\);.*/\1/p' "$ngx/nginx.conf" | head -1)

# make run's own ending (scripts/run.sh): Raptor has just stopped by itself (Ctrl-C, exit).
[ "${1:-}" = "--raptor-ended" ] && say "stopped Raptor (raptor all)"

if [ -z "$raptor$sup$nginx$redis" ]; then
  [ "${1:-}" = "--raptor-ended" ] && exit 0
  say "nothing to stop: no Raptor, supervisord, nginx or redis of $data is running"
  exit 0
fi

# Raptor first, so it does not see its procs vanish and start repairing them.
if [ -n "$raptor" ]; then
  kill -TERM "$raptor" 2>/dev/null
  if gone_within "$raptor" 300; then
    say "stopped Raptor (raptor all, pid $raptor)"
  else
    say "Raptor (pid $raptor) did not stop within 30 s; stop it with: kill -9 $raptor"
  fi
fi
rm -f "$data/run.pid"

# One stopper of the daemons at a time (make run's own ending and a make stop may overlap).
exec 9>"$data/stop.lock"
flock 9
if [ -n "$sup" ]; then
  # supervisord stops its procs (SIGTERM, then SIGKILL after each program's stopwaitsecs) and exits.
  # That takes a while (up to each proc's stopwaitsecs, ~20 s for the demo): say so first.
  n=$(wc -w <<<"$procs")
  what=""
  [ "$n" -eq 1 ] && what=" and its proc $procs"
  [ "$n" -gt 1 ] && what=" and its $n procs: $procs"
  count=""
  [ "$n" -eq 1 ] && count=" and its proc"
  [ "$n" -gt 1 ] && count=" and its $n procs"
  alive "$sup" && say "stopping supervisord (pid $sup)$count…"
  alive "$sup" && kill -TERM "$sup" 2>/dev/null
  if gone_within "$sup" 300; then
    say "stopped supervisord (pid $sup, $sup_port)$what"
  else
    say "supervisord (pid $sup) did not stop within 30 s; stop it with: kill -9 $sup"
  fi
fi
if [ -n "$nginx" ]; then
  alive "$nginx" && nginx -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log" -s quit 2>/dev/null
  if gone_within "$nginx" 100; then
    say "stopped nginx (pid $nginx, $nginx_listen)"
  else
    say "nginx (pid $nginx) did not stop within 10 s; stop it with: kill $nginx"
  fi
fi
if [ -n "$redis" ]; then
  # After Raptor: it must not lose its Redis while it is still finishing.
  alive "$redis" && redis-cli -s "$data/redis/redis.sock" shutdown >/dev/null 2>&1
  if gone_within "$redis" 100; then
    say "stopped redis (pid $redis, $data/redis/redis.sock)"
  else
    say "redis (pid $redis) did not stop within 10 s; stop it with: kill $redis"
  fi
fi
