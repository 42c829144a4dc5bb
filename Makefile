# The commands people and CI run. Each works from a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
SANDBOX_PORT ?= 8765

.PHONY: venv test lint typecheck fmt demo bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml setup.cfg tests/sample_plugin/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "make: Python 3.11 or newer is needed as $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]' -e tests/sample_plugin
	@touch $@

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check core plugins admin sandbox tests bench

fmt: venv
	$(VENV)/bin/ruff check --fix core plugins admin sandbox tests bench
	$(VENV)/bin/ruff format core plugins admin sandbox tests bench

typecheck: venv
	$(VENV)/bin/mypy

# The demo: migrate the embedded SQLite database, start the QBO sandbox with its demo company,
# then serve the web app on 127.0.0.1 (Ctrl-C stops both).
demo: venv
	$(VENV)/bin/costbridge db upgrade
	$(VENV)/bin/costbridge sandbox --port $(SANDBOX_PORT) --seed demo & sandbox=$$!; \
	trap 'kill $$sandbox' EXIT INT TERM; \
	QBO_API_BASE=http://127.0.0.1:$(SANDBOX_PORT) QBO_REDIRECT_URI=http://$(HOST):$(PORT)/qbo/callback \
	$(VENV)/bin/costbridge web --host $(HOST) --port $(PORT)

bench: venv
	$(PY) -m bench

clean:
	rm -rf $(VENV) build *.egg-info instance
