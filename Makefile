# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OSRM_DIR := $(VENV)/osrm-bindings
OSRM_VERSION := 26.10.0
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite runs on this many processes (pytest-xdist; each has its own databases); 0 = one.
TEST_WORKERS ?= 2

.PHONY: run test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# OSRM routing-engine binaries for the travel-time tests (PyPI wheel, cp312-abi3 only).
$(OSRM_DIR)/.installed: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-deps --only-binary=:all: --python-version 3.12 \
		--target $(OSRM_DIR) osrm-bindings==$(OSRM_VERSION)
	touch $@

# The worker (publishing menus ahead, standing orders, alerts, month close) runs beside the
# server and stops with it.
run: export WARMMEAL_DEMO = 1
# The demo day (about 1,666 lunches, 24 vans of 60 boxes) is routed whole in 5 s of search
# (docs/routing-benchmark.md, "Demo district"); 6 s leaves room on a busy machine.
run: export WARMMEAL_DELIVERY_SOLVER_SECONDS ?= 6
run: $(VENV)/.installed
	$(BIN)/warmmeal db upgrade
	$(BIN)/warmmeal seed demo --if-empty --booking-days 3
	$(BIN)/warmmeal worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/warmmeal serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed $(OSRM_DIR)/.installed
	WARMMEAL_OSRM_BIN=$(CURDIR)/$(OSRM_DIR)/osrm/bin $(BIN)/python -m pytest \
		-n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)
