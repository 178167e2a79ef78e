# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEPLOY_VENV ?= .venv-deploy

.PHONY: run test lint typecheck pytest deploy-check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The editable install compiles the CSV scanner in place (hatch_build.py), so editing the
# C source or the hook reinstalls.
SCANNER_C := notifier/inspection/datasets/_csvscan.c
$(VENV)/.installed-%: pyproject.toml hatch_build.py $(SCANNER_C) | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[$*]'
	touch $@

# The test and bench venvs must have the compiled scanner: without a C compiler their
# install fails instead of warning and falling back to pyarrow.
$(VENV)/.installed-test $(VENV)/.installed-bench: export NOTIFIER_REQUIRE_COMPILED = 1

.PHONY: postgres-binaries chromium
postgres-binaries:
	@scripts/ensure-postgres

# Debian's Chromium, for the dashboard's browser tests (tests/browser).
chromium:
	@scripts/ensure-chromium

# Tools for tests/deploy (checkov, kubernetes-validate, kubectl+kustomize, hadolint), in
# their own venv so checkov's dependencies never meet the app's pins.
$(DEPLOY_VENV)/.installed: tests/deploy/requirements.txt tests/deploy/constraints.txt
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet -r tests/deploy/requirements.txt -c tests/deploy/constraints.txt
	touch $@

## Start PostgreSQL and SeaweedFS locally (data in .notifier-dev/) and serve on :8080.
run: $(VENV)/.installed-local postgres-binaries
	$(BIN)/notifier dev $(ARGS)

## Set up, lint, type-check and run the whole test suite against real servers.
test: $(VENV)/.installed-test $(DEPLOY_VENV)/.installed postgres-binaries chromium lint typecheck pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

## Validate k8s/, the Dockerfile and sql/roles.sql offline (schemas, checkov, hadolint, wiring).
deploy-check: $(VENV)/.installed-test $(DEPLOY_VENV)/.installed postgres-binaries
	$(BIN)/pytest tests/deploy

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/bench_count_csv.py --size-mb 1024
	$(BIN)/python bench/bench_count_json.py --size-mb 256
	$(BIN)/python bench/bench_parquet_footer.py
	$(BIN)/python bench/bench_processing.py
	$(BIN)/python bench/bench_rescan.py
	$(BIN)/python bench/bench_intake.py

clean:
	rm -rf $(VENV) $(DEPLOY_VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
