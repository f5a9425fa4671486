# The README's two commands: `make run` (set up + start the lab), `make test` (set up + test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)

.PHONY: setup run test bench clean

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

clean:
	rm -rf $(VENV) .pytest_cache
