# The README's two set-up commands. Both install what is missing first.
SHELL := /bin/bash

.PHONY: run test setup deps services typecheck bench build

export RAPTOR_DATA ?= $(CURDIR)/.raptor

run: setup
	@./scripts/demo.sh
	./bin/raptor all

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
