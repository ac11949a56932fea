# BackCare developer commands. Quickstart: `make demo` and `make test` (see README.md).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
PY := $(VENV)/bin/python
SQLITE_TEST_URL ?= sqlite:///$(CURDIR)/test.sqlite3
POSTGRES_TEST_URL ?= postgres://postgres@127.0.0.1:5432/backcare
# Settings for commands run here: development values, never used in production.
DEV_ENV := DEBUG=1
PYTEST_ARGS ?=

.PHONY: help setup demo serve test check lint format typecheck migrations-check security-lint dependency-audit architecture \
        test-sqlite test-postgres browser-deps system-deps postgres-ready postgres-client clean \
        bench bench-quick bench-sqlite bench-deps

help:  ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

setup: system-deps $(VENV)/.synced node_modules/.package-lock.json  ## Install Python and front-end dependencies

system-deps:  ## Install Debian's Pango (WeasyPrint renders PDFs with it) when it is missing
	@/sbin/ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || { \
	  echo "Installing Pango from Debian's packages for PDF rendering..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; }

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

demo: setup  ## Migrate a SQLite database, load the demo clinic and serve it on 127.0.0.1:$(PORT)
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py load_demo
	@echo
	@echo "BackCare is running at http://127.0.0.1:$(PORT)/  (stop it with Ctrl+C)"
	@echo "Staff sign in without an authenticator app in the demo only (BACKCARE_REQUIRE_STAFF_MFA=0)."
	@echo
	$(DEV_ENV) SITE_URL=http://127.0.0.1:$(PORT) BACKCARE_REQUIRE_STAFF_MFA=0 exec $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: setup browser-deps check test-sqlite test-postgres  ## Run the whole suite: checks, then pytest on SQLite and on PostgreSQL

check: lint typecheck migrations-check security-lint architecture  ## Lint, format check, types, migrations, security lint, layout

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:  ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck:
	$(DEV_ENV) $(VENV)/bin/mypy .

security-lint:  ## bandit over our code: fails on any high-severity finding
	$(VENV)/bin/bandit -q -r backcare config -x '*/tests/*' --severity-level high

# Each waiver: vulnerability id, the date it was waived, and why (docs/security.md).
AUDIT_WAIVERS := dependency-audit-waivers.txt

dependency-audit:  ## pip-audit of the locked packages: fails on a known vulnerability without a waiver, or on any package it could not check
	@set -o pipefail; requirements=$$(mktemp); trap 'rm -f "$$requirements"' EXIT; \
	$(UV) export --frozen --no-hashes --no-emit-project --format requirements-txt > "$$requirements"; \
	ignored=$$(grep -v '^\s*#' $(AUDIT_WAIVERS) | awk 'NF { printf "--ignore-vuln %s ", $$1 }'); \
	$(VENV)/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r "$$requirements" $$ignored

migrations-check:
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run

architecture:  ## Import direction and layout rules of ARCHITECTURE.md (also part of pytest)
	$(PY) -m pytest -q tests/test_architecture.py

test-sqlite: setup
	DATABASE_URL=$(SQLITE_TEST_URL) $(PY) -m pytest $(PYTEST_ARGS)

test-postgres: setup postgres-ready postgres-client
	DATABASE_URL=$(POSTGRES_TEST_URL) $(PY) -m pytest $(PYTEST_ARGS)

postgres-ready:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not answering on 127.0.0.1:5432. Start it (see .ci/run), or set POSTGRES_TEST_URL."; exit 1; }

postgres-client:  ## Install Debian's PostgreSQL client (pg_dump, pg_restore: backup and restore) when missing
	@{ command -v pg_dump >/dev/null && command -v pg_restore >/dev/null; } || { \
	  echo "Installing the PostgreSQL client from Debian's packages for backups..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql-client >/dev/null; }

browser-deps:  ## Install Debian's chromium (browser tests) and poppler-utils (PDF checks) when missing
	@{ test -x /usr/bin/chromium && command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null; } || { \
	  echo "Installing chromium and poppler-utils from Debian's packages for the tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium poppler-utils >/dev/null; }

# Benchmarks (issue 10, docs/performance.md): not part of `make test`. `make bench` generates the
# M tier's database (backcare_bench_m) and, for the L/M availability figure, the L tier's
# (backcare_bench_l: ten times M's history, disk and generation time) when they are missing.
TIER ?= M

bench: setup bench-deps postgres-ready  ## Measure every figure at the M tier on PostgreSQL (bench/results/latest.json)
	$(PY) bench/run.py --tier $(TIER)

bench-quick: setup bench-deps postgres-ready  ## The same figures at the S tier, fewer and shorter runs (under 5 minutes)
	$(PY) bench/run.py --tier S --quick

bench-sqlite: setup bench-deps  ## The same figures at the S tier on SQLite, quick runs
	$(PY) bench/run.py --tier S --sqlite --quick

bench-deps:  ## Install Debian's wrk (the load tool of the benchmarks) when it is missing
	@command -v wrk >/dev/null || { \
	  echo "Installing wrk from Debian's packages for the benchmarks..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

clean:  ## Remove local databases and caches (not the virtual environment)
	rm -f backcare.sqlite3* test.sqlite3*
	rm -rf .mypy_cache .ruff_cache staticfiles
