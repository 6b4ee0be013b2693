# The two commands of the README:
#   make demo   set up and run the demo console on http://127.0.0.1:8000
#   make test   set up and run the whole test suite (PostgreSQL included)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup postgres bench clean

$(STAMP): pyproject.toml setup.py warding/matching/_kernel.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/warding demo

postgres:
	@bash scripts/ensure-postgres.sh

test: $(STAMP) postgres
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) warding.db warding.db-* warding-data .pytest_cache

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run
