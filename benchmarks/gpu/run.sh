#!/usr/bin/env bash
# The GPU checks of one device call, prepared so that a session lent a GPU spends its few minutes
# measuring, not installing. Here: `.venv/bin/python benchmarks/gpu/pack.py` (the kit, .gpu/); then,
# with the device tool:
#
#   run(command="bash benchmarks/gpu/run.sh", carry=[".gpu"], timeout_s=560)
#
# On the GPU machine (Python 3.12 with torch/torchaudio, no registry) it installs the kit's wheels
# into /tmp/site and its fonts, then runs the CUDA tests (cuDNN CTC and its fallback, cuDNN RNNs,
# bf16/fp16 steps, a training run), with PROBE=1 benchmarks/gpu/ctc_probe.py (which CTC kernel each way of
# passing targets takes, against the CPU's gradients), and benchmarks/training.py on the GPU (plain, optimised,
# optimised without autocast, optimised with NHWC convolutions: samples/s and the share of step time per kernel
# kind; then again for OCR and music with batches 8x the recipes'; speech at 8x was bound by its data workers).
# Logs go to $OUT.
# benchmarks/gpu/cuda_decoder_probe.py (torchaudio's cuda_ctc_decoder at each beam width, each in its
# own process) is run the same way when that decoder is to be checked again.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/recognize-gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
[ -d .gpu/whl ] || { echo "no .gpu kit: run benchmarks/gpu/pack.py here and carry .gpu" >&2; exit 2; }
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD RECOGNIZE_WORDS=$PWD/.gpu/text/words RECOGNIZE_FORTUNES=$PWD/.gpu/text/fortunes \
    RECOGNIZE_LICENSES=$PWD/.gpu/text/licenses
mkdir -p /usr/share/fonts/truetype/dejavu && cp .gpu/fonts/*.ttf /usr/share/fonts/truetype/dejavu/
{
    nvidia-smi -L
    python3 -c "import torch; print('torch', torch.__version__, 'cuDNN', torch.backends.cudnn.version())"
} 2>&1 | tee "$OUT/gpu.txt"
timeout 90 python3 -m pytest -q -p no:cacheprovider -rs --tb=short tests/core/test_cuda.py 2>&1 | tee "$OUT/tests.txt"
[ "${PROBE:-0}" = 1 ] && timeout 40 python3 benchmarks/gpu/ctc_probe.py 2>&1 | tee "$OUT/ctc.txt"
timeout 170 python3 benchmarks/training.py --device cuda --profile --kit .gpu --workers 6 \
    --modes plain optimised fp32 nhwc 2>&1 | tee "$OUT/training.txt"
timeout 200 python3 benchmarks/training.py --device cuda --profile --kit .gpu --workers 12 --scale-batch 8 \
    --recipes ocr_en omr_semantic --modes plain optimised fp32 nhwc 2>&1 | tee "$OUT/training_large.txt"
