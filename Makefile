# `make test` and `make demo` set everything up on a fresh machine; nothing else is needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
GRAPH_STAMP := $(VENV)/.graph-stamp
MODEL := data/classifier
DEMO_ARGS ?= --duration 300

.PHONY: setup test demo lint format bench clean

setup: $(STAMP) $(GRAPH_STAMP)

# Everything, for tests and the demo: the bot, the train extra (torch) and the dev tools.
# CPU torch is installed first and pinned: an unpinned torch pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[train,dev]'
	touch $(STAMP)

# The int8 graph the bot runs, built once per trained model (into classifier-cache/).
$(GRAPH_STAMP): $(STAMP) $(MODEL)/meta.json $(MODEL)/weights.safetensors
	$(BIN)/complaintbot train --cache-only
	touch $(GRAPH_STAMP)

test: setup
	$(BIN)/python -m pytest

demo: setup
	$(BIN)/complaintbot demo $(DEMO_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	@set -e; for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache classifier-cache
