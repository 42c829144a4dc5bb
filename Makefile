# The commands people and CI run. Each works from a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Two installs share the venv: the product alone (demo) or with the test kit, the dev tools and
# tests/sample_plugin (test, lint, typecheck). Each stamp removes the other, so switching between
# `make demo` and `make test` installs the right set.
DEMO_STAMP := $(VENV)/.demo-stamp
TEST_STAMP := $(VENV)/.test-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
SANDBOX_PORT ?= 8765
CODE := core plugins admin sandbox costbridge_testing tests bench
# The recorded QBO samples the tests read (costbridge_testing.shared finds them the same way).
SHARED := $(or $(COSTBRIDGE_SHARED),../shared)

# Without the samples, the test command stops before installing anything, in one line.
ifneq ($(filter test pytest,$(MAKECMDGOALS)),)
ifeq ($(wildcard $(SHARED)/qbo/samples/*.json),)
$(error costbridge tests need the shared QBO samples at $(SHARED)/qbo/samples: put the shared folder beside the checkout (../shared) or set COSTBRIDGE_SHARED to it)
endif
endif

.PHONY: venv test pytest lint typecheck fmt demo bench crash-test test-dates clean

venv: $(TEST_STAMP)

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "make: Python 3.11 or newer is needed as $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(TEST_STAMP): $(VENV)/bin/python pyproject.toml setup.cfg tests/sample_plugin/pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,dev]' -e tests/sample_plugin
	@rm -f $(DEMO_STAMP)
	@touch $@

# The product only: no test extras, no sample plugin (a new user would see it in the settings).
$(DEMO_STAMP): $(VENV)/bin/python pyproject.toml setup.cfg
	-@$(PY) -m pip uninstall --quiet --yes costbridge-sample-plugin >/dev/null 2>&1
	$(PY) -m pip install --quiet -e .
	@rm -f $(TEST_STAMP)
	@touch $@

# The README's test command: lint and types first (fast, and any finding fails), then pytest.
test: lint typecheck pytest

pytest: $(TEST_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check $(CODE)
	$(VENV)/bin/ruff format --check $(CODE)

fmt: $(TEST_STAMP)
	$(VENV)/bin/ruff check --fix $(CODE)
	$(VENV)/bin/ruff format $(CODE)

typecheck: $(TEST_STAMP)
	$(VENV)/bin/mypy

# The demo: the QBO sandbox with its demo company, the web app on SQLite and a worker (Redis at
# REDIS_URL, else a private redis-server), a demo admin, a project connected and pulled through
# the real OAuth flow; prints URL, Email and Password. Ctrl-C stops all of it (core/demo.py).
demo: $(DEMO_STAMP)
	$(PY) -m core.demo --host $(HOST) --port $(PORT) --sandbox-port $(SANDBOX_PORT)

bench: $(TEST_STAMP)
	$(PY) -m bench

# The calendar-sensitive tests (`-m calendar`) again at three other company dates: the coming
# Saturday, 29 February 2028 and the coming 31 December, every clock moved by libfaketime
# (apt-get install faketime); CI runs it after `make test` (tests/calendar_runs.py).
test-dates: $(TEST_STAMP)
	$(PY) -m tests.calendar_runs $(PYTEST_ARGS)

# 200 bill pushes with workers SIGKILLed at random, then with Redis flushed, then with the sandbox
# ignoring requestid: one line per scenario; fails on any lost or duplicated bill (tests/crash_push.py).
crash-test: $(TEST_STAMP)
	$(PY) -m tests.crash_push

# Static security scan of the product's code (bandit; offline): any medium or high finding fails.
# Migrations are fixed DDL, not built from input. See RELIABILITY.md §3, recipe 8.
.PHONY: audit
audit: $(TEST_STAMP)
	$(VENV)/bin/bandit -q -r core plugins admin -x core/migrations -ll

clean:
	rm -rf $(VENV) build *.egg-info instance
