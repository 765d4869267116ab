# The README's two set-up commands. Both install what is missing first.
SHELL := /bin/bash

.PHONY: run stop test setup deps services typecheck bench build

export RAPTOR_DATA ?= $(CURDIR)/.raptor

run: setup
	@./scripts/demo.sh
	./bin/raptor all

# Stops the demo's nginx and supervisord (and the procs it runs), started by `make run`.
stop:
	-@[ -f "$(RAPTOR_DATA)/nginx/nginx.pid" ] && nginx -p "$(RAPTOR_DATA)/nginx" -c "$(RAPTOR_DATA)/nginx/nginx.conf" -e "$(RAPTOR_DATA)/nginx/error.log" -s quit
	-@[ -f "$(RAPTOR_DATA)/supervisord/supervisord.pid" ] && kill "$$(cat "$(RAPTOR_DATA)/supervisord/supervisord.pid")"

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
