#!/usr/bin/env bash
# A hostile build step: looks for Raptor's environment, processes, database and Redis, and
# prints whatever it finds (so a leak would land in the build log). Never fails the build.
echo "probe: uid=$(id -u)"
env | sed 's/^/probe-env: /'
for f in /proc/[0-9]*/environ /proc/$PPID/environ; do
  tr '\0' '\n' < "$f" 2>/dev/null | sed "s|^|probe-environ $f: |"
done
for f in /proc/[0-9]*/cmdline; do echo "probe-proc $f: $(tr '\0' ' ' < "$f" 2>/dev/null)"; done
echo "probe: processes=$(ls -d /proc/[0-9]* | wc -l)"
if (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && timeout 2 head -c 7 <&3) 2>/dev/null; then echo "probe: REDIS REACHED"; else echo "probe: redis unreachable"; fi
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then echo "probe: POSTGRES REACHED"; else echo "probe: postgres unreachable"; fi
if cat /etc/shadow >/dev/null 2>&1; then echo "probe: SHADOW READ"; else echo "probe: shadow unreadable"; fi
# guess-paths (next to this script): Raptor's data dir and checkout, as the test planted them.
for d in /root /work /home /var/lib/postgresql /var/lib/redis $(cat "$(dirname "$0")/guess-paths" 2>/dev/null); do
  if [ -e "$d" ]; then echo "probe: SAW $d"; fi
done
if touch /usr/probe-was-here 2>/dev/null; then echo "probe: SYSTEM WRITABLE"; else echo "probe: system read-only"; fi
echo "probe: done"
