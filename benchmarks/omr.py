"""Shipped music model on real PrIMuS incipits and on a fixed synthetic test set, in one run.

    .venv/bin/python benchmarks/omr.py [--model exports/omr-semantic.safetensors] [--threads 2]
                                       [--synth-count 300] [--real DIR]
    .venv/bin/python benchmarks/omr.py --model exports/omr-semantic.int8.onnx   # the runtime-only model

Reports the symbol error rate (token edit distance / reference tokens, micro-averaged), the
sequence error rate (incipits with any error) and incipits per second on CPU, end to end (image
decoding included, after one warm-up incipit). Sets:
  real        ../shared/data/primus (14 PrIMuS incipits with ground truth; evaluation only)
  synth-clean the fixed synthetic test set (seed 20261128; never a training seed) as rendered
  synth-cam   the same incipits with the generator's camera-like distortions (Camera-PrIMuS style)
  text lines  the real printed text lines of ../shared/data/ocr (not music: only the doubted count)
Published anchor (PrIMuS, semantic, CNN+BiLSTM+CTC): SER 0.8 %, SeqER 12.5 %; target SER <= 0.5 %.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.shared_data import SHARED  # noqa: E402
from recognize.core.metrics import error_rates  # noqa: E402
from recognize.omr.dataset import find_samples  # noqa: E402

REAL = SHARED / "primus"
TEXT = SHARED / "ocr"
SYNTH_SEED = 20261128


def run(model, images: list, batch: int) -> tuple[list[str], int, float]:
    """Token strings, how many readings are doubted, seconds."""
    from recognize.omr.predict import doubt, prepare, recognize
    h = int(model.preprocess["height"])
    recognize(model, [prepare(images[0], h)])  # warm-up
    t0 = time.perf_counter()
    results = recognize(model, [prepare(p, h) for p in images], batch)
    secs = time.perf_counter() - t0
    return [" ".join(r.tokens) for r in results], sum(doubt(r) is not None for r in results), secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "exports" / "omr-semantic.safetensors")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--synth-count", type=int, default=300)
    ap.add_argument("--real", type=Path, default=REAL)
    ap.add_argument("--errors", type=int, default=0, help="print the N worst incipits of each set")
    args = ap.parse_args()

    import torch

    from recognize.core.runtime import open_model
    from recognize.omr.synth.generate import write_dataset
    torch.set_num_threads(args.threads)
    model = open_model(args.model, "cpu", args.threads)  # .safetensors on PyTorch, .onnx on ONNX Runtime
    enc = model.preprocess.get("encoding", "semantic")
    synth = ROOT / "data" / "cache" / "omr-bench" / f"seed{SYNTH_SEED}"
    write_dataset(synth, args.synth_count, SYNTH_SEED, workers=args.threads, distorted=True)
    sets = [("synth-clean", synth, "clean"), ("synth-cam", synth, "distorted")]
    if args.real.is_dir():
        sets.insert(0, ("real", args.real, "clean"))
    else:
        print(f"({args.real} not found: real incipits skipped)")
    print(f"model {args.model.name} ({enc}), {args.threads} threads, torch {torch.__version__}")
    print(f"{'set':<12} {'incipits':>8} {'SER %':>7} {'SeqER %':>8} {'incipits/s':>11} {'doubted':>8}")
    for name, folder, image in sets:
        samples = find_samples(folder, enc, image)
        if name != "real":
            samples = samples[: args.synth_count]
        hyps, doubted, secs = run(model, [s.image for s in samples], args.batch_size)
        refs = [" ".join(s.tokens) for s in samples]
        r = error_rates(refs, hyps)
        print(f"{name:<12} {len(refs):>8} {100 * r.ser:>7.2f} {100 * r.seq:>8.1f} {len(refs) / secs:>11.1f}"
              f" {doubted:>8}")
        worst = sorted(zip(refs, hyps, samples), key=lambda t: -error_rates([t[0]], [t[1]]).ser)
        for ref, hyp, s in worst[: args.errors]:
            if ref != hyp:
                print(f"  {s.image}\n    ref: {ref}\n    hyp: {hyp}")
    if TEXT.is_dir():  # each line prepared once: those too small for a staff are refused there
        from recognize.core.image import ImageInputError
        from recognize.omr.predict import doubt, prepare, recognize
        h, lines, prepared = int(model.preprocess["height"]), sorted(TEXT.rglob("*.png")), []
        t0 = time.perf_counter()
        for path in lines:
            try:
                prepared.append(prepare(path, h))
            except ImageInputError:
                pass
        doubted = sum(doubt(r) is not None for r in recognize(model, prepared, args.batch_size))
        secs = time.perf_counter() - t0
        print(f"{'text lines':<12} {len(prepared):>8} {'-':>7} {'-':>8} {len(prepared) / secs:>11.1f} {doubted:>8}"
              f"   ({len(lines) - len(prepared)} refused: too small for a staff)")

if __name__ == "__main__":
    main()
