# Two entry points: `make run` (the main job) and `make test` (the test suite).
# Each creates .venv and installs the project into it on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint clean cdo chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/sdmodel sweep

# Debian's cdo for tests/io/test_cdo.py (CDO must read every file we write): installed with
# apt-get when this runs as root or with password-less sudo; otherwise those tests skip.
cdo:
	@if command -v cdo >/dev/null 2>&1; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	  echo "cdo: no apt-get on this machine; tests/io/test_cdo.py will be skipped"; \
	else \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "cdo: installing it needs root (apt-get install cdo); tests/io/test_cdo.py will be skipped"; exit 0; fi; \
	  echo "cdo: installing Debian's cdo with apt-get"; \
	  ( $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cdo >/dev/null 2>&1 || \
	    ( $$SUDO apt-get update -qq >/dev/null 2>&1 && \
	      $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cdo >/dev/null 2>&1 ) ) || \
	  echo "cdo: apt-get install cdo failed; tests/io/test_cdo.py will be skipped"; \
	fi

# Debian's chromium and chromium-driver for tests/serve/test_browser.py (Selenium drives the
# installed browser and never downloads one); as for cdo: root or password-less sudo, else skip.
chromium:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	  echo "chromium: no apt-get on this machine; tests/serve/test_browser.py will be skipped"; \
	else \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "chromium: installing it needs root (apt-get install chromium chromium-driver); tests/serve/test_browser.py will be skipped"; exit 0; fi; \
	  echo "chromium: installing Debian's chromium and chromium-driver with apt-get"; \
	  ( $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	    ( $$SUDO apt-get update -qq >/dev/null 2>&1 && \
	      $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 ) ) || \
	  echo "chromium: apt-get install chromium chromium-driver failed; tests/serve/test_browser.py will be skipped"; \
	fi

test: $(STAMP) cdo chromium
	$(VENV)/bin/ruff check sdmodel tests benchmarks scripts
	$(VENV)/bin/ruff format --check sdmodel tests benchmarks scripts
	$(PY) -m pytest -q -n auto

lint: $(STAMP)
	$(VENV)/bin/ruff check sdmodel tests benchmarks scripts
	$(VENV)/bin/ruff format --check sdmodel tests benchmarks scripts

clean:
	rm -rf $(VENV) .cache outputs/*.nc outputs/*.png outputs/*.csv outputs/figures outputs/test_artefacts
