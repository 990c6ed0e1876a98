# One entry point for newcomers and CI: every target builds .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SOURCES := pyproject.toml setup.py $(shell find src -name '*.py' -o -name '*.pyx')

.PHONY: demo test test-asyncio-313 test-asan bench clean venv

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
	$(MAKE) --no-print-directory test-asyncio-313

# The asyncio layers (uring.aio, the event loop) run on 3.11 above and again on 3.13, the
# newest asyncio (its runners, TaskGroup and eager tasks changed what loops must do), in a
# venv of their own; pyenv's 3.13.0 where it exists, else said and skipped.
PY313      := $(shell PYENV_VERSION=3.13.0 python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null)
VENV313    := .venv313
STAMP313   := $(VENV313)/.installed
ASYNCIO_TESTS := tests/unit/test_aio_unit.py $(wildcard tests/kernel/test_aio_*.py) \
	$(wildcard tests/kernel/test_loop_*.py) tests/stress/test_loop_stress.py

$(STAMP313): $(SOURCES)
	$(PY313) -m venv $(VENV313)
	$(VENV313)/bin/pip install --quiet --upgrade pip==25.2
	$(VENV313)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP313)

ifeq ($(PY313),)
test-asyncio-313:
	@echo "python3.13 not found (pyenv 3.13.0): the asyncio tests ran on $$($(BIN)/python -V) only"
else
test-asyncio-313: $(STAMP313)
	$(VENV313)/bin/python -m pytest -q -p no:cacheprovider $(ASYNCIO_TESTS)
endif

# The core built with AddressSanitizer in its own venv (from a copy of the sources, so the
# in-tree build of .venv is never linked with ASan objects); the kernel and stress tests run
# under it with libasan preloaded into the uninstrumented interpreter. Not part of `test`.
ASAN_VENV  := .venv-asan
ASAN_STAMP := $(ASAN_VENV)/.installed
ASAN_SRC   := build/asan-src
ASAN_RUN   := LD_PRELOAD=$$(gcc -print-file-name=libasan.so) PYTHONMALLOC=malloc \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:verify_asan_link_order=0

$(ASAN_STAMP): $(SOURCES)
	rm -rf $(ASAN_VENV) $(ASAN_SRC)
	$(PYTHON) -m venv $(ASAN_VENV)
	$(ASAN_VENV)/bin/pip install --quiet --upgrade pip==25.2
	mkdir -p $(ASAN_SRC)
	cp -r setup.py pyproject.toml README.md src $(ASAN_SRC)/
	find $(ASAN_SRC)/src \( -name '*.so' -o -name '_core.c' -o -name '*.egg-info' \) -prune -exec rm -rf {} +
	CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g" LDFLAGS="-fsanitize=address" \
		$(ASAN_VENV)/bin/pip install --quiet '$(ASAN_SRC)[test]'
	touch $(ASAN_STAMP)

test-asan: $(ASAN_STAMP)
	$(ASAN_RUN) $(ASAN_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/kernel tests/stress

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/uring bench aio

clean:
	rm -rf $(VENV) $(VENV313) $(ASAN_VENV) build src/*.egg-info src/uring/_core.c src/uring/*.so src/uring/aio/_fast.c src/uring/aio/*.so src/uring/loop/_fast.c src/uring/loop/*.so
