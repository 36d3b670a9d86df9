# Two commands matter: `make run` and `make test` (and `make demo`, to try Draftbot without
# Slack or Anthropic). They create .venv on first use and reinstall when pyproject.toml or
# requirements.txt changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The versions in requirements.txt (the lock platforms install) hold in .venv too, so the
# tests run what a deploy runs. pip takes no path (the `.` line) in a constraints file.
CONSTRAINTS := $(VENV)/constraints.txt

.PHONY: run demo demo-serve test lint typecheck bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(CONSTRAINTS): requirements.txt | $(BIN)/python
	grep -vx '\.' requirements.txt >$@

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
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

# Lock again after changing dependencies in pyproject.toml: requirements.txt keeps its pins
# where they still fit (`make lock LOCK_FLAGS=--upgrade` moves all to the newest releases).
# The `.` line in it installs Draftbot itself, for the Procfile's `draftbot serve`.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv>=0.5'
	echo . | $(BIN)/uv pip compile - --universal --quiet --custom-compile-command 'make lock' \
		$(LOCK_FLAGS) -o requirements.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo/data
