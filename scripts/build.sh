#!/usr/bin/env bash
# Compiles Raptor to plain JavaScript for production (`node <out>/bin/raptor.js worker`), so a
# long-running process carries neither tsx nor its start-up cost. Usage: scripts/build.sh [out-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist}"
rm -rf "$out"
npx tsc -p tsconfig.build.json --outDir "$out"
# Files the code finds next to itself at run time (db/client.ts, engine's buildpack dir).
mkdir -p "$out/db"
cp -r db/migrations "$out/db/"
cp -r buildpacks "$out/"
echo "built $out: run with node $out/bin/raptor.js <bot|worker|beat|all|say ...>" >&2
