# Tally: the two commands are `make run` (the whole system, local) and `make test` (every test).
# Each target installs what it needs; nothing is done by hand.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PYTHONPATH := $(CURDIR)/layers:$(CURDIR)/functions:$(CURDIR)

.PHONY: run test lint fmt synth bench ingest clean venv docs

$(STAMP): requirements.txt requirements-dev.txt requirements-ingest.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

## make run: moto server + resources + demo organisation + local gateway and dashboard
run: $(STAMP)
	$(PY) -m infra.local

## make ingest [START=YYYY-MM-DD END=YYYY-MM-DD | FOCUS=file.csv]: ingest into the running local stack
ingest: $(STAMP)
	$(PY) -m infra.local.ingest $(if $(START),--start $(START)) $(if $(END),--end $(END)) $(if $(FOCUS),--focus $(FOCUS))

## make test: lint, types, synth and every test
test: $(STAMP) lint synth
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers functions infra app.py

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make synth: CloudFormation templates into cdk.out/ (no AWS account, no Docker)
synth: $(STAMP)
	$(PY) app.py

## make bench: figures, not tests
bench: $(STAMP)
	$(PY) -m tests.bench

## make docs: regenerate docs/openapi.json from the API
docs: $(STAMP)
	$(PY) -m api.openapi > docs/openapi.json
	$(PY) -m api.openapi --markdown > docs/api.md

clean:
	rm -rf $(VENV) cdk.out .tally .pytest_cache .mypy_cache .ruff_cache
