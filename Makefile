# recognize — set-up, demo and tests. Every target is idempotent.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_APT := $(VENV)/.apt-done
STAMP_PIP := $(VENV)/.pip-done

APT_PACKAGES := tesseract-ocr tesseract-ocr-eng libxml2-utils \
	fonts-dejavu-core fonts-dejavu-extra fonts-liberation2 fonts-urw-base35 \
	fonts-freefont-ttf fonts-croscore fonts-crosextra-carlito fonts-crosextra-caladea \
	fonts-texgyre fonts-cmu fonts-lmodern fonts-courier-prime fonts-linuxlibertine \
	fonts-noto-mono fonts-go fonts-open-sans fonts-roboto-unhinted wamerican fortunes chromium

.PHONY: setup demo test lint clean-venv

setup: $(STAMP_PIP)

$(STAMP_APT): data/setup_tts.sh
	@mkdir -p $(VENV)
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	fi
	@bash data/setup_tts.sh
	@touch $@

$(STAMP_PIP): $(STAMP_APT) pyproject.toml requirements.lock data/setup_kenlm.sh
	@bash data/check_disk.sh $(VENV) 7
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@bash data/setup_kenlm.sh $(VENV)
	@touch $@

demo: setup
	$(BIN)/recognize ocr data/samples/ocr
	$(BIN)/recognize ocr data/samples/ocr --decoder beam
	$(BIN)/recognize transcribe data/samples/speech --vocabulary data/samples/speech/commands.txt
	$(BIN)/recognize transcribe data/samples/speech/four_commands.wav -f tsv
	$(BIN)/recognize omr data/samples/omr
	$(BIN)/recognize export exports/ocr-en.safetensors --quantize int8 --check -o build/onnx
	$(BIN)/recognize ocr data/samples/ocr -m build/onnx/ocr-en.int8.onnx

test: setup
	$(BIN)/python -m pytest -q tests

lint: setup
	$(BIN)/python -m ruff check recognize tests benchmarks data
