#!/usr/bin/env bash
# `make run`: the demo's daemons (scripts/demo.sh), then Raptor (`raptor all`, the terminal chat)
# in the foreground. However it ends (`exit`, Ctrl-C, the terminal closing), everything it started
# is stopped and named (scripts/stop.sh): nothing is left holding ports 8080 or 9001.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${RAPTOR_DATA:-$PWD/.raptor}"
(umask 077 && mkdir -p "$data")
chmod 0700 "$data" # Raptor's alone: procs run on this machine as other users (docs/security.md)

running=$( [ -f "$data/run.pid" ] && tr -dc '0-9' <"$data/run.pid" || true)
if [ -n "$running" ] && kill -0 "$running" 2>/dev/null; then
  echo "run: Raptor is already running from another make run (pid $running, data in $data); make stop stops it" >&2
  exit 1
fi

ended=0
started=0
finish() {
  [ "$ended" = 1 ] && return
  ended=1
  # A second Ctrl-C must not cut the clean-up short.
  # Nor a pipe that is gone (`make run | tee log`, tee ended by the same Ctrl-C): see stop.sh.
  trap '' INT TERM HUP PIPE
  if [ "$started" = 1 ]; then ./scripts/stop.sh --raptor-ended; else ./scripts/stop.sh; fi
}
trap finish EXIT
# The terminal closing (HUP) or a kill (TERM): Raptor gets the signal too; once it is gone, clean up.
trap 'exit 130' HUP TERM

./scripts/demo.sh
# Ctrl-C reaches Raptor (the terminal's foreground group) and it shuts down cleanly; this script
# then goes on to `finish`. run.pid is Raptor's own pid, for `make stop` from another terminal.
started=1
bash -c 'echo $$ >"$1/run.pid"; shift; exec "$@"' run "$data" ./bin/raptor all || true
