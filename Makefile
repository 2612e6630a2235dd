# BeerPi: `make run` starts the server, `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ARGS   ?= --hardware sim --speed 60

# On a Raspberry Pi the GPIO and 1-wire libraries are installed too.
comma  := ,
ON_PI  := $(shell grep -qs "Raspberry Pi" /proc/device-tree/model && echo 1)
EXTRAS := mongo$(if $(ON_PI),$(comma)pi)

.PHONY: run test frontend clean help install uninstall

help:
	@echo "make run    start BeerPi on http://localhost:8888/ (ARGS='$(ARGS)': simulated, 60x real time)"
	@echo "make test   run the test suite"
	@echo "make clean  remove the virtual environment and fetched front-end files"
	@echo "sudo make install    install BeerPi as a systemd service (see the README)"
	@echo "sudo make uninstall  remove it (keeps the data; PURGE=1 removes it too)"

run: $(VENV)/.installed-run frontend
	$(PY) run_server.py $(ARGS)

test: $(VENV)/.installed-dev frontend
	@$(PY) -m beerpi.cli.vendor --tests  # axe-core, for the dashboard's accessibility audit
	$(VENV)/bin/ruff check beerpi tests bench run_server.py
	$(VENV)/bin/lint-imports --no-cache --no-logo  # the import order of the packages (setup.cfg)
	$(PY) -m pytest $(PYTEST_ARGS)

frontend: $(VENV)/.python-ok
	@$(PY) -m beerpi.cli.vendor

$(VENV)/.python-ok:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "BeerPi needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)." \
	         "Set PYTHON=python3.11 (or newer)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@touch $@

$(VENV)/.installed-run: $(VENV)/.python-ok setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.python-ok setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e ".[$(EXTRAS),dev]"
	@touch $@

clean:
	rm -rf $(VENV) static/vendor tests/vendor *.egg-info

install:
	deploy/install.sh

uninstall:
	deploy/uninstall.sh
