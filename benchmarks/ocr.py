"""Shipped OCR model vs Tesseract 5 on the same real lines, in one run.

    .venv/bin/python benchmarks/ocr.py [--model exports/ocr-en.safetensors] [--threads 2] [DATA_DIR ...]

Default sets: ../shared/data/ocr/{uw3-dev,sroie-receipts,earlyprint}. Both engines get the same
line images and the same number of threads (torch threads / OMP_THREAD_LIMIT); times include image
decoding. CER is micro-averaged; 'quotes' unifies TeX/typographic quotes and dashes, 'nocase'
also ignores case (the SROIE ground truth is upper case).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognize.core.metrics import error_rates  # noqa: E402
from recognize.ocr.dataset import find_pairs  # noqa: E402
from recognize.ocr.textnorm import NORMALIZERS  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "ocr"
DEFAULT_SETS = [SHARED / "uw3-dev", SHARED / "sroie-receipts", SHARED / "earlyprint"]


def run_ours(model_path: Path, images: list[Path], threads: int, batch: int) -> tuple[list[str], float]:
    import torch

    from recognize.core.modelfile import load_model
    from recognize.ocr.predict import prepare, recognize
    torch.set_num_threads(threads)
    m = load_model(model_path)
    h = int(m.preprocess["height"])
    recognize(m, [prepare(images[0], h)])  # warm-up (allocator, kernels)
    t0 = time.perf_counter()
    results = recognize(m, [prepare(p, h) for p in images], batch)
    return [r.text for r in results], time.perf_counter() - t0


def run_tesseract(images: list[Path], threads: int) -> tuple[list[str], float]:
    exe = shutil.which("tesseract")
    if exe is None:
        raise SystemExit("tesseract not found: run `make setup` (it installs tesseract-ocr)")
    with tempfile.TemporaryDirectory() as tmp:
        lst = Path(tmp) / "list.txt"
        lst.write_text("\n".join(str(p) for p in images) + "\n")
        env = {**os.environ, "OMP_THREAD_LIMIT": str(threads)}
        t0 = time.perf_counter()
        out = subprocess.run([exe, str(lst), "stdout", "--psm", "7", "-l", "eng"], env=env,
                             capture_output=True, text=True, check=True).stdout
        secs = time.perf_counter() - t0
    pages = out.split("\f")[: len(images)]
    return [p.strip() for p in pages], secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="*", type=Path, default=DEFAULT_SETS)
    ap.add_argument("--model", type=Path, default=ROOT / "exports" / "ocr-en.safetensors")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--limit", type=int, default=0, help="Use only the first N lines of each set.")
    args = ap.parse_args()
    print(f"model {args.model}  threads {args.threads}  (tesseract: OMP_THREAD_LIMIT={args.threads}, psm 7, eng)")
    header = f"{'set':<16}{'lines':>6}  {'engine':<10}{'CER exact':>10}{'quotes':>9}{'nocase':>9}{'lines/s':>9}"
    print(header)
    print("-" * len(header))
    for folder in args.data:
        if not folder.is_dir():
            print(f"{folder}: missing, skipped")
            continue
        pairs = find_pairs(folder)
        if args.limit:
            pairs = pairs[: args.limit]
        images, refs = [p for p, _ in pairs], [t for _, t in pairs]
        rows = {}
        for name, (hyps, secs) in (("recognize", run_ours(args.model, images, args.threads, args.batch_size)),
                                   ("tesseract", run_tesseract(images, args.threads))):
            cer = {n: error_rates([f(r) for r in refs], [f(h) for h in hyps]).cer for n, f in NORMALIZERS.items()}
            rows[name] = (cer, len(images) / secs)
            print(f"{folder.name:<16}{len(images):>6}  {name:<10}{100 * cer['exact']:>9.2f}%"
                  f"{100 * cer['quotes']:>8.2f}%{100 * cer['nocase']:>8.2f}%{len(images) / secs:>9.1f}")
        (oc, ol), (tc, tl) = rows["recognize"], rows["tesseract"]
        ratio = lambda a, b: f"{a / b:.2f}" if b else "inf"  # noqa: E731
        print(f"{'':<16}{'':>6}  {'ratio':<10}{ratio(oc['exact'], tc['exact']):>10}"
              f"{ratio(oc['quotes'], tc['quotes']):>9}{ratio(oc['nocase'], tc['nocase']):>9}{ol / tl:>8.2f}x"
              "   (CER ours/tesseract, speed ours/tesseract)")


if __name__ == "__main__":
    main()
