# cxloop — two commands: `make demo` and `make test`.
# Extras to install: `make test EXTRAS=dev,train,spark` adds Spark (a 434 MB download) for the
# `-m spark` engine-parity tests; .ci/run does that.
PYTHON ?= python3
EXTRAS ?= dev,train
# pytest-xdist workers for `make test` (auto: one per CPU; 0 runs in one process)
TEST_WORKERS ?= auto
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the extras of the last install: rewritten only when EXTRAS changes, so a change reinstalls
EXTRAS_FILE := $(VENV)/.extras

.PHONY: demo test lint bench bench-pages venv clean i18n vendor FORCE

$(EXTRAS_FILE): FORCE
	@mkdir -p $(VENV)
	@echo '$(EXTRAS)' | cmp -s - $@ || echo '$(EXTRAS)' > $@

$(STAMP): pyproject.toml $(EXTRAS_FILE)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/cxloop demo

test: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

# the CLV bench times the archived `lifetimes` beside our fit when it can be installed
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet 'lifetimes==0.11.3' \
		|| echo "lifetimes could not be installed: the CLV bench runs without the comparison"
	$(BIN)/python bench/run.py

# every dashboard page and its API at 1,000,000 feedback and on the demo, store vs analytics
# snapshot (the 1M store is built once into ~/.cache/cxloop/pages-bench, ~10 min)
bench-pages: $(STAMP)
	$(BIN)/python bench/pages_bench.py

# web UI strings: templates and pages → zh/en catalogs → compiled .mo (commit the results)
i18n: $(STAMP)
	$(BIN)/python scripts/i18n.py all

# web JS (ECharts, htmx) from the npm registry at the versions and hashes pinned in the script
vendor: $(STAMP)
	$(BIN)/python scripts/vendor_assets.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache test-artifacts
