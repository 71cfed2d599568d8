# aidahub: `make run` serves the hub with demo data, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VAR := var
export AIDAHUB_DATA_DIR ?= $(CURDIR)/$(VAR)
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/aidahub

.PHONY: install run test test-deps lint check-django pytest pytest-sqlite pytest-postgres bench bench-deps bench-register bench-deid clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@$(BIN)/python -m compileall -q src > /dev/null  # as pip does for a regular install
	@touch $(STAMP)
	@echo "installed: $(BIN)/aidahub"

run: install
	@mkdir -p $(VAR)
	$(BIN)/aidahub manage migrate --noinput
	$(BIN)/aidahub manage collectstatic --noinput --verbosity 0
	$(BIN)/aidahub manage load_demo
	$(BIN)/aidahub run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy src/aidahub/deid

check-django: install
	@mkdir -p $(VAR)
	AIDAHUB_DATABASE_URL=sqlite:///$(CURDIR)/$(VAR)/check.sqlite3 $(BIN)/aidahub manage check --fail-level WARNING
	AIDAHUB_DATABASE_URL=sqlite:///$(CURDIR)/$(VAR)/check.sqlite3 $(BIN)/aidahub manage makemigrations --check --dry-run

pytest-sqlite: install
	AIDAHUB_DATABASE_URL=sqlite:///$(CURDIR)/$(VAR)/test.sqlite3 $(BIN)/pytest -n auto -p no:cacheprovider

pytest-postgres: install
	@if $(BIN)/python scripts/pg_available.py '$(PG_TEST_URL)'; then \
		AIDAHUB_DATABASE_URL='$(PG_TEST_URL)' $(BIN)/pytest -n auto -p no:cacheprovider -m 'not sqlite_only'; \
	else \
		echo "SKIPPED: PostgreSQL tests — no server answers at $(PG_TEST_URL) (set PG_TEST_URL to point at one)."; \
	fi

test: install test-deps lint check-django pytest-sqlite pytest-postgres

# Real peers the tests run against, from Debian: Tesseract (with English and Swedish) for
# the OCR of burned-in text; Chromium for the browser tests (tests/web/browser), which
# Playwright drives as it is installed here and never downloads a browser of its own.
TEST_DEBS := tesseract-ocr tesseract-ocr-eng tesseract-ocr-swe chromium chromium-driver
test-deps:
	@dpkg -s $(TEST_DEBS) >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_DEBS))

bench-deps:
	@command -v wrk >/dev/null && command -v nginx >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx)

bench: install bench-deps
	$(BIN)/python benchmarks/register.py
	$(BIN)/python benchmarks/deid.py

bench-register: install bench-deps
	$(BIN)/python benchmarks/register.py

bench-deid: install
	$(BIN)/python benchmarks/deid.py --profile-ours

clean:
	rm -rf $(VAR) .pytest_cache .ruff_cache
