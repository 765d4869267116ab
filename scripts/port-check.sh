#!/usr/bin/env bash
# Usage: scripts/port-check.sh PORT VARIABLE [OUR_PID]
# Whether `make run` (scripts/demo.sh) may use TCP port PORT on 127.0.0.1 for one of its daemons:
#   exit 0: nothing listens on PORT (on any address), so the daemon can be started;
#   exit 3: OUR_PID (the daemon's pid from its pid file under $RAPTOR_DATA) listens on it: it is
#           this make run's own daemon, already running;
#   exit 1: something else holds it (another user's supervisord, say): one line on stderr names
#           the port, the holder (program and pid, when `ss -p` may see them) and VARIABLE to set,
#           with a port that is free now.
# An HTTP answer is not proof of ownership (another supervisord answers 401): the pid is.
set -euo pipefail
port="$1" var="$2" ours="${3:-}"
listening() { ss -Hltnp "sport = :$1" 2>/dev/null || true; }
held=$(listening "$port")
[ -z "$held" ] && exit 0
pids=$(grep -o 'pid=[0-9]*' <<<"$held" | cut -d= -f2 | sort -u || true)
if [ -n "$ours" ] && grep -qx "$ours" <<<"$pids"; then exit 3; fi
# ss -p lists ("program",pid=N,fd=M) for each process holding the socket; none when they are
# another user's and this one is not root.
holder="another user's program (pid not visible to $(id -un))"
first=$(grep -o '(("[^"]*",pid=[0-9]*' <<<"$held" | head -1 || true)
if [ -n "$first" ]; then
  prog=${first#*\"}; prog=${prog%%\"*}
  holder="$prog (pid ${first##*pid=})"
fi
free=""
for ((p = port + 1; p < port + 200 && p < 65536; p++)); do
  if [ -z "$(listening "$p")" ]; then free=$p; break; fi
done
echo "make run: port $port is held by $holder; set $var=${free:-<a free port>} (free now), e.g. $var=${free:-<a free port>} make run" >&2
exit 1
