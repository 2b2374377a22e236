# Two commands a newcomer needs: `make run` and `make test`. The rest serve them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test install install-test system-deps lint migrate clean

run: install ## install, migrate, seed the demo office, start web + worker + beat
	$(BIN)/python -m workflow.devserver

# Three test processes on two cores: the browser, worker and email tests spend part of their
# time waiting on Chromium, Celery, SMTP and sleeps, and a third process fills those waits
# (7.6 minutes against 8.2 with two, on the same machine).
test: system-deps install-test ## everything the tests need, then lint and the whole suite on SQLite and PostgreSQL
	$(BIN)/ruff check workflow tests bench config.py wsgi.py celery_worker.py
	$(BIN)/mypy workflow
	$(BIN)/python -m pytest -n 3 $(PYTEST_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

system-deps: ## Debian packages the tests use (Chromium, Thai fonts, poppler), installed when missing
	bash scripts/system-deps.sh

lint: install-test
	$(BIN)/ruff check workflow tests bench config.py wsgi.py celery_worker.py
	$(BIN)/mypy workflow

migrate: install
	$(BIN)/flask --app wsgi db-upgrade

clean:
	rm -rf $(VENV) instance tests/artifacts .pytest_cache
