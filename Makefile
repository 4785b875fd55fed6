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
	$(BIN)/mypy
	bash scripts/run-tests.sh

setup: system-deps $(STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps 'augraphy>=8.2'  # judging decks; not its opencv-python (see pyproject)
	@touch $(STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

# The public results page and the HTTP API over the demo election (run `make demo` first).
serve: setup
	@test -f demo-out/pbcount.db || { echo "no demo store: run 'make demo' first"; exit 2; }
	$(BIN)/pbcount serve --db sqlite:///demo-out/pbcount.db --keys demo-out/fixture/keys \
		--bundle-dir demo-out/bundle --host 127.0.0.1 --port $(or $(PORT),8000) --workers $(or $(WORKERS),1) \
		$(foreach d,$(SORTITION),--sortition $(d))

clean:
	rm -rf $(VENV) demo-out .pytest_cache build *.egg-info
