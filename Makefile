# Two entry points for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := $(shell grep -v '^\#' .ci/apt-packages.txt)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-deps demo test lint bench

# Python packages into a virtualenv; face_recognition's pins go in without their deps
# (dlib-bin provides dlib prebuilt; see requirements-nodeps.txt).
$(STAMP): requirements.txt requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

setup: $(STAMP)

# Debian packages the tests use: GStreamer's RTSP server (loopback streams) and Xvfb.
system-deps:
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(APT_PACKAGES); \
	fi

demo: setup
	$(PY) run_live.py

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: setup system-deps lint
	$(PY) -m pytest

# Speed figures (JSON on stdout and in benchmarks/results/); not part of the test run.
bench: setup
	$(PY) -m benchmarks.decode
	$(PY) -m benchmarks.faces
	$(PY) -m benchmarks.backbone
	$(PY) -m benchmarks.live
	$(PY) -m benchmarks.live --faces 4
	$(PY) -m benchmarks.live --rtsp
	$(PY) -m benchmarks.scan_speed
	$(PY) -m benchmarks.scan_folder
	$(PY) -m benchmarks.streams
