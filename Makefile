# Two entry points for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed
APT_PACKAGES := $(shell grep -v '^\#' .ci/apt-packages.txt)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup runtime system-deps demo test lint bench train train-cnn train-probe

# Python packages into a virtualenv, in two steps: what analysis needs (requirements-runtime.txt: no torch,
# about 1.5 GB with the CLIP weights), then the rest of the full install (requirements.txt: torch, Ray,
# test tools). The pins that go in without their deps come with their sha256 (requirements-nodeps.txt).
# PIP_QUIET is empty for `make demo`, so a first run shows pip's progress instead of minutes of silence.
PIP_QUIET ?= -q
$(RUNTIME_STAMP): requirements-runtime.txt requirements-nodeps.txt
	@echo "installing what analysis needs into $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) --disable-pip-version-check -r requirements-runtime.txt
	$(PY) -m pip install $(PIP_QUIET) --disable-pip-version-check --no-deps --require-hashes -r requirements-nodeps.txt
	touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP) requirements.txt
	@echo "installing the full set into $(VENV) (torch is a large download: a few minutes on a first run)"
	$(PY) -m pip install $(PIP_QUIET) --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)
runtime: $(RUNTIME_STAMP)

# Debian packages the tests use: GStreamer's RTSP server (loopback streams) and Xvfb.
system-deps:
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(APT_PACKAGES); \
	fi

demo: PIP_QUIET =
demo: runtime
	$(PY) run_live.py

# Style, then the import rules of docs/ARCHITECTURE.md (.importlinter: layers, no cycles, Qt only in ui/).
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

test: setup system-deps lint
	$(PY) -m pytest

# Speed figures (JSON on stdout and in benchmarks/results/); not part of the test run.
bench: setup
	$(PY) -m benchmarks.decode
	$(PY) -m benchmarks.faces
	$(PY) -m benchmarks.backbone
	$(PY) -m benchmarks.startup
	$(PY) -m benchmarks.live --clip real_720p_1face
	$(PY) -m benchmarks.live --clip real_720p_4faces
	$(PY) -m benchmarks.live --clip real_720p_1face --rtsp
	$(PY) -m benchmarks.live --clip generated_720p_1face
	$(PY) -m benchmarks.scan_speed
	$(PY) -m benchmarks.scan_speed --clips real_720p_1face -- --explain 0
	$(PY) -m benchmarks.scan_folder
	$(PY) -m benchmarks.streams

# The shipped detector (v3) from ../shared/data, seeded, on 2 CPU cores: the crop cache, the autoencoder bank on
# the training reals, the clean CLIP features of up to 8 crops per clip, the aligned pairs through the CLIP
# tower (resumable) and the generated-mouth and animated-render families' own pair sets (each kept between
# runs), the head comparison (candidates, leave-one-family-out, seeds) and the v3 head fitted, calibrated on
# validation clips, evaluated on the test split and exported, into $(CHECKPOINT); then v3 set against the plain
# probe on the same clips (paired AUC difference, out/against_probe.json) and over ten cuts of the data, both
# refitted on each (out/split_seeds.json; 2 min, added later). From an empty cache 40 min 34 s on a quiet 2-core Intel Xeon (pairs
# 20 min of it; the paired comparison, added later, 13 s more), 56 min 57 s on a 2-core AMD EPYC, where it rewrote
# the shipped checkpoint byte for byte (with the animated-render pairs, added later: 66 min there, a test suite
# running beside it, the shipped bytes again); with the caches kept, a rerun takes minutes.
# models/MODEL_CARD.md says what it measured.
CACHE ?= $(HOME)/.cache/deepfake-analyzer/crops
CHECKPOINT ?= out/detector.pt
SEED ?= 0
train: setup
	$(PY) -m training.data.prepare --out $(CACHE)
	$(PY) -m training.data.splits --cache $(CACHE) --split train --label real > $(CACHE)/train_reals.txt
	$(PY) -m training.data.autoencoders --cache $(CACHE) --out $(CACHE)/autoencoders --clips $(CACHE)/train_reals.txt
	$(PY) -m training.clean_features --crops $(CACHE)
	$(PY) -m training.pair_features --crops $(CACHE) --rounds 3
	$(PY) -m training.pair_features --crops $(CACHE) --family mouth_rerender --rounds 1
	$(PY) -m training.pair_features --crops $(CACHE) --family one_shot_rerender --rounds 1
	$(PY) -m training.compare_heads --crops $(CACHE) --out out/heads.json
	$(PY) -m training.train_v3 --crops $(CACHE) --out $(CHECKPOINT) --seed $(SEED)
	$(PY) -m training.against_probe --crops $(CACHE) --out out/against_probe.json
	$(PY) -m training.split_seeds --crops $(CACHE) --out out/split_seeds.json

# The CNN recipes through the one trainer (training/cnn_trainable.py), kept for comparison: ARCHITECTURE is
# cnn_npr_lstm (RGB + native residual, the v2 recipe; ~2 h on 2 cores) or cnn_lstm (RGB crops only). Neither
# is the default (models/MODEL_CARD.md).
ARCHITECTURE ?= cnn_npr_lstm
CNN_CHECKPOINT ?= out/detector_v2.pt
train-cnn: setup
	$(PY) -m training.data.prepare --out $(CACHE)
	$(PY) -m training.data.splits --cache $(CACHE) --split train --label real > $(CACHE)/train_reals.txt
	$(PY) -m training.data.autoencoders --cache $(CACHE) --out $(CACHE)/autoencoders --clips $(CACHE)/train_reals.txt
	$(PY) -m training.train --cache $(CACHE) --out $(CNN_CHECKPOINT) --seed $(SEED) --architecture $(ARCHITECTURE)
	$(PY) -m training.evaluate --cache $(CACHE) --model $(CNN_CHECKPOINT) --store
	$(PY) -m models.onnx_export $(CNN_CHECKPOINT)

# The default CLIP detector (issue "foundation features"): the crop cache (kept between runs), the clean CLIP
# features of up to 8 crops per clip (kept; ~15 min on 2 quiet cores the first time), then the probe fitted,
# calibrated on validation clips and evaluated on the test split in seconds, into $(PROBE).
PROBE ?= out/clip_probe.pt
train-probe: setup
	$(PY) -m training.data.prepare --out $(CACHE)
	$(PY) -m training.clean_features --crops $(CACHE)
	$(PY) -m training.probe --crops $(CACHE) --out $(PROBE)
