# The README's two commands: `make run` (set up + start the lab), `make test` (set up + test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)

.PHONY: setup run test bench results results-data clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(PY) -m streamlit run app.py

test: setup
	$(PY) -m pytest -q

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
	rm -rf $(VENV) .pytest_cache
