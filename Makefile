# Two entry points: `make run` (the main job) and `make test` (the test suite).
# Each creates .venv and installs the project into it on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/sdmodel sweep

test: $(STAMP)
	$(VENV)/bin/ruff check sdmodel tests benchmarks scripts
	$(VENV)/bin/ruff format --check sdmodel tests benchmarks scripts
	$(PY) -m pytest -q -n auto

lint: $(STAMP)
	$(VENV)/bin/ruff check sdmodel tests benchmarks scripts
	$(VENV)/bin/ruff format --check sdmodel tests benchmarks scripts

clean:
	rm -rf $(VENV) .cache outputs/*.nc outputs/*.png outputs/*.csv outputs/figures
