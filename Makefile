# The two commands the README names (`make run`, `make test`) create .venv when it
# is missing. Override TORCH_SPEC elsewhere, e.g. `make run TORCH_SPEC="torch --index-url ..."`.
PYTHON ?= python3
TORCH_SPEC ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
PYTEST_ARGS ?=

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test test-fast lint index eval bench clean library-eval

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

## run: the chat UI on the bundled corpus at http://localhost:$(PORT); the page builds the index on
## first start (with a progress bar) and reuses it afterwards
## (`make run CORPUS=path/to/guidelines` answers from another folder; its index goes to INDEX, default CORPUS/../index)
run: $(STAMP)
	@echo "Opening the chat at http://localhost:$(PORT) (Ctrl+C to stop)"
	$(if $(CORPUS),GUIDELINE_ASSISTANT_CORPUS_DIR="$(abspath $(CORPUS))" GUIDELINE_ASSISTANT_INDEX_DIR="$(abspath $(or $(INDEX),$(CORPUS)/../index))") \
	$(BIN)/streamlit run ui/app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

## test: the whole test suite, browser test included
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-fast: everything but the slow and browser tests
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser and not benchmark" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check assistant ui evals tests
	$(BIN)/mypy assistant ui evals

index: $(STAMP)
	$(BIN)/guideline-assistant index build

eval: $(STAMP)
	$(BIN)/guideline-assistant eval --baselines

## library-eval: build an index of a real guideline library (default ../shared/library, internal evaluation
## only, never committed) into .library-index/ and score both development gold sets together,
## document-disjoint: 5 folds by guideline, each fold answered with a ranker trained on the other folds, the means gated
LIBRARY ?= ../shared/library
LIBRARY_INDEX ?= .library-index
library-eval: $(STAMP)
	@test -d "$(LIBRARY)/corpus" || { echo "skipping the library evaluation: $(LIBRARY)/corpus not found"; exit 0; }; \
	set -e; \
	$(BIN)/guideline-assistant index build --corpus "$(LIBRARY)/corpus" --index "$(LIBRARY_INDEX)"; \
	$(BIN)/guideline-assistant eval --gold "$(LIBRARY)/gold_dev.jsonl" --gold "$(LIBRARY)/gold_dev2.jsonl" \
	  --corpus "$(LIBRARY)/corpus" --index "$(LIBRARY_INDEX)" --folds 5 --train-ranker \
	  --thresholds evals/library-thresholds.toml --out evals/runs/library-folds

bench: $(STAMP)
	$(BIN)/guideline-assistant bench

clean:
	rm -rf $(VENV) index/index.faiss index/chunks.jsonl index/manifest.json index/documents.json index/texts $(LIBRARY_INDEX)
