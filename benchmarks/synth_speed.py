"""Is the synthetic line generator fast enough to feed training? Both measured in one run.

Prints lines/s of ``synth_line`` on 1 and N processes, then the samples/s one training step of
the recipe's model consumes on the same lines (CPU, same threads), and their ratio.

Usage: python benchmarks/synth_speed.py [--n 600] [--procs N] [--recipe recipes/ocr_en.yaml]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

from recognize.ocr.synth.fonts import discover_fonts
from recognize.ocr.synth.generate import synth_line
from recognize.ocr.synth.text import load_corpus


def _work(args: tuple[int, int, int]) -> int:
    start, stop, height = args
    width = 0
    for i in range(start, stop):
        width += synth_line(i, 1234, height)[0].shape[1]
    return width


def _warm(_: object = None) -> None:
    discover_fonts()
    load_corpus()
    synth_line(0, 0, 48)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=600, help="lines per measurement")
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--height", type=int, default=0, help="line height (default: the recipe's)")
    ap.add_argument("--recipe", default="recipes/ocr_en.yaml")
    ap.add_argument("--steps", type=int, default=8, help="training steps to time")
    args = ap.parse_args()
    from recognize.core.config import load_recipe
    recipe = load_recipe(args.recipe)
    args.height = args.height or int(recipe.data.preprocess.get("height", 48))

    _warm()
    t = time.perf_counter()
    width = _work((0, args.n, args.height))
    dt = time.perf_counter() - t
    one = args.n / dt
    print(f"1 process : {one:7.1f} lines/s  ({1000 * dt / args.n:.2f} ms/line, "
          f"mean width {width / args.n:.0f} px at height {args.height})")

    p = args.procs
    n = args.n * p
    chunk = max(1, n // (8 * p))
    jobs = [(s, min(n, s + chunk), args.height) for s in range(0, n, chunk)]
    with mp.get_context().Pool(p, initializer=_warm, initargs=(None,)) as pool:
        t = time.perf_counter()
        pool.map(_work, jobs)
        dt = time.perf_counter() - t
    print(f"{p} processes: {n / dt:7.1f} lines/s  ({n / dt / p:.1f} per process, "
          f"speed-up {n / dt / one:.2f}x)")
    train = training_rate(recipe, args.height, args.steps)
    print(f"training  : {train:7.1f} samples/s  ({args.recipe}, CPU, {os.cpu_count()} threads)")
    print(f"ratio     : one generator process makes {one / train:.1f}x the lines training consumes")


def training_rate(recipe, height: int, steps: int) -> float:
    """Samples/s of forward + CTC + backward + AdamW on generated lines, batched as in training."""
    import numpy as np
    import torch

    from recognize.core.ctc import ctc_loss
    from recognize.core.data import BucketBatchSampler, pad_batch
    from recognize.core.model import CTCModel
    from recognize.core.vocab import Vocabulary
    from recognize.ocr.image import normalize
    from recognize.ocr.synth.text import CHARSET
    lines = [synth_line(i, 4321, height) for i in range(600)]
    vocab = Vocabulary.from_texts([CHARSET])
    xs = [torch.from_numpy(normalize(a, height))[None] for a, _ in lines]
    budget = recipe.train.batch_budget // height
    batches = BucketBatchSampler([x.shape[-1] for x in xs], budget, recipe.train.max_batch, seed=1).batches()
    net = CTCModel(recipe.model, len(vocab)).train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    done, secs = 0, 0.0
    for k, b in enumerate(batches[: steps + 1]):
        x, lengths = pad_batch([xs[i] for i in b])
        ids = [vocab.encode(lines[i][1]) for i in b]
        t = time.perf_counter()
        lp, out = net(x, lengths)
        loss, _ = ctc_loss(lp, torch.tensor(np.concatenate(ids), dtype=torch.int32), out,
                           torch.tensor([len(i) for i in ids], dtype=torch.int32))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if k:  # the first step warms up the kernels
            secs += time.perf_counter() - t
            done += len(b)
    return done / secs


if __name__ == "__main__":
    main()
