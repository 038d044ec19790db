#!/usr/bin/env bash
# The ONNX exports shipped in exports/ for the runtime-only install (no torch): int8 where its
# --check passes against the PyTorch model on the bundled samples, float32 otherwise, and float32
# for the models in FLOAT32: the default speech model's int8 export (eleventh stage, 2026-12-04)
# passed its check but was 4.5 MB against 5.0 (its GRU stays float), read all35 and FSDD 0.7 and
# 0.4 points worse and ran no faster (benchmarks/speech.py --model ...: RTF 0.0060 against 0.0049).
#   bash data/export_shipped.sh [MODEL...]     (default: every shipped model)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
models=("$@")
FLOAT32=(speech-commands)
[ ${#models[@]} -gt 0 ] || models=(ocr-en speech-commands speech-commands-fast omr-semantic)
for model in "${models[@]}"; do
    rm -f "exports/$model.onnx" "exports/$model.int8.onnx"
    if [[ " ${FLOAT32[*]} " == *" $model "* ]]; then
        "$BIN/recognize" export "exports/$model.safetensors" --check -o exports > /dev/null
    elif ! "$BIN/recognize" export "exports/$model.safetensors" --quantize int8 --check -o exports > /dev/null; then
        echo "$model: int8 does not pass its check; shipping float32" >&2
        rm -f "exports/$model.int8.onnx"
        "$BIN/recognize" export "exports/$model.safetensors" --check -o exports > /dev/null
    fi
done
ls -l exports/*.onnx
