"""Throughput of the synthetic line generator: lines/s of ``synth_line`` on 1 and N processes.

Usage: python benchmarks/synth_speed.py [--n 600] [--procs N] [--height 48]
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
    ap.add_argument("--height", type=int, default=48)
    args = ap.parse_args()

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


if __name__ == "__main__":
    main()
