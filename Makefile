# Two commands for a fresh clone: `make run` (demo on SQLite; `make run PORT=8080`) and `make test`.
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 8000
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install clean bench-awards

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

bench-awards: $(STAMP)
	$(BIN)/python bench/awards/run.py

clean:
	rm -rf $(VENV) var .pytest_cache
