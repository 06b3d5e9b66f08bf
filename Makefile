# Quick start: `make run` (demo on SQLite) and `make test`; while developing, `make test-fast` and `make lint`.
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
PYTEST  := $(VENV)/bin/pytest
STAMP   := $(VENV)/.installed
# pytest-xdist workers for the test targets (WORKERS=0: one process).
WORKERS ?= 2
FAST    := not integration and not browser and not reliability

.PHONY: install run test test-fast lint bench migrate clean encryption-key

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	@touch $(STAMP)

.env:
	@$(PY) -c 'import secrets; print("SECRET_KEY=" + secrets.token_urlsafe(50)); print("DEMO_PASSWORD=" + secrets.token_urlsafe(12))' > .env
	@echo "Wrote .env with a new SECRET_KEY and demo password."

# Channel secrets and header values are encrypted with this key: keep it as long as the database, apart from its backups.
# Added to an .env written before encryption existed, before `migrate` encrypts anything with it.
encryption-key: install .env
	@grep -q '^FIELD_ENCRYPTION_KEYS=' .env || { \
	  $(PY) -c 'from cryptography.fernet import Fernet; print("FIELD_ENCRYPTION_KEYS=" + Fernet.generate_key().decode())' >> .env; \
	  echo "Added a new FIELD_ENCRYPTION_KEYS to .env."; }

# ADDR: where the demo listens (`make run ADDR=127.0.0.1:8001`); its channels post there. The login is printed last.
ADDR    ?= 127.0.0.1:8000
run: install .env encryption-key
	DEBUG=true WEBHOOKS_ALLOW_PRIVATE_TARGETS=true $(PY) manage.py migrate --noinput
	DEBUG=true WEBHOOKS_ALLOW_PRIVATE_TARGETS=true $(PY) manage.py serve $(ADDR) --demo

# Compiled and assertion-rewritten modules are cached (__pycache__, ignored by git) even where
# PYTHONDONTWRITEBYTECODE is set: recompiling them costs every test process several seconds.
test test-fast: export PYTHONDONTWRITEBYTECODE =

# Every test: all but one in parallel, then the one that must run alone (it restarts PostgreSQL,
# and runs only in CI or with RUN_PG_RESTART=1). PYTEST_ARGS adds options, e.g. PYTEST_ARGS="-x".
test: install
	$(PYTEST) -n $(WORKERS) -m "not exclusive" $(PYTEST_ARGS)
	$(PYTEST) -m exclusive $(PYTEST_ARGS) || [ $$? -eq 5 ]  # 5: PYTEST_ARGS selected none of them

# Everything but real processes, browsers and fault injection: the loop while developing (< 1 min).
test-fast: install
	$(PYTEST) -n $(WORKERS) -m "$(FAST)" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache --no-logo

bench: install
	$(PY) bench/run.py $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) var/*.sqlite3* db.sqlite3*
