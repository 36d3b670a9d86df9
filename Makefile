# Two commands matter: `make run` and `make test` (and `make demo`, to try Draftbot without
# Slack or Anthropic). They create .venv on first use and reinstall when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run demo demo-serve test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/draftbot serve

# Draftbot without Slack or Anthropic: fakes on 127.0.0.1, demo data in demo/data/.
demo: $(VENV)/.installed
	$(BIN)/python -m demo

# The same, then the servers stay up for trying things by hand (Ctrl-C stops them).
demo-serve: $(VENV)/.installed
	$(BIN)/python -m demo --keep-running

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: $(VENV)/.installed-test
	$(BIN)/python bench/concurrency.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo/data
