"""Token sequences of random incipits, without images: the text a music token LM is built from.

    python -m recognize.omr.synth.corpus OUT.txt --count 50000 --seed 7 [--encoding agnostic]

Each line is one incipit's tokens, labelled from Verovio's MEI exactly as the image generator labels
them (same draws for the same seed and index), so the LM learns the generator's distribution.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
from functools import partial
from pathlib import Path

from .generate import MAX_ATTEMPTS, sample_rng
from .mei import LabelError, mei_to_agnostic, mei_to_semantic
from .pae import random_incipit
from .render import RenderError, pae_to_mei


def incipit_tokens(seed: int, index: int, encoding: str = "semantic") -> list[str]:
    label = mei_to_semantic if encoding == "semantic" else mei_to_agnostic
    for attempt in range(MAX_ATTEMPTS):
        try:
            return label(pae_to_mei(random_incipit(sample_rng(seed, index, attempt))))
        except (RenderError, LabelError):
            continue
    return []


def write_corpus(out: Path, count: int, seed: int, encoding: str = "semantic", workers: int = 2) -> int:
    """Write ``count`` token lines to ``out``; returns the number written."""
    job = partial(incipit_tokens, seed, encoding=encoding)
    written = 0
    with out.open("w", encoding="utf-8") as f, mp.get_context("spawn").Pool(workers) as pool:
        for tokens in pool.imap(job, range(count), chunksize=64):
            if tokens:
                f.write(" ".join(tokens) + "\n")
                written += 1
    return written


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--count", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--encoding", choices=("semantic", "agnostic"), default="semantic")
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    n = write_corpus(a.out, a.count, a.seed, a.encoding, a.workers)
    print(f"{a.out}: {n} incipits", file=sys.stderr)


if __name__ == "__main__":
    main()
