# tracelab: two commands on a fresh machine with Python 3.11+
#   make demo   create .venv, install, build a warehouse, print a summary, write the weekly report
#   make test   create .venv, install .[dev], run the whole suite
#   make test-long  the incremental == clean property over 1,000 generated histories (~30 min)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP_CORE := $(VENV)/.installed-core
STAMP_DEV  := $(VENV)/.installed-dev
DEMO_DIR ?= demo

.PHONY: demo test test-long bench venv dev clean lint lab

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_CORE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_CORE)

venv: $(STAMP_CORE)
dev: $(STAMP_DEV)

demo: $(STAMP_CORE)
	$(BIN)/tracelab demo --dir $(DEMO_DIR)

lint: $(STAMP_DEV)
	$(BIN)/ruff check tracelab tests benchmarks queries
	$(BIN)/ruff format --check tracelab tests benchmarks queries
	$(BIN)/mypy tracelab

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# the long hypothesis profile: 1,000 histories instead of make test's 100 (TRACELAB_PROPERTY_EXAMPLES)
test-long: $(STAMP_DEV)
	TRACELAB_PROPERTY_EXAMPLES=$${TRACELAB_PROPERTY_EXAMPLES:-1000} $(BIN)/python -m pytest -p no:xdist tests/test_incremental.py -k any_history

# JupyterLab on the notebooks/ (installs the notebook extra; TRACELAB_WAREHOUSE picks the warehouse,
# the demo's by default)
lab: $(STAMP_CORE)
	$(BIN)/python -m pip install --quiet -e '.[notebook]'
	TRACELAB_WAREHOUSE=$${TRACELAB_WAREHOUSE:-$(CURDIR)/$(DEMO_DIR)/warehouse} $(BIN)/jupyter lab notebooks/

bench: $(STAMP_DEV)
	$(BIN)/python -m benchmarks run

clean:
	rm -rf $(VENV) $(DEMO_DIR) build dist *.egg-info .pytest_cache
