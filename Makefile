# The two commands a newcomer needs: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint fmt typecheck pytest migrate bench console serve clean mutants

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "numbers-bot needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/numbers-bot run

console: $(STAMP)
	$(BIN)/numbers-bot console

serve: $(STAMP)
	$(BIN)/numbers-bot serve

migrate: $(STAMP)
	$(BIN)/numbers-bot migrate

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

# Every tier on SQLite, then the tiers that touch the database again on a real PostgreSQL
# (started by the tests from the pgserver package; tests/postgres.py).
PG_TIERS := tests/integration tests/contract tests/e2e tests/kazoo tests/e2e_kazoo tests/replicas

pytest: $(STAMP)
	$(BIN)/pytest
	NUMBERS_BOT_TEST_DATABASE=postgresql $(BIN)/pytest $(PG_TIERS)

bench: $(STAMP)
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.list_handler
	$(BIN)/python -m bench.list_kazoo
	$(BIN)/python -m bench.contention
	$(BIN)/python -m bench.ack
	$(BIN)/python -m bench.parse
	$(BIN)/python -m bench.loop_lag

# Mutation testing of bot/domain and bot/service (config: [tool.mutmut] in pyproject.toml).
# Slow (tens of minutes); not part of `make test` or CI. Results are kept in mutants/ and
# reused by the next run; `rm -rf mutants` starts afresh. Then `.venv/bin/mutmut results`
# lists the survivors and `.venv/bin/mutmut show NAME` shows one.
mutants: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,mutants]'
	$(BIN)/mutmut run --max-children $(shell nproc 2>/dev/null || echo 2)
	$(BIN)/mutmut export-cicd-stats
	@cat mutants/mutmut-cicd-stats.json; echo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache mutants
