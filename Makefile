# Switchboard: `make demo` installs everything and opens the app on demo data;
# `make test` runs the test suite. Both create the virtual environment when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo run test bench lint clean-venv system-deps

demo: $(STAMP)
	$(BIN)/switchboard --demo

run: $(STAMP)
	$(BIN)/switchboard

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check tui db tests bench

# Debian packages the app and the tests need (PostgreSQL server binaries, tmux). Installs
# only what is missing; needs root or sudo.
system-deps:
	@sh scripts/system-deps.sh

# pip's -qq shows errors only: no progress, and no warnings about this machine's own pip
# configuration (an index location that does not exist is a warning, once per package). A
# failed install still prints its error and stops make.
PIP := $(BIN)/python -m pip --disable-pip-version-check -qq

$(STAMP): pyproject.toml
	@sh scripts/system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Switchboard into $(VENV) ..."
	@$(PIP) install --upgrade pip
	@$(PIP) install -e '.[dev]'
	@touch $(STAMP)

clean-venv:
	rm -rf $(VENV)
