# Two commands for a newcomer: `make run` and `make test`. Both build .venv when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGINS := $(wildcard plugins/*/pyproject.toml)
# `make run PORT=8080`: the port served and the public URL (Twilio callbacks and their
# signatures, calendar feed links) change together. Behind a tunnel or a proxy, give the
# public URL it is reached at: `make run PUBLIC_URL=https://abc.example.net`.
HOST ?= 127.0.0.1
PORT ?= 8000
# `make test TEST_JOBS=1`: the suite in one process (default: one per core, pytest-xdist).
TEST_JOBS ?= auto
PUBLIC_URL ?= $(or $(TOUCHBASE_PUBLIC_URL),http://$(HOST):$(PORT))

.PHONY: run test lint format openapi clean bench

$(STAMP): pyproject.toml $(PLUGINS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' $(foreach p,$(PLUGINS),-e $(dir $(p)))
	@touch $(STAMP)

## Set everything up and serve the API (waitress) + worker on http://$(HOST):$(PORT) (SQLite under ./instance/)
run: $(STAMP)
	TOUCHBASE_PUBLIC_URL=$(PUBLIC_URL) $(BIN)/touchbase serve --host $(HOST) --port $(PORT)

## Lint, format check, and the whole test suite (PostgreSQL too when TOUCHBASE_TEST_DATABASE_URL is set)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_JOBS) -m "not serial" $(PYTEST_ARGS)
	$(BIN)/pytest -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]  # 5: none selected

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: $(STAMP)
	$(BIN)/touchbase openapi --write

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
