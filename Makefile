# PILOT — every target works on a fresh machine with Python 3.11+ and network access
# to PyPI. Dependencies are pinned in uv.lock.
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
UV_VERSION := 0.13.8

.PHONY: install demo serve test test-pg lint format schema bench bench-postgraphile clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet --compile-bytecode --reinstall-package pilot
	$(VENV)/bin/python -m compileall -q -j 0 pilot importers scorecards >/dev/null
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

install: $(VENV)/.installed node_modules/.installed  ## Create .venv and node_modules (DSFR, axe-core) from the lock files

demo: install  ## Migrate var/pilot.db, load the two real editions, serve on :8000 (demo login)
	PILOT_DEMO_LOGIN=true $(VENV)/bin/pilot demo

serve: install
	$(VENV)/bin/pilot serve

test: install  ## The whole test suite (also on PostgreSQL when PILOT_TEST_DATABASE_URL is set)
	$(VENV)/bin/python -m pytest

test-pg: install
	PILOT_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(VENV)/bin/python -m pytest

lint: install  ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy pilot importers scorecards tests benchmarks

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench-postgraphile: install  ## PILOT's GraphQL against PostGraphile 5 on a scratch PostgreSQL database
	$(UV) sync --frozen --quiet --group bench
	$(VENV)/bin/python benchmarks/graphql_vs_postgraphile.py
	$(UV) sync --frozen --quiet

clean:
	rm -rf $(VENV) $(TOOLS) node_modules var .pytest_cache .mypy_cache .ruff_cache
