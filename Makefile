# Two commands for a fresh clone: `make run` (demo on SQLite; `make run PORT=8080`) and `make test`.
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 8000
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install clean bench-awards lint format messages

$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/contest db upgrade
	$(BIN)/contest demo load --if-empty
	$(BIN)/contest serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# What CI runs before the tests (.ci/run): lint, format, types, the import map, the catalogs.
lint: $(STAMP)
	$(BIN)/ruff check src tests bench setup.py
	$(BIN)/ruff format --check src tests bench setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit/test_i18n.py

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench setup.py
	$(BIN)/ruff format src tests bench setup.py

# Message catalogs (docs/i18n.md): extract the Chinese msgids from the code and the templates,
# update the English catalog, compile it. Then write the English of each new msgid in the .po and
# run it again.
LOCALE   := src/contest/locale
KEYWORDS := --no-default-keywords -k _ -k N_ -k Text -k Invalid -k Conflict -k NotFound -k ContestError -k AccountError -k FormInvalid -k FormConflict -k InputError:1 -k IdNumberError -k MoneyError -k UploadRejected -k SealRejected -k LookupRefused -k Throttled
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) --no-location --omit-header --sort-output -o $(LOCALE)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) -D messages -l en --no-fuzzy-matching --ignore-obsolete --width=0
	$(BIN)/pybabel compile -d $(LOCALE) -D messages --statistics

bench-awards: $(STAMP)
	$(BIN)/python bench/awards/run.py

clean:
	rm -rf $(VENV) var .pytest_cache
