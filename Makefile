# onestop — everything a fresh clone needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR_STAMP := onestop/static/vendor/.built
PYTEST_ARGS ?=
# pytest-xdist workers (tests/conftest.py keeps a module on one worker, Redis users on one)
PYTEST_WORKERS ?= 2
AUDIT ?= 1  # make test AUDIT=0 skips the dependency audit (no network)

.PHONY: demo test lint typecheck audit pytest bench assets translations install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools
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
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# known vulnerabilities in the installed dependencies (docs/security.md; accept one in
# .pip-audit-ignore with a reason and an end date)
audit: $(STAMP)
ifeq ($(strip $(AUDIT)),0)
	@echo "audit: skipped (AUDIT=0)"
else
	$(BIN)/python tools/audit_deps.py
endif

test: lint typecheck audit pytest

bench: $(STAMP) assets
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) node_modules onestop/static/vendor .pytest_cache .mypy_cache .ruff_cache
