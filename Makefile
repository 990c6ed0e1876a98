# One entry point for newcomers and CI: every target builds .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SOURCES := pyproject.toml setup.py $(shell find src -name '*.py' -o -name '*.pyx')

.PHONY: demo test bench clean venv

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.2

$(STAMP): $(BIN)/python $(SOURCES)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/uring probe
	$(BIN)/uring demo
	$(BIN)/uring bench all --seconds 1 --repeat 1 --size 256M

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/uring bench aio

clean:
	rm -rf $(VENV) build src/*.egg-info src/uring/_core.c src/uring/*.so src/uring/aio/_fast.c src/uring/aio/*.so
