# pbcount — the two README commands: `make demo` and `make test`.
# Both install what is missing (Debian packages, then a virtualenv in .venv) first.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: demo test setup system-deps lint bench serve clean

demo: setup
	$(BIN)/pbcount demo

test: setup
	$(BIN)/ruff check .
	bash scripts/run-tests.sh

setup: system-deps $(STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

lint: setup
	$(BIN)/ruff check .

bench: setup
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) demo-out .pytest_cache build *.egg-info
