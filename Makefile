# Two commands set everything up: `make run` and `make test`. See README.md.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PYTHON ?= python3

# PostgreSQL and Redis on this machine are used by the tests when they answer.
answers = $(shell (exec 3<>/dev/tcp/127.0.0.1/$(1)) 2>/dev/null && echo yes)
TEST_DATABASE_URL ?= $(if $(call answers,5432),postgresql://postgres@127.0.0.1:5432/test)
TEST_REDIS_URL ?= $(if $(call answers,6379),redis://127.0.0.1:6379/0)

.PHONY: run test lint bench fuzz docs clean web chromium

# The web client: `npm ci` when package-lock.json changed, a build when its sources changed.
WEB_DEPS := web/node_modules/.installed-$(shell cksum < web/package-lock.json | cut -d' ' -f1)
WEB_SRC := $(shell find web/src web/public web/scripts -type f) \
	web/index.html web/package.json web/vite.config.ts web/svelte.config.js web/tsconfig.json
WEB_BUILT := web/dist/.built

$(WEB_DEPS): web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	rm -f web/node_modules/.installed-*
	touch $@

$(WEB_BUILT): $(WEB_DEPS) $(WEB_SRC)
	cd web && npm run build
	touch $@

web: $(WEB_BUILT)

# The browser tests drive Debian's Chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

$(STAMP): requirements.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

# `make run PORT=9000 HOST=0.0.0.0`: another port or address (else DARBUKA_PORT/HOST, else 127.0.0.1:8080).
run: $(STAMP) $(WEB_BUILT)
	$(BIN)/darbuka serve --data-dir data $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST))

lint: $(STAMP) $(WEB_DEPS)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	cd web && npm run --silent check
	cd web && npm run --silent lint

test: $(STAMP) lint $(WEB_BUILT) chromium
	DARBUKA_TEST_DATABASE_URL="$${DARBUKA_TEST_DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	DARBUKA_TEST_REDIS_URL="$${DARBUKA_TEST_REDIS_URL:-$(TEST_REDIS_URL)}" \
	$(BIN)/python -m pytest

# Generated requests against every operation of the API, signed in: no answer may be a 5xx.
# `make test` runs 5 cases per operation; this runs 105 (over 10,000 requests in all).
fuzz: $(STAMP)
	DARBUKA_FUZZ_CASES=$${DARBUKA_FUZZ_CASES:-105} \
	DARBUKA_TEST_DATABASE_URL="$${DARBUKA_TEST_DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	$(BIN)/python -m pytest -q -s tests/security/test_fuzz.py

docs: $(STAMP)
	$(BIN)/python -m darbuka.reference docs/api.md

bench: $(STAMP) $(WEB_BUILT)
	cd web && node scripts/sizes.mjs
	$(BIN)/python bench/run.py
	$(BIN)/python bench/orders.py
	$(BIN)/python bench/media.py
	$(BIN)/python bench/pdq.py
	$(BIN)/python bench/retro.py
	$(BIN)/python bench/channel.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/polls.py
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/writers.py

clean:
	rm -rf $(VENV) web/node_modules web/dist build src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
