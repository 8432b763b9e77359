# Two commands for a fresh machine: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test bench lint messages chromium clean-run

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "bcp needs Python 3.11, found " + sys.version' \
	  || { echo "Install Python 3.11 and run again (or: make PYTHON=/path/to/python3.11 run)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes.
$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet .
	@rm -rf build *.egg-info
	@touch $@

$(VENV)/.dev-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet ".[dev]"
	@rm -rf build *.egg-info
	@touch $(VENV)/.run-deps $@

# The demo runs the way production does (DEBUG off: gunicorn, our own error pages, compressed static files), but
# over plain HTTP on this machine, with a secret key made once for this checkout. Those settings live in
# .env, which the settings read, so a management command run in this checkout sees them too; a variable
# set in the environment or on the command line wins (`make run DEBUG=true` shows Django's debug pages).
run: $(VENV)/.run-deps .env
	@mkdir -p .run/broker/processed
	$(MANAGE) migrate_all --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) seed_demo --if-empty
	@echo
	@echo "  bcp is starting on http://127.0.0.1:$(PORT)/ (web, Celery worker and Celery beat; Ctrl-C stops all)"
	@echo "  Demo sign-ins (password: continuity-demo-2026):"
	@echo "    rep               account representative (TM)"
	@echo "    admin             Classics Inc. administrator (Admin)"
	@echo "    supervisor        Classics Inc. supervisor"
	@echo "    agent, agent2     Classics Inc. agents"
	@echo "    northwind.admin   administrator of another tenant"
	@echo "  Health: http://127.0.0.1:$(PORT)/healthz"
	@echo
	@# The Procfile names plain `python` and `celery`: the virtualenv goes first on the PATH.
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) $(BIN)/honcho --procfile Procfile start

# Written once and never overwritten: edit it to change this checkout's settings. Readable by its owner
# only (it holds the secret key). A checkout from before .env keeps the key it made in .run/secret_key.
.env: | $(BIN)/python
	@umask 077 && { \
	  echo "# This checkout's settings, written once by make run. The environment wins over this file."; \
	  echo "SECRET_KEY=$$(test -s .run/secret_key && cat .run/secret_key || $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	  echo "DEBUG=false"; \
	  echo "# Plain HTTP on this machine: no redirect to HTTPS, cookies over HTTP, no HSTS."; \
	  echo "SECURE_SSL_REDIRECT=false"; \
	  echo "SESSION_COOKIE_SECURE=false"; \
	  echo "CSRF_COOKIE_SECURE=false"; \
	  echo "SECURE_HSTS_SECONDS=0"; \
	} > $@.tmp && mv $@.tmp $@
	@echo "Wrote .env (this checkout's secret key and plain-HTTP settings)."

chromium:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ]; then \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	else \
	  echo "The browser tests need Chromium at $(CHROMIUM). Install it with: sudo apt-get install chromium"; \
	  echo "(or point CHROMIUM=/path/to/chromium at another build)"; exit 1; \
	fi

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

test: export DJANGO_SETTINGS_MODULE = bcp_project.settings_test
test: $(VENV)/.dev-deps chromium
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(MANAGE) makemigrations --check --dry-run
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest $(PYTEST_ARGS)

bench: export DJANGO_SETTINGS_MODULE = bcp_project.settings_test
bench: $(VENV)/.dev-deps
	$(MANAGE) bench

messages: export DEBUG = true
messages: $(VENV)/.dev-deps
	$(MANAGE) makemessages --locale de --ignore .venv --ignore tests --no-obsolete
	$(MANAGE) compilemessages --locale de --ignore .venv

clean-run:
	rm -rf .run db.sqlite3 db.sqlite3-wal db.sqlite3-shm db-*.sqlite3 db-*.sqlite3-wal db-*.sqlite3-shm
