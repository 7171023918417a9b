# Linli — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test test-fast lint e2e messages bench demo-reset install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## demo: install, migrate SQLite under var/, load the demo street once, serve on 127.0.0.1:8000
demo: $(STAMP)
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py compilemessages -v0 --ignore=.venv 2>/dev/null || true
	$(BIN)/linli demo
	@echo "\nLinli is at http://127.0.0.1:8000/  (Ctrl-C to stop)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000 --noreload

## demo-reset: throw away the demo database and accounts
demo-reset:
	rm -f var/linli.sqlite3* var/demo-accounts.json var/demo-open311.txt

## test: install, lint, check migrations and translations, run the suite (SQLite)
test: $(STAMP) lint
	$(BIN)/python manage.py makemigrations --check --dry-run -v0
	$(BIN)/python -m linli.core.i18n_check
	$(BIN)/pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## e2e: browser tests in Debian's Chromium (needs /usr/bin/chromium)
e2e: $(STAMP)
	$(BIN)/pytest -q tests/e2e -p no:xdist

## messages: refresh the .po files from the source and compile them
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --no-obsolete --ignore=.venv --ignore=var --ignore=bench
	$(BIN)/python manage.py compilemessages --ignore=.venv

## bench: load the app the production way and report figures as ratios to baselines
bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
