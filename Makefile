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

.PHONY: run test lint bench docs clean

$(STAMP): requirements.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(BIN)/darbuka serve --data-dir data

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: $(STAMP) lint
	DARBUKA_TEST_DATABASE_URL="$${DARBUKA_TEST_DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	DARBUKA_TEST_REDIS_URL="$${DARBUKA_TEST_REDIS_URL:-$(TEST_REDIS_URL)}" \
	$(BIN)/python -m pytest

docs: $(STAMP)
	$(BIN)/python -m darbuka.api.reference docs/api.md

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
