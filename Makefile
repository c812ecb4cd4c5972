# Two entry points (see README): `make demo` runs the main job, `make test` every check.
# Both create and reuse .venv with pip. torch is pinned to the CPU build 2.13.0.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: demo test setup lint typecheck pytest bench scorecards clean

$(STAMP): pyproject.toml requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps timm==1.0.31
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/rampup demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# Tests that train a model run twice: on this CPU's native kernels (AVX-512, AVX2, ...) and on
# ATEN_CPU_CAPABILITY=default, whose float sums run in another order, so a threshold that only one
# trajectory clears fails on any machine, not only on another CPU.
pytest: $(STAMP)
	$(BIN)/pytest -q
	ATEN_CPU_CAPABILITY=default $(BIN)/pytest -q -m training

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_torch.py

# Every lab task's scorecard (docs/results.md): about 1,950 runs, 1-2 hours on 2 cores; resumable.
scorecards: $(STAMP)
	$(BIN)/python scripts/scorecards.py --out runs/scorecards --workers 2

clean:
	rm -rf $(VENV)
