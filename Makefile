# The README's two commands: `make run` (set up + start the lab), `make test` (set up + test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)

.PHONY: setup run test test-fast lint bench results results-data clean

# A changed requirements file updates the existing venv in place (no new venv over it).
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(PY) -m streamlit run app.py

test: setup
	$(PY) -m pytest -q

# Everything but the tests marked slow or browser (pyproject.toml registers the markers).
test-fast: setup
	$(PY) -m pytest -q -m "not slow and not browser"

# ruff on the whole tree, mypy on the engine (both configured in pyproject.toml).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m nuonuo_core.bench speed

# docs/results.md from the result files in docs/results/ (every number computed, with its CI)
results: setup
	$(PY) scripts/results.py render

# rerun every experiment of docs/results.md for seeds 0-4 (about two hours on 2 busy cores;
# finished seeds are kept, so an interrupted run resumes), then render
results-data: setup
	$(PY) scripts/results.py run --jobs 2
	$(PY) scripts/results.py render

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
