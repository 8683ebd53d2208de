# The two commands: `make run` starts bookapp, `make test` runs every test.
# Both create .venv from the locked requirements on first use (Python 3.11 or newer).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast bench lint format lock clean

# The lock files pin every package, dependencies of dependencies too, with their hashes.
$(BIN)/.installed: requirements.lock requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "bookapp needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m bookapp.serve

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# What has no `slow` mark (no real processes, browsers or benchmarks), one test process per core.
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not slow" -n auto $(PYTEST_ARGS)

bench: $(BIN)/.installed
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# After changing requirements.txt or requirements-dev.txt: pin the whole tree again.
LOCK := $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links
lock: $(BIN)/.installed
	$(LOCK) -o requirements.lock requirements.txt
	$(LOCK) -o requirements-dev.lock requirements-dev.txt

clean:
	rm -rf $(VENV) .pytest_cache
