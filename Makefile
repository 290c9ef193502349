# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON_BIN ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run test setup lint bench bench-pg clean contract

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $(STAMP)

# A local .env with a fresh secret key and development mode; never committed.
.env:
	sed -e "s|^DJANGO_SECRET_KEY=.*|DJANGO_SECRET_KEY=$$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')|" .env.example > .env
	@echo "Created .env (development mode, local sandbox). Edit it to configure."

# Quiet: migrations and demo data go to var/log/setup.log (shown only when they fail).
# The local admin is created by `make run`, which prints its password in its summary.
setup: $(STAMP) .env
	@scripts/ensure_packages.sh redis-server
	@mkdir -p var/log
	@$(PY) manage.py migrate --noinput > var/log/setup.log 2>&1 || { cat var/log/setup.log; exit 1; }
	@$(PY) manage.py seed_demo >> var/log/setup.log 2>&1 || { cat var/log/setup.log; exit 1; }
	@echo "Database migrated, demo data in place (details: var/log/setup.log)."

run: setup
	$(PY) scripts/devrun.py

test: setup
	scripts/ensure_packages.sh redis-server chromium postgresql
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# ruff, then the import contracts of .importlinter (layers, independence, the kernel imports
# no app); either one failing fails the target.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# Regenerate bics/contract/index.json from the BICS documentation; fails when it drifted.
BICS_API_DOC ?= ../shared/bics-api/bics-cpaas-api-1.0.0.txt
contract: $(STAMP)
	$(PY) -m bics.contract.build --doc $(BICS_API_DOC) --check

# Every benchmark, each on a fresh SQLite database (BENCH_QUICK=1: small sizes; bench/README.md).
bench: setup
	scripts/ensure_packages.sh wrk
	$(PY) -m bench $(BENCH_ARGS)

# The same on a throwaway PostgreSQL cluster (figures in bench/results/latest-postgresql.json).
bench-pg: setup
	scripts/ensure_packages.sh wrk postgresql
	$(PY) -m bench.pg $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/test-*.sqlite3
