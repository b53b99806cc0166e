# The README's two commands are `make demo` and `make test`; both create .venv when it is missing.
# `make priors` (the answer under each prior set), `make robustness` (the assumption audit) and
# `make numbers` (every number the docs quote about the answer, from runs) are documented too.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHROMIUM ?= /usr/bin/chromium

.PHONY: demo priors robustness numbers test test-slow lint bench clean browser timings

$(STAMP): pyproject.toml
	@echo "Setting up $(VENV): tankersim (editable) with its dependencies, the calibrate, distributed and"
	@echo "sensitivity extras and the test tools (pytest, ruff, mypy, playwright, nbclient, geopandas, movingpandas); about 2 minutes the first time."
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar off -e '.[dev]' | grep -E '^(Successfully|ERROR)' || true
	$(BIN)/python -c "import sim, jinja2, playwright, pyabc, SALib, distributed, nbclient, ipykernel, geopandas"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tankersim calibrate scenarios/osc-2024.toml --out out/osc-2024-calibrate --resume
	$(BIN)/tankersim robustness scenarios/osc-2024.toml --out out/osc-2024-robustness --resume
	$(BIN)/tankersim mc scenarios/osc-2024.toml --out out/osc-2024 --resume
	$(BIN)/tankersim report out/osc-2024-robustness out/osc-2024-calibrate out/osc-2024 --out out/osc-2024-report.html --resume

priors: $(STAMP)
	$(BIN)/tankersim calibrate scenarios/osc-2024.toml --all-priors --out out/osc-2024-priors --resume

robustness: $(STAMP)
	$(BIN)/tankersim robustness scenarios/osc-2024.toml --out out/osc-2024-robustness --resume

# Every number the README and docs quote about the answer, from runs (docs/results/answer.json).
numbers: $(STAMP)
	$(BIN)/python tools/answer_numbers.py

# The report's browser test drives Debian's Chromium; installed here when apt-get can (as root
# or with sudo). Without it the browser tests are skipped, unless TANKERSIM_REQUIRE_BROWSER=1
# (CI sets it), where they fail.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the report's browser test (about a minute)"; \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    if [ -n "$$SUDO" ] && ! command -v sudo >/dev/null; then \
	      echo "Not root and no sudo: the report's browser tests will be skipped"; \
	    else \
	      $$SUDO apt-get update -qq && \
	      DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	    fi; \
	  else \
	    echo "No apt-get: the report's browser tests will be skipped (set TANKERSIM_CHROMIUM)"; \
	  fi; \
	fi

# `make test` leaves out the tests marked slow (the wheel in a clean venv, the notebook, the
# 2,000 fuzz cases, calibrations run twice to compare): `make test-slow` runs them, and CI
# (.ci/run) runs both.
test: $(STAMP) browser
	$(BIN)/ruff check sim tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -m "not slow"

test-slow: $(STAMP) browser
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks tools
	$(BIN)/ruff format --check sim tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engines.py
	$(BIN)/python benchmarks/bench_demo.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_mc_memory.py
	$(BIN)/python benchmarks/bench_routes.py
	$(BIN)/python benchmarks/bench_validate.py

# The run times the README and docs quote, measured and written to docs/timings.md.
timings: $(STAMP)
	$(BIN)/python benchmarks/bench_docs.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
