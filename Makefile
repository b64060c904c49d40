# voj — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

MOTO_PORT ?= 5005

.PHONY: install run run-aws test test-fast lint format fixtures smoke smoke-aws clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 12) else f"voj needs Python 3.12 (found {v[0]}.{v[1]}); set PYTHON=python3.12")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

install: $(STAMP)

## run: API + admin on the embedded default (SQLite and local files) at 127.0.0.1:$(PORT)
run: install
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py ensure_demo_accounts
	@echo "voj: API http://127.0.0.1:$(PORT)/api/v1/  admin http://127.0.0.1:$(PORT)/admin/  docs http://127.0.0.1:$(PORT)/api/v1/docs"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## run-aws: the prod-like mode: production settings, S3 + DynamoDB + SSM on moto_server
run-aws: install
	$(BIN)/python -m deploy.local_aws run --port $(PORT) --moto-port $(MOTO_PORT)

## smoke / smoke-aws: the smoke command against `make run` / `make run-aws`, started here
smoke: install
	bash deploy/ci_smoke.sh run

smoke-aws: install
	bash deploy/ci_smoke.sh run-aws

## test: the whole suite
test: install
	VOJ_ENV=test $(BIN)/pytest -n 2 -p no:cacheprovider

test-fast: install
	VOJ_ENV=test $(BIN)/pytest -x -q -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## fixtures: regenerate tests/fixtures (needs ffmpeg; the tests themselves do not)
fixtures:
	bash tests/fixtures/make_fixtures.sh

clean:
	rm -rf $(VENV) dist build *.egg-info
