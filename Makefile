# The README's two set-up commands. Both install what is missing first.
SHELL := /bin/bash

.PHONY: run test setup deps services typecheck bench

export RAPTOR_DATA ?= $(CURDIR)/.raptor

run: setup
	@./scripts/demo.sh
	./bin/raptor all

test: setup
	npx tsc --noEmit
	npx vitest run

setup:
	@./scripts/setup.sh

typecheck:
	npx tsc --noEmit

bench: setup
	npx tsx bench/deploy-fanout.ts
	npx tsx bench/ssh-edge.ts
