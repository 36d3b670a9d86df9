# Two commands matter: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck bench clean

$(BIN)/draftbot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.test-deps: $(BIN)/draftbot
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

run: $(BIN)/draftbot
	$(BIN)/draftbot serve

test: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(VENV)/.test-deps
	$(BIN)/python bench/concurrency.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
