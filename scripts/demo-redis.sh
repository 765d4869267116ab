#!/usr/bin/env bash
# The demo's own Redis (`make run`, scripts/demo.sh), started only when it is not running: no TCP
# port at all, only a unix socket at $RAPTOR_DATA/redis/redis.sock in a directory only root (the
# user Raptor runs as) can enter, so the demo's procs, which run as other users on the same
# machine, cannot reach Raptor's queues and events (docs/security.md "Raptor's data"). Raptor
# uses that socket when REDIS_URL is unset (bin/runtime.ts), so `bin/raptor say` beside
# `make run` finds it too. Its data is kept in the same directory (append-only file).
set -euo pipefail
data="${RAPTOR_DATA:-$PWD/.raptor}"
dir="$data/redis"
sock="$dir/redis.sock"
(umask 077 && mkdir -p "$dir")
chmod 0700 "$data" "$dir"
if redis-cli -s "$sock" ping >/dev/null 2>&1; then exit 0; fi
echo "demo: starting redis on the unix socket $sock (no TCP port)" >&2
# Its append-only file holds job data: 0600, as every file of RAPTOR_DATA should be.
umask 077
redis-server --daemonize yes --port 0 --unixsocket "$sock" --unixsocketperm 700 \
  --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
  --save "" --appendonly yes
for _ in $(seq 100); do redis-cli -s "$sock" ping >/dev/null 2>&1 && exit 0; sleep 0.1; done
echo "demo: redis did not answer on $sock within 10 s; see $dir/redis.log" >&2
exit 1
