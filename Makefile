# Quick start: `make run` (demo on SQLite) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench migrate clean encryption-key

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

# Channel secrets and header values are encrypted with this key: keep it with the database.
# Added to an .env written before encryption existed, before `migrate` encrypts anything with it.
encryption-key: install .env
	@grep -q '^FIELD_ENCRYPTION_KEYS=' .env || { \
	  $(PY) -c 'from cryptography.fernet import Fernet; print("FIELD_ENCRYPTION_KEYS=" + Fernet.generate_key().decode())' >> .env; \
	  echo "Added a new FIELD_ENCRYPTION_KEYS to .env."; }

run: install .env encryption-key
	DEBUG=true WEBHOOKS_ALLOW_PRIVATE_TARGETS=true $(PY) manage.py migrate --noinput
	DEBUG=true WEBHOOKS_ALLOW_PRIVATE_TARGETS=true $(PY) manage.py demo_setup
	DEBUG=true WEBHOOKS_ALLOW_PRIVATE_TARGETS=true $(PY) manage.py serve 127.0.0.1:8000

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache --no-logo

bench: install
	$(PY) bench/run.py $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) var/*.sqlite3* db.sqlite3*
