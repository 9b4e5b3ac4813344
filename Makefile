# The two commands of the README: `make demo` and `make test`. Both create .venv from the
# pinned requirements.txt first (Python 3.11, no conda needed).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 8

.PHONY: demo test lint bench clean

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "simsflow needs Python >= 3.11"'
	@$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian, run 'apt-get install python3-venv' first"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

demo: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check .
	$(BIN)/snakemake --lint

test: lint
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf results logs data/demo .snakemake
