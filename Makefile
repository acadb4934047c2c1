# qaflow: `make run` sets up and runs the main job on SQLite; `make test` sets up and runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench schema cli-json clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# The main job: check the shipped workflows, then take one case file audit from selection
# to closure on SQLite (qaflow-demo.db), printing each step and the verified history.
run: $(STAMP)
	$(BIN)/qaflow validate workflows
	bash workflows/examples/case_file_audit_walkthrough.sh

# ruff, mypy --strict, and the import-linter contracts in pyproject.toml (the layers, no
# import circles, `transitions` only in engine/runtime/machine.py, the public API only).
lint: $(STAMP)
	$(BIN)/ruff check engine storage qaflow tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo --no-cache

# pytest exits 5 when it collects nothing: that must fail too, and it does (any non-zero exit).
test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Regenerate the committed JSON Schema after changing engine/language/definition.py.
schema: $(STAMP)
	$(BIN)/qaflow schema > workflows/schema/workflow.schema.json

# Regenerate docs/cli-json/*.schema.json after changing a shape in qaflow/presentation/shapes.py.
cli-json: $(STAMP)
	$(BIN)/python -m qaflow.presentation.schemas docs/cli-json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
