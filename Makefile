# The README's two set-up commands. Both install what is missing first.
SHELL := /bin/bash

.PHONY: run stop test setup deps services typecheck bench build

export RAPTOR_DATA ?= $(CURDIR)/.raptor

# Raptor and the demo's daemons; Ctrl-C (or `exit`) stops them all and says what it stopped.
# playbooks/local/ (git-ignored) is for one's own apps: loaded with playbooks/examples by default.
run: setup
	@mkdir -p playbooks/local
	@./scripts/run.sh

# Stops what `make run` started (Raptor, the demo's supervisord and its procs, its nginx), from
# another terminal or after a `make run` that was killed; says what it stopped.
stop:
	@./scripts/stop.sh

test: setup
	npx tsc --noEmit
	npx vitest run

setup:
	@./scripts/setup.sh

# Production runs compiled JavaScript (dist/), not tsx.
build: setup
	./scripts/build.sh dist

typecheck:
	npx tsc --noEmit

bench: setup
	npx tsx bench/deploy-fanout.ts
	npx tsx bench/ssh-edge.ts
	npx tsx bench/route.ts
	npx tsx bench/ack.ts
	npx tsx bench/floor.ts
	npx tsx bench/throughput.ts
	npx tsx bench/layout-ops.ts
