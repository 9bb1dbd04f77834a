# The two commands: `make demo` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser test test-all demo bench lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Debian's chromium for the browser tests: installed (as root) only when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and cannot be installed here: browser tests will fail"; fi; }

## Run the test suite (fast tests, SQLite; set THROUGHLINE_TEST_DATABASE_URL for PostgreSQL).
test: install browser
	$(BIN)/pytest

## Run every test, including those marked slow.
test-all: install browser
	$(BIN)/pytest -m "slow or not slow"

## Start the demo: fake trackers, real connectors, a local SQLite store, at a printed URL.
demo: install
	$(BIN)/throughline demo

## Run every benchmark and write bench/RESULTS.md.
bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
