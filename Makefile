# onestop — everything a fresh clone needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR_STAMP := onestop/static/vendor/.built
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck pytest bench assets translations install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts

$(VENDOR_STAMP): node_modules/.package-lock.json tools/build_assets.py $(STAMP)
	$(BIN)/python tools/build_assets.py
	touch $(VENDOR_STAMP)

assets: $(VENDOR_STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d onestop/translations

demo: $(STAMP) assets translations
	$(BIN)/onestop demo --always-open

lint: $(STAMP)
	$(BIN)/ruff check onestop hardware kiosk queue_display counter tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy onestop hardware

pytest: $(STAMP) assets translations
	$(BIN)/pytest -q $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP) assets
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) node_modules onestop/static/vendor .pytest_cache .mypy_cache .ruff_cache
