# The front door. `make run` and `make test` set up what they need on their own.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements/dev.lock | cut -d' ' -f1)
# checkov has an environment of its own, inside .venv: it pins urllib3, packaging, networkx and
# boto3 below what the project and cfn-lint use.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cksum < requirements/checkov.lock | cut -d' ' -f1)
# sam needs the venv's python3.13 on PATH to build the layer; no telemetry from CI or tests.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE :=

.PHONY: help setup browser screenshots run test test-dates lint format typecheck validate build checkov unit integration e2e fuzz openapi invoke bench load lock clean

help:
	@echo "make run        start the local stack with demo data (http://127.0.0.1:3000, PORT= to change)"
	@echo "make test       lint, type check, sam validate --lint, sam build, checkov and every test"
	@echo "make test-dates the tests again as if it were each of TEST_DATES (TEST_NOW=<instant> for one)"
	@echo "make invoke     FUNCTION=<logical id> EVENT=events/<file>.json: run one handler locally"
	@echo "make bench      DynamoDB round trips, capacity, cost of 1M bookings, cold start, warm"
	@echo "                latency (BENCH_REQUESTS=<n> journeys; tables in docs/performance.md)"
	@echo "make load       20, 50, 100 people browsing and booking at once on a stack of its own:"
	@echo "                throughput, latency, errors, then no double booking or short gap in the"
	@echo "                table (LOAD_ROUNDS=, LOAD_SECONDS=, LOAD_REQUESTS= per round; docs/load.md)"
	@echo "make openapi    write openapi.json (OpenAPI 3.1) from the models and template.yaml's routes"
	@echo "make fuzz       schemathesis over every operation against the local stack, at length"
	@echo "                (FUZZ_EXAMPLES=<n> per operation, default $(FUZZ_EXAMPLES); make test runs a short round)"
	@echo "make browser    Chromium for the browser tests: CHROMIUM=<executable>, else /usr/bin/chromium,"
	@echo "                else Debian's chromium package (apt-get; make test runs it first)"
	@echo "make screenshots  the README's pictures of the booking page and the day view, taken by the"
	@echo "                browser tests (docs/images/)"
	@echo "make lint | typecheck | validate | build | checkov | unit | integration | e2e | lock | clean"

# A stamp's name carries its lock's checksum, so a changed lock makes a new stamp; a clone's
# fresh file times alone do not rebuild an environment that is already right. Rebuilding the
# project's environment leaves checkov's, which has its own stamp.
$(STAMP):
	@python=$$(scripts/find-python.sh) || exit 1; \
	rm -rf $(filter-out $(CHECKOV_VENV),$(wildcard $(VENV)/* $(VENV)/.[!.]*)) && "$$python" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	@touch $@

$(CHECKOV_STAMP):
	@python=$$(scripts/find-python.sh) || exit 1; \
	rm -rf $(CHECKOV_VENV) && "$$python" -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements/checkov.lock
	@touch $@

setup: $(STAMP)

# The browser tests (tests/browser) drive a system Chromium through Playwright, which cannot
# fetch a browser of its own everywhere. Nothing to do when one is there.
browser:
	@scripts/install-chromium.sh

# The README's screenshots: the browser tests that show the grid's states and the day view
# take them as artifacts; these are copied next to the docs.
screenshots: $(STAMP) browser
	$(BIN)/python -m pytest -n 0 -q tests/browser/test_booking_page.py -k "grid_shows or day_view"
	cp .artifacts/browser/test_the_grid_shows_free_peak_booked_yours_and_closed_slots_each_differently/01-grid-states.png docs/images/booking-page.png
	cp .artifacts/browser/test_staff_see_the_days_bookings_across_courts_on_the_day_view/01-day-view.png docs/images/day-view.png

run: $(STAMP)
	$(BIN)/python -m local.stack

# Both cores: the tests run in worker processes (pytest-xdist), each with its own emulators.
PYTEST_WORKERS ?= auto
# The checks run side by side (they are independent, and mostly wait on one core each).
test: $(STAMP) $(CHECKOV_STAMP) browser
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint typecheck validate build checkov
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

# The suite under instants that have broken date arithmetic before: a weekend night, the eve
# of a clock change, the end of a month and year, the eve of a leap day (and now, as always).
TEST_DATES ?= 2026-12-05T23:50:00+01:00 2027-03-26T22:30:00Z 2026-12-31T23:30:00Z 2028-02-28T12:00:00Z
test-dates: $(STAMP) browser
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)
	@for instant in $(TEST_DATES); do \
	  echo "== TEST_NOW=$$instant"; \
	  TEST_NOW=$$instant $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

validate: $(STAMP)
	$(BIN)/sam validate --lint

build: $(STAMP)
	$(BIN)/sam build --parallel --cached

# A check that does not apply is skipped in template.yaml, with the reason beside it; any other
# finding fails.
checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --quiet --compact \
	  --skip-download

unit: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/e2e

# The long round of tests/fuzz: many examples per operation, and schemathesis's coverage phase.
FUZZ_EXAMPLES ?= 100
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_PHASES=examples,coverage,fuzzing \
	  $(BIN)/python -m pytest -v tests/fuzz -o timeout=3600

openapi: $(STAMP)
	PYTHONPATH=layers/common $(BIN)/python -m api_spec

invoke: $(STAMP)
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<logical id> EVENT=events/<file>.json"; exit 2; }
	$(BIN)/python -m local.invoke "$(FUNCTION)" "$(EVENT)"

# Round trips, capacity and cost (also written to docs/performance.md), cold start, warm latency.
bench: $(STAMP)
	$(BIN)/python scripts/bench_requests.py measure
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_requests.py latency

# Not a test: figures from a short run (docs/load.md). Fails only if the table shows a double
# booking or a broken gap rule.
load: $(STAMP)
	$(BIN)/python scripts/load.py

# Re-resolve requirements/*.in into their lock files (needs the registry; uv only for this step).
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile requirements/dev.in --generate-hashes --python-version 3.13 \
	  --custom-compile-command "make lock" -o requirements/dev.lock
	$(BIN)/uv pip compile requirements/checkov.in --generate-hashes --python-version 3.13 \
	  --custom-compile-command "make lock" -o requirements/checkov.lock

clean:
	rm -rf $(VENV) .aws-sam .local .artifacts .pytest_cache .mypy_cache .ruff_cache .hypothesis
