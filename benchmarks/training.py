"""Training throughput of the shipped recipes: the plain path vs the optimised one, side by side.

    .venv/bin/python benchmarks/training.py [--recipes ocr_en speech_commands omr_semantic]
        [--device cpu|cuda] [--steps 30] [--warmup 5] [--profile] [--kit .gpu] [--workers N] [--scale-batch K]
        [--modes plain optimised fp32 nhwc autotune]

plain: fp32, random batches of max_batch (no length bucketing), the native CTC kernel (no cuDNN CTC),
no AMP. optimised: the recipe as shipped: length-bucketed batches under its budget, widths padded to
a multiple of 64 on a GPU, cuDNN CTC where a batch allows, bf16 autocast on a GPU. autotune (GPU):
optimised with cudnn.benchmark (train.autotune), which times every new batch shape once. fp32 (GPU):
optimised without autocast. nhwc (GPU): optimised with channels-last convolutions (train.channels_last).
Both run the recipe's model, data workers and training loop (`recognize.core.train.train`) for
warmup + steps optimisation steps from the same seed; samples/s is measured over the last `steps`
steps from the run's history (wall clock, data loading included). Training data is the recipe's own
kind, shrunk so that listing/generation stays short: OCR 4,000 synthetic lines, speech the 6,000
cached TTS words, music the 16,000 cached synthetic incipits.

--kit DIR: the training data packed by benchmarks/gpu/pack.py for a device call (OCR lines rendered
from its fonts, its real speech clips, its generated incipits) instead of data/cache.

--scale-batch K: every mode gets K times the recipe's batch_budget and max_batch (GPU-sized batches:
the recipes are sized for a 2-core CPU, and on an H200 their steps left the GPU idle 85-97 % of the time).

--profile (GPU): profiles 10 optimised steps with torch.profiler and prints the share of their wall time
spent in cuDNN RNN, convolution, CTC (cuDNN or native) and other GPU kernels (each kernel counted under
the op that launched it), and the kernels that took longest.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RECIPES = ("ocr_en", "speech_commands", "omr_semantic")
DATA = {  # shrunk training data of each recipe's own kind (the benchmark measures steps, not learning)
    "ocr_en": "[{kind: synth, count: 4000, seed: 1}]",
    "speech_commands": "[{kind: synth_words, count: 6000, seed: 1}]",
    "omr_semantic": "[{kind: synth, count: 16000, seed: 1}]",
}
KIT_DATA = {  # the same kinds from a benchmarks/gpu/pack.py kit ({kit} is its folder)
    "ocr_en": "[{{kind: synth, count: 4000, seed: 1, options: {{workers: 8}}}}]",
    "speech_commands": "[{{kind: manifest, path: '{kit}/speech/manifest.tsv'}}]",
    "omr_semantic": "[{{kind: primus, path: '{kit}/music'}}]",
}
MODES = {"plain": ["train.bucketing=false", "train.cudnn_ctc=false", "train.amp=none", "train.pad_to=1"],
         "optimised": [],
         "fp32": ["train.amp=none"],                 # optimised without autocast: what bf16 adds
         "nhwc": ["train.channels_last=true"],       # optimised with NHWC convolutions (GPU; the CPU has them)
         "autotune": ["train.autotune=true"]}  # optimised with cudnn.benchmark


def training_data(recipe_name: str, kit: Path | None) -> str:
    return DATA[recipe_name] if kit is None else KIT_DATA[recipe_name].format(kit=kit.resolve())


def run(recipe_name: str, mode: str, device: str, steps: int, warmup: int, on_step=None, kit: Path | None = None,
        workers: int | None = None, scale: int = 1) -> dict:
    from recognize.core.config import load_recipe
    from recognize.core.train import train
    sets = [f"data.train={training_data(recipe_name, kit)}", "data.valid=[]", f"train.device={device}",
            "train.log_every=1", "train.checkpoint_every=0", "train.epochs=100"] + MODES[mode]
    sets += [f"train.workers={workers}"] if workers is not None else []
    recipe = load_recipe(ROOT / "recipes" / f"{recipe_name}.yaml", sets)
    recipe.train.batch_budget *= scale
    recipe.train.max_batch *= scale
    cache = ROOT / "data" / "cache"  # OCR lines are rendered there, also with a kit
    with tempfile.TemporaryDirectory() as tmp:
        train(recipe, Path(tmp), cache_dir=cache, max_steps=warmup + steps, on_step=on_step)
        records = [json.loads(line) for line in (Path(tmp) / "history.jsonl").read_text().splitlines()]
    records = [r for r in records if "time" in r]
    a, b = records[warmup - 1], records[-1]
    return {"samples_per_s": (b["seen"] - a["seen"]) / (b["time"] - a["time"]), "steps": b["step"] - a["step"],
            "amp": recipe.train.amp}


OP_KINDS = (("cudnnrnn", "RNN (cuDNN)"), ("cudnnctc", "CTC (cuDNN)"), ("ctcloss", "CTC (native)"),
            ("convolution", "convolution"), ("lstm", "RNN (not cuDNN)"), ("gru", "RNN (not cuDNN)"))


def op_kind(evt) -> str:
    """The kind of a GPU kernel, from the nearest enclosing op that names one (the profiler files each
    kernel under the op that launched it: aten::_cudnn_rnn, CudnnCtcLossBackward0, aten::convolution...)."""
    while evt is not None:
        name = evt.name.lower().replace("_", "")
        kind = next((k for key, k in OP_KINDS if key in name), None)
        if kind:
            return kind
        evt = evt.cpu_parent
    return "other"


def profile(recipe_name: str, device: str, **data) -> None:
    """Share of the wall time of 10 optimised steps spent in each kind of GPU kernel."""
    import time

    import torch
    from torch.profiler import ProfilerActivity
    prof = torch.profiler.profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
    window = {"start": 5, "stop": 15}

    def on_step(step: int) -> None:
        if step == window["start"]:
            torch.cuda.synchronize()
            prof.start()
            window["t0"] = time.perf_counter()
        elif step == window["stop"]:
            torch.cuda.synchronize()
            window["wall"] = time.perf_counter() - window["t0"]
            prof.stop()

    run(recipe_name, "optimised", device, 12, 5, on_step, **data)
    totals: dict[str, float] = {}
    names: dict[str, float] = {}
    for evt in prof.events():
        kernels = getattr(evt, "kernels", ())
        kind = op_kind(evt) if kernels else None
        for k in kernels:
            totals[kind] = totals.get(kind, 0.0) + k.duration
            names[k.name] = names.get(k.name, 0.0) + k.duration
    wall_us, busy = window["wall"] * 1e6, sum(totals.values())
    print(f"  {recipe_name}: 10 steps, {window['wall']:.3f} s wall, GPU kernels busy {100 * busy / wall_us:.1f} % "
          "of it; share of wall time by kernel kind: " +
          ", ".join(f"{k} {100 * v / wall_us:.1f} %" for k, v in sorted(totals.items(), key=lambda kv: -kv[1])))
    for name, t in sorted(names.items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {t / 1000:9.1f} ms  {name[:100]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipes", nargs="+", choices=RECIPES, default=list(RECIPES))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--kit", type=Path, help="Training data from benchmarks/gpu/pack.py's folder (.gpu).")
    ap.add_argument("--workers", type=int, help="Data-loading processes (default: the recipe's).")
    ap.add_argument("--scale-batch", type=int, default=1, help="Multiply batch_budget and max_batch by this.")
    ap.add_argument("--modes", nargs="+", choices=list(MODES), help="Default: all on a GPU, plain and optimised "
                    "on a CPU (the first is the ratios' base).")
    args = ap.parse_args()
    data = {"kit": args.kit, "workers": args.workers, "scale": args.scale_batch}
    import torch
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"{torch.get_num_threads()} threads"
    print(f"device {args.device} ({name}), torch {torch.__version__}, {args.steps} steps after {args.warmup}" +
          (f", batches {args.scale_batch}x the recipes'" if args.scale_batch != 1 else ""))
    modes = args.modes or (list(MODES) if args.device.startswith("cuda") else ["plain", "optimised"])
    # the GPU-only modes are the optimised path on a CPU (no autocast, NHWC already, no cuDNN)
    print(f"{'recipe':<18}" + "".join(f"{m + ' samples/s':>24}" for m in modes) + "   ratios to plain")
    for r in args.recipes:
        rates = [run(r, m, args.device, args.steps, args.warmup, **data)["samples_per_s"] for m in modes]
        print(f"{r:<18}" + "".join(f"{x:>24.1f}" for x in rates) + "   " +
              " ".join(f"{x / rates[0]:.2f}x" for x in rates[1:]), flush=True)
        if args.profile:
            profile(r, args.device, **data)


if __name__ == "__main__":
    main()
