# Copilot AI-credit analysis kit. `make` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup demo test lint format lab clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-8s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the kit with its dev tools
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null

demo: setup ## Simulated tenant -> fetch -> build -> render every report into reports/demo/ (no token)
	$(BIN)/copilot-usage demo

test: setup ## Run the whole test suite (offline)
	$(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax -q tests notebooks

lint: setup ## ruff + mypy
	$(BIN)/ruff check lib tests benchmarks notebooks
	$(BIN)/ruff format --check lib tests benchmarks notebooks
	$(BIN)/mypy

format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix lib tests benchmarks notebooks
	$(BIN)/ruff format lib tests benchmarks notebooks

lab: setup ## Open JupyterLab on notebooks/ with the kit importable
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)  # containers and CI images run as root

clean: ## Remove generated data and reports (keeps .venv)
	rm -rf data/raw data/processed data/demo reports/* .pytest_cache .mypy_cache .ruff_cache
	@touch reports/.gitkeep
