# The two commands of the README:
#   make demo   set up and run the demo console on http://127.0.0.1:8000
#   make test   set up and run the whole test suite (PostgreSQL and the browser tests included)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup postgres chromium screenshots bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/warding demo

postgres:
	@bash scripts/ensure-postgres.sh

chromium:
	@bash scripts/ensure-chromium.sh

test: $(STAMP) postgres chromium
	$(BIN)/python -m pytest

# Pictures of the console for docs/console.md, taken by the browser tests.
screenshots: $(STAMP) chromium
	WARDING_SCREENSHOTS=docs/console $(BIN)/python -m pytest -q tests/test_browser.py

clean:
	rm -rf $(VENV) warding.db warding.db-* warding-data .pytest_cache

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run
