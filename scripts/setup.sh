#!/usr/bin/env bash
# Installs what Raptor needs and starts the services it uses, only where they are missing.
# Safe to run again: every step checks first. Used by `make run` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

# Node.js 20+ with npm runs Raptor (TypeScript through tsx). Debian's own nodejs is older, so
# this is the one thing setup does not install by itself.
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  say "Raptor needs Node.js 20 or newer with npm (found: $(node --version 2>/dev/null || echo none))."
  say "install it from https://nodejs.org or your distribution's nodesource packages, then run make again"
  exit 1
fi

# System packages: binary -> Debian package.
declare -A PKG=(
  [redis-server]=redis-server
  [pg_ctlcluster]=postgresql
  [psql]=postgresql-client
  [supervisord]=supervisor
  [sshd]=openssh-server
  [ssh-keygen]=openssh-client
  [nginx]=nginx
  [varnishd]=varnish
  [haproxy]=haproxy
  [socat]=socat            # the HAProxy backend talks to the runtime API socket through it
  [git]=git
  [curl]=curl
  [bwrap]=bubblewrap
)
missing=()
for bin in "${!PKG[@]}"; do
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then missing+=("${PKG[$bin]}"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "missing system packages: ${missing[*]}"
    say "run as root on Debian:  apt-get update && apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian starts some daemons on install; Raptor runs its own instances on loopback.
  for svc in nginx varnish haproxy supervisor; do service "$svc" stop >/dev/null 2>&1 || true; done
fi

# The unprivileged user builds run sandboxed as (engine/build/sandbox.ts). Procs run as their
# app's own user, raptor-<app>, which Raptor creates when the app first starts on a host
# (runners/proc-user.ts, docs/security.md). Only root can make users.
if [ "$(id -u)" = 0 ]; then
  for u in raptor-build; do
    if ! getent passwd "$u" >/dev/null; then
      say "creating system user $u"
      useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
    fi
  done
fi

# Node dependencies, reinstalled when the lockfile changed.
# A node_modules that is a symlink is a shared install (several work trees of one clone): npm ci
# would replace it and empty the install the others use, so it is left to its owner.
if [ -L node_modules ]; then
  :
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # ssh2's two native add-ons (cpu-features, which orders ciphers by the CPU, and its own crypto
  # binding) are optional: ssh2 runs without them. Compiling them took ~6 minutes of a first
  # `make run` with no word said, so they are skipped unless asked for. Nothing else installs by
  # script but esbuild (tsx), whose install step only checks its prebuilt binary.
  if [ "${RAPTOR_NATIVE_ADDONS:-0}" = 1 ]; then
    say "installing node modules (npm ci) and compiling ssh2's optional native add-ons (cpu-features, its crypto binding): several minutes"
    npm ci --no-audit --no-fund --loglevel=error
  else
    say "installing node modules (npm ci, about a minute on a fresh machine; ssh2's optional native add-ons are not compiled: RAPTOR_NATIVE_ADDONS=1 make setup does)"
    npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
    npm rebuild esbuild --no-audit --no-fund --loglevel=error
  fi
  say "node modules installed"
fi

# Redis.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting redis on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/raptor.log
  for _ in $(seq 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# Postgres: the suite needs a server on 127.0.0.1:5432 that lets user postgres in.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    say "postgres is not running on 127.0.0.1:5432; as root run: pg_ctlcluster \$(ls /etc/postgresql) main start"
    exit 1
  fi
  ver=$(ls /etc/postgresql | sort -n | tail -1)
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  # A fresh Debian cluster wants a password on TCP; the test machine trusts loopback.
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  say "starting postgres $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  for _ in $(seq 100); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.1; done
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database test'
fi
