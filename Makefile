# The two commands of README.md: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: run test test-slow install lint typecheck bench clean

$(BIN)/checkin: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/checkin

run: install
	$(BIN)/checkin up --host 127.0.0.1 --port 5000

test: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test-slow: install
	$(BIN)/pytest -p no:cacheprovider -m slow

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/webhook.py

clean:
	rm -rf $(VENV) instance
