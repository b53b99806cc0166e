# The README's two commands are `make demo` and `make test`; both create .venv when it is missing.
# `make priors` is the documented third: the answer under each of the baseline's prior sets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo priors test lint bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tankersim calibrate scenarios/osc-2024.toml --out out/osc-2024-calibrate --resume
	$(BIN)/tankersim mc scenarios/osc-2024.toml --out out/osc-2024 --resume

priors: $(STAMP)
	$(BIN)/tankersim calibrate scenarios/osc-2024.toml --all-priors --out out/osc-2024-priors --resume

test: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

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

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
