# The two commands the README names (`make run`, `make test`) create .venv when it is missing.
#
#   make run                         the chat on the bundled guideline, http://127.0.0.1:8501
#   make run CORPUS=~/guidelines     the chat on your own folder of guidelines (.pdf .md .txt .html)
#   make run PORT=8600               another port
#   make run HOST=0.0.0.0            share it on your network (anyone who can reach the machine can use it)
#   make index CORPUS=... INDEX=...  build or update an index without starting the chat
#
# CORPUS is the guideline folder; "Add guideline" in the chat WRITES uploaded files into it.
# INDEX is where the search index goes: default index/ for the bundled corpus, else .indexes/<folder name>
# inside this project, so nothing is written next to a shared or reference folder.
PYTHON ?= python3
# PyTorch: on Linux the default is the CPU-only wheel (PyPI's Linux wheel pulls several GB of CUDA
# libraries this app never uses). macOS and Windows wheels on PyPI are CPU-only already.
# Override with e.g. `make run TORCH_SPEC="torch==2.13.0"` (a CUDA machine) or a local wheel path.
TORCH_VERSION ?= 2.13.0
ifeq ($(shell uname -s),Linux)
TORCH_SPEC ?= torch==$(TORCH_VERSION) --index-url https://download.pytorch.org/whl/cpu
else
TORCH_SPEC ?= torch==$(TORCH_VERSION)
endif
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
## PORT: the chat's port (default 8501); HOST: the address it listens on (default 127.0.0.1, this machine only)
PORT ?= 8501
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
CORPUS ?=
INDEX ?= $(if $(CORPUS),.indexes/$(notdir $(abspath $(CORPUS))),)
# The folders as the app and the CLI read them (Settings): only set when CORPUS/INDEX are given.
FOLDERS = $(if $(CORPUS),GUIDELINE_ASSISTANT_CORPUS_DIR="$(abspath $(CORPUS))") \
	$(if $(INDEX),GUIDELINE_ASSISTANT_INDEX_DIR="$(abspath $(INDEX))")
SHOWN_CORPUS = $(if $(CORPUS),$(abspath $(CORPUS)),corpus/ (the bundled guideline))
SHOWN_INDEX = $(if $(INDEX),$(abspath $(INDEX)),index/)

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test test-fast lint index eval bench clean library-eval

$(STAMP): pyproject.toml constraints.txt
	@echo "==> Installing the app into $(VENV)/ (first run only: about 5 minutes, PyTorch is the large part)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> PyTorch: $(TORCH_SPEC) (its own libraries come with the app's, from your usual package index)"
	$(BIN)/python -m pip install --progress-bar on --no-deps --retries 1 --timeout 20 $(TORCH_SPEC)
	@echo "==> The app and its libraries"
	$(BIN)/python -m pip install --progress-bar on -c constraints.txt -e '.[test]'
	touch $(STAMP)
	@echo "==> Installed."

## run: install (first run), build or update the search index with progress, then serve the chat at http://$(HOST):$(PORT)
run: $(STAMP)
	@echo "==> Search index of $(SHOWN_CORPUS) in $(SHOWN_INDEX)"
	@echo "    (first build: a few minutes on a laptop for a large library; afterwards only changed files are read)"
	$(FOLDERS) $(BIN)/guideline-assistant index build
	@echo "==> Starting the chat at http://$(HOST):$(PORT)  (open it in a browser; Ctrl+C stops it)"
	@$(if $(filter 127.0.0.1 localhost,$(HOST)),,echo "    HOST=$(HOST): anyone who can reach this machine on port $(PORT) can use the chat")
	$(FOLDERS) $(BIN)/streamlit run ui/app.py --server.address $(HOST) --server.port $(PORT) \
	  --server.headless true --browser.gatherUsageStats false

## test: the whole test suite, browser test included
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-fast: everything but the slow and browser tests
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser and not benchmark" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check assistant ui evals tests
	$(BIN)/mypy assistant ui evals

## index: build or update the search index only (`make index CORPUS=path INDEX=path`)
index: $(STAMP)
	@echo "==> Search index of $(SHOWN_CORPUS) in $(SHOWN_INDEX)"
	$(FOLDERS) $(BIN)/guideline-assistant index build

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
