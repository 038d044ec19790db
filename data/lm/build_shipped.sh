#!/usr/bin/env bash
# Build the language models shipped in exports/ (run from the repository root after `make setup`).
#
#   bash data/lm/build_shipped.sh
#
# English (OCR): sentences of the fortunes, the licence texts and the Python standard library's
# docstrings (data/lm/english_corpus.py), as a word 4-gram (pyctcdecode) and a character 6-gram
# (flashlight). Music: token 5-gram (singletons above bigrams pruned) of 50,000 incipits drawn by the synthetic generator (seed 7;
# the benchmark's test incipits use seed 20261128).
# Binary LMs are tries with 8-bit probabilities and backoffs (--quantize 8): half the size, the same
# error rates in benchmarks/decoding.py.
set -euo pipefail
PY=.venv/bin/python
mkdir -p data/cache
$PY data/lm/english_corpus.py > data/cache/english.txt
.venv/bin/recognize lm build data/cache/english.txt -o exports/ocr-en-words.klm --order 4 --unit word --quantize 8
.venv/bin/recognize lm build data/cache/english.txt -o exports/ocr-en-chars.klm --order 6 --unit char --quantize 8
$PY -m recognize.omr.synth.corpus data/cache/music-semantic.txt --count 50000 --seed 7
.venv/bin/recognize lm build data/cache/music-semantic.txt -o exports/omr-semantic-tokens.klm --order 5 --unit token --prune "0 0 1" --quantize 8
