# lambda-lab: the two commands are `make lab` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NB ?= $(NOTEBOOKS)
STRIP_FLAGS := --keep-output --keep-count --keep-id --extra-keys "metadata.language_info.version metadata.kernelspec.display_name"
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg \
	--nbval-cell-timeout 120 --color=no -p no:cacheprovider -p tools.nb_budget
# JupyterLab refuses to start as root unless told; containers usually run as root.
ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)

.PHONY: lab test unit notebooks check-notebooks refresh bench venv clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp tools/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

lab: venv
	$(BIN)/jupyter lab --ip=127.0.0.1 $(ROOT_FLAG) notebooks/00_start_here.ipynb

test: venv check-notebooks unit notebooks

unit: venv
	$(BIN)/python -m pytest tests -q

check-notebooks: venv
	$(BIN)/python tools/check_notebooks.py $(NOTEBOOKS)

notebooks: venv
	$(BIN)/python -m pytest $(NBVAL_FLAGS) -n 2 --dist loadfile $(NOTEBOOKS)

# Re-execute notebooks (all, or NB=notebooks/01_s3.ipynb), normalize them and refresh their .py pair.
refresh: venv
	for nb in $(NB); do \
	  $(BIN)/jupytext --to ipynb --update $${nb%.ipynb}.py -o $$nb --quiet 2>/dev/null || true; \
	  $(BIN)/jupyter execute --inplace $$nb 2>/dev/null && \
	  $(BIN)/nbstripout $(STRIP_FLAGS) $$nb && \
	  $(BIN)/jupytext --to py:percent $$nb --quiet || exit 1; \
	done

bench: venv
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV)
