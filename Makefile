# lambda-lab: the two commands are `make lab` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NB ?=
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg \
	--nbval-cell-timeout 120 --color=no -p no:cacheprovider -p tools.nb_budget
PORT ?= 8888

.PHONY: lab workbook-reset test unit notebooks check-notebooks refresh html bench venv clean ui-test

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml tools/jupyterlab-overrides.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp tools/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

# The learner's working copy (workbook/, git-ignored): made from notebooks/ when missing, never overwritten.
lab: venv
	$(BIN)/python tools/workbook.py open --port=$(PORT)

# Start the working copy over from notebooks/ (the learner's copies are kept in workbook/.backup/).
workbook-reset: venv
	$(BIN)/python tools/workbook.py reset

test: venv check-notebooks unit notebooks

# nbval's plugin imports nbformat, whose jsonschema import costs ~3 s per process: the unit step skips it.
unit: venv
	$(BIN)/python -m pytest tests -q -n 2 -p no:nbval --ignore=tests/notebooks --ignore=tests/integration

check-notebooks: venv
	$(BIN)/python tools/notebooks.py check $(NOTEBOOKS)

notebooks: venv
	$(BIN)/python -m pytest $(NBVAL_FLAGS) -n 2 --dist loadfile $(NOTEBOOKS) tests/notebooks tests/integration

# Re-execute notebooks (all, or NB=notebooks/01_s3.ipynb), normalize them and rewrite their .py pair.
refresh: venv
	$(BIN)/python tools/notebooks.py refresh $(NB)

# The chapters as stored, as a self-contained HTML site in site/ (git-ignored): open site/index.html.
html: venv
	$(BIN)/python tools/export_html.py

# Every chapter in JupyterLab in headless Chromium (not part of make test): needs `apt-get install -y chromium`.
# Runs in a temporary copy of the repository: never touches workbook/ or a tracked file.
ui-test: venv
	$(BIN)/python -m pip install --quiet -r requirements-ui.txt
	$(BIN)/python tools/ui_smoke.py

bench: venv
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV)
