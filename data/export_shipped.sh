#!/usr/bin/env bash
# The ONNX exports shipped in exports/ for the runtime-only install (no torch): int8 where its
# --check passes against the PyTorch model on the bundled samples, float32 otherwise.
#   bash data/export_shipped.sh [MODEL...]     (default: every shipped model)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(ocr-en speech-commands speech-commands-fast omr-semantic)
for model in "${models[@]}"; do
    rm -f "exports/$model.onnx" "exports/$model.int8.onnx"
    if ! "$BIN/recognize" export "exports/$model.safetensors" --quantize int8 --check -o exports > /dev/null; then
        echo "$model: int8 does not pass its check; shipping float32" >&2
        rm -f "exports/$model.int8.onnx"
        "$BIN/recognize" export "exports/$model.safetensors" --check -o exports > /dev/null
    fi
done
ls -l exports/*.onnx
