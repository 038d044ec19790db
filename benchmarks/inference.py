"""Inference engines side by side: PyTorch fp32 vs ONNX Runtime fp32 vs ONNX Runtime int8 (and Tesseract
for OCR, PocketSphinx for speech) on the same inputs, in one run.

    .venv/bin/python benchmarks/inference.py [--tasks ocr speech omr] [--threads 2] [--limit N] [--repeat 3]

Each engine runs in its own process (so its peak memory, VmHWM, is its own) with the same number of
threads (torch intra-op threads / ONNX Runtime intra-op threads / OMP_THREAD_LIMIT for Tesseract /
worker processes for PocketSphinx). Each time is the best of --repeat runs (this VM's speed drifts by
20-40 % between runs), end to end after one warm-up batch: reading and
decoding the files, preprocessing, the network and greedy decoding (speech: beam search constrained
to the set's words, as PocketSphinx is constrained by its grammar). The exported models are made
by `recognize export` (data/cache/inference-bench/) from the shipped ones.

Sets: OCR uw3-dev and sroie-receipts (../shared/data/ocr; CER with quotes unified, SROIE also case-
insensitive as its ground truth is upper case); speech: Speech Commands test speakers, 10 core words
(as benchmarks/speech.py), with the shipped model and the fast one (exports/speech-commands-fast:
pruned front-end); music: the real PrIMuS incipits of ../shared/data/primus plus the fixed
synthetic test set of benchmarks/omr.py (SER).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.shared_data import SHARED, need  # noqa: E402

CACHE = ROOT / "data" / "cache" / "inference-bench"
MODELS = {"ocr": "ocr-en", "speech": "speech-commands", "omr": "omr-semantic"}
BASELINE = {"ocr": "tesseract", "speech": "pocketsphinx"}
ENGINES = ("torch", "onnx", "onnx-int8")
# greedy: what the runtime-only install (no torch) decodes with; fast-: the pruned fast speech model
EXTRA = {"speech": ("onnx-int8-greedy", "fast-onnx", "fast-onnx-greedy", "fast-onnx-int8", "fast-onnx-int8-greedy")}
FAST = {"speech": "speech-commands-fast"}


# --- the data of each task ---------------------------------------------------------------------------------

def ocr_sets(limit: int) -> list[tuple[str, list[Path], list[str], str]]:
    from recognize.ocr.dataset import find_pairs
    sets = []
    for name, norm in (("uw3-dev", "quotes"), ("sroie-receipts", "nocase")):
        pairs = find_pairs(SHARED / "ocr" / name)[: limit or None]
        sets.append((name, [p for p, _ in pairs], [t for _, t in pairs], norm))
    return sets


def speech_set(limit: int):
    from benchmarks.speech import load_set
    paths, refs, words = load_set("core10", SHARED, limit)
    return paths, refs, words


def omr_sets(limit: int):
    from benchmarks.omr import SYNTH_SEED
    from recognize.omr.dataset import find_samples
    from recognize.omr.synth.generate import write_dataset
    synth = ROOT / "data" / "cache" / "omr-bench" / f"seed{SYNTH_SEED}"
    write_dataset(synth, 300, SYNTH_SEED, workers=2, distorted=True)
    sets = []
    for name, folder in (("primus-real", SHARED / "primus"), ("synth-clean", synth)):
        samples = find_samples(folder, "semantic", "clean")[: limit or (300 if name == "synth-clean" else None)]
        sets.append((name, [s.image for s in samples], [" ".join(s.tokens) for s in samples]))
    return sets


# --- one engine on one task (child process) ----------------------------------------------------------------

def open_engine(task: str, engine: str, threads: int):
    if engine == "torch":
        import torch
        torch.set_num_threads(threads)
    from recognize.core.runtime import open_model
    stem = FAST[task] if engine.startswith("fast-") else MODELS[task]
    name = {"torch": f"{stem}.safetensors", "onnx": f"{stem}.onnx",
            "onnx-int8": f"{stem}.int8.onnx"}[engine.removeprefix("fast-").removesuffix("-greedy")]
    return open_model((ROOT / "exports" if engine == "torch" else CACHE) / name, "cpu", threads)


def timed(fn, warm) -> tuple[object, float]:
    warm()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def child(task: str, engine: str, threads: int, limit: int, repeat: int = 1) -> dict:
    from benchmarks.speech import best_of
    from recognize.core.metrics import error_rates
    rows = []
    if task == "ocr":
        from recognize.ocr.textnorm import NORMALIZERS
        for name, images, refs, norm in ocr_sets(limit):
            if engine == "tesseract":
                from benchmarks.ocr import run_tesseract
                hyps, secs = best_of(repeat, lambda: run_tesseract(images, threads))  # noqa: B023
            else:
                from recognize.ocr.predict import prepare, recognize
                m = open_engine(task, engine, threads)
                h = int(m.preprocess["height"])
                res, secs = best_of(repeat, lambda: timed(
                    lambda: recognize(m, [prepare(p, h) for p in images]),  # noqa: B023
                    lambda: recognize(m, [prepare(p, h) for p in images[:16]])))  # noqa: B023
                hyps = [r.text for r in res]
            f = NORMALIZERS[norm]
            rows.append({"set": name, "items": len(images), "unit": "lines",
                         "error": error_rates([f(r) for r in refs], [f(x) for x in hyps]).cer, "metric": f"CER {norm}",
                         "seconds": secs})
    elif task == "speech":
        from recognize.speech.audio import audio_info
        paths, refs, words = speech_set(limit)
        audio = sum(audio_info(p).seconds for p in paths)
        if engine == "pocketsphinx":
            from benchmarks.speech import run_sphinx
            hyps, secs = best_of(repeat, lambda: run_sphinx(paths, words, threads))
        elif engine.endswith("-greedy"):
            from recognize.speech.predict import prepare, recognize
            m = open_engine(task, engine, threads)
            res, secs = best_of(repeat, lambda: timed(
                lambda: recognize(m, [prepare(p, m.preprocess) for p in paths], 32),
                lambda: recognize(m, [prepare(p, m.preprocess) for p in paths[:32]], 32)))
            hyps = [r.text for r in res]
        else:
            from benchmarks.speech import run_ours
            m = open_engine(task, engine, threads)
            hyps, secs = best_of(repeat, lambda: run_ours(m, paths, words, 32))
        rows.append({"set": "speech-commands core10 test", "items": len(paths), "unit": "clips", "audio": audio,
                     "error": 1 - sum(h == r for h, r in zip(hyps, refs)) / len(refs), "metric": "word error",
                     "seconds": secs})
    else:
        from recognize.omr.predict import prepare, recognize
        m = open_engine(task, engine, threads)
        h = int(m.preprocess["height"])
        for name, images, refs in omr_sets(limit):
            res, secs = best_of(repeat, lambda: timed(
                lambda: recognize(m, [prepare(p, h) for p in images]),  # noqa: B023
                lambda: recognize(m, [prepare(p, h) for p in images[:8]])))  # noqa: B023
            rows.append({"set": name, "items": len(images), "unit": "incipits", "metric": "SER",
                         "error": error_rates(refs, [" ".join(r.tokens) for r in res]).ser, "seconds": secs})
    return {"rows": rows, "peak_mb": peak_mb(), "torch": "torch" in sys.modules}


def peak_mb() -> float:
    """The high-water resident memory of this process or of any child it waited for (Tesseract, workers)."""
    own = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) / 1024
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


# --- the table ---------------------------------------------------------------------------------------------

def export_models(tasks: list[str]) -> None:
    from recognize.core.export import export
    from recognize.core.modelfile import load_model
    for task in tasks:
        for stem in (MODELS[task], FAST.get(task)):
            for quantize in (None, "int8") if stem else ():
                export(load_model(ROOT / "exports" / f"{stem}.safetensors"), "onnx", CACHE, quantize)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", choices=list(MODELS), default=list(MODELS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="Use only N inputs of each set.")
    ap.add_argument("--repeat", type=int, default=3, help="Time each engine this many times; keep the best.")
    ap.add_argument("--child", nargs=2, metavar=("TASK", "ENGINE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.threads, args.limit, args.repeat)))
        return
    need(SHARED, data_option=False)
    export_models(args.tasks)
    import onnxruntime
    import torch
    print(f"threads {args.threads}  torch {torch.__version__}  onnxruntime {onnxruntime.__version__}  "
          f"cpu: {os.cpu_count()} cores")
    header = (f"{'task':<7}{'set':<30}{'engine':<23}{'items':>6}{'error %':>9}{'items/s':>9}{'RTF':>9}"
              f"{'peak MB':>9}  torch loaded")
    print(header)
    print("-" * len(header))
    for task in args.tasks:
        results = {}
        for engine in (*ENGINES, *EXTRA.get(task, ()), *([BASELINE[task]] if task in BASELINE else [])):
            out = subprocess.run([sys.executable, __file__, "--child", task, engine, "--threads", str(args.threads),
                                  "--limit", str(args.limit), "--repeat", str(args.repeat)],
                                 capture_output=True, text=True, cwd=ROOT)
            if out.returncode:
                print(f"{task} {engine}: failed\n{out.stderr[-2000:]}")
                continue
            results[engine] = json.loads(out.stdout.strip().splitlines()[-1])
        for engine, res in results.items():
            for row in res["rows"]:
                rtf = f"{row['seconds'] / row['audio']:.5f}" if "audio" in row else ""
                print(f"{task:<7}{row['set'][:29]:<30}{engine:<23}{row['items']:>6}{100 * row['error']:>9.3f}"
                      f"{row['items'] / row['seconds']:>9.1f}{rtf:>9}{res['peak_mb']:>9.0f}  {res['torch']}")
        ratios(task, results)


def ratios(task: str, results: dict) -> None:
    """Throughput ratios against PyTorch and the baseline, error differences against ONNX fp32."""
    if "onnx-int8" not in results:
        return
    q = results["onnx-int8"]["rows"]
    for other in ("torch", "onnx", BASELINE.get(task)):
        if other not in results:
            continue
        for a, b in zip(q, results[other]["rows"]):
            speed = (a["items"] / a["seconds"]) / (b["items"] / b["seconds"])
            print(f"{'':<7}{a['set'][:29]:<30}{'int8/' + other:<23} speed {speed:5.2f}x   error "
                  f"{100 * (a['error'] - b['error']):+.3f} points   memory "
                  f"{results['onnx-int8']['peak_mb'] / results[other]['peak_mb']:.2f}x")


if __name__ == "__main__":
    main()
