# Two targets a newcomer needs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# pip 23 (a new venv's) skips lxml_html_clean, which trafilatura needs: upgrade it first.
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# Track the founding storyline, replay seeds/ through the Prefect flow on the embedded
# default (SQLite in your data dir, Prefect's temporary local server) and print the alerts.
demo: $(BIN)/.installed
	$(BIN)/storywatch storylines add --from-file seeds/2025-04-18-rubio-paris.txt
	$(BIN)/storywatch replay seeds/
	$(BIN)/storywatch storylines list

# The whole test suite, on SQLite and on the PostgreSQL server at 127.0.0.1:5432 (database test).
test: $(BIN)/.installed
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/score_seeds.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
