#!/usr/bin/env bash
# The ONNX exports shipped in exports/ for the runtime-only install (no torch): int8 where its
# --check passes against the PyTorch model on the bundled samples, float32 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
for model in ocr-en speech-commands omr-semantic; do
    rm -f "exports/$model.onnx" "exports/$model.int8.onnx"
    if ! "$BIN/recognize" export "exports/$model.safetensors" --quantize int8 --check -o exports > /dev/null; then
        echo "$model: int8 does not pass its check; shipping float32" >&2
        rm -f "exports/$model.int8.onnx"
        "$BIN/recognize" export "exports/$model.safetensors" --check -o exports > /dev/null
    fi
done
ls -l exports/*.onnx
