# game-market-pipeline — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)
# The stamp names the two pyprojects' checksum: a change to either reinstalls.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml dev/pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help venv run test test-fast lint schema ui stop-local clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml dev/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]" -e ./dev
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP) ## create the virtualenv; install the package and the dev tools (dev/, gmp_dev) (idempotent)

run: venv ## the whole pipeline end to end on the local stack (embedded Postgres, moto S3, replay APIs)
	$(PY) -m gmp_dev.local.run_all

test: venv helm-tool ## the whole test suite (real Postgres, S3 endpoint and HTTP replay server)
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: venv ## unit tests only
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

lint: venv ## ruff (lint + format check) over the tree, mypy over include/ (strict modules: pyproject.toml)
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check
	$(VENV)/bin/mypy

schema: venv ## export the config's JSON Schema for editors and pre-commit
	$(VENV)/bin/gmp-config-schema -o include/config/endpoints.schema.json

ui: venv ## Airflow itself (API server on 127.0.0.1:8080, scheduler, dag-processor, triggerer) on the local stack
	$(PY) -m gmp_dev.local.ui

stop-local: venv ## stop the local stack's background servers
	$(VENV)/bin/gmp-local-stack stop

clean: stop-local ## remove local state (.local/)
	rm -rf .local

-include make/*.mk
