"""How well ``recognize ocr`` and ``recognize omr`` tell one line (or staff) from several in one image.

    .venv/bin/python benchmarks/several_lines.py [--data ../shared/data] [--gap 0]

For each real set: how many of its single-line images are wrongly refused as holding several
(``core.image.ink_bands`` finds more than one band of ink), and how many "pages" made by stacking
4 of its lines, ``--gap`` blank rows apart (beyond the crops' own margins), are rightly refused.
Also 3,000 generated OCR lines (seed 7, at 48 rows and at native size) and the generated music
benchmark set when it is in data/cache.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognize.core.image import IMAGE_SUFFIXES, ink_bands, read_gray  # noqa: E402


def images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def stacked(group: list[np.ndarray], gap: int) -> np.ndarray:
    """The images one above the other, left-aligned on white, ``gap`` blank rows apart."""
    width = max(g.shape[1] for g in group)
    rows = []
    for k, g in enumerate(group):
        if k:
            rows.append(np.full((gap, width), 255, np.uint8))
        rows.append(np.pad(g, ((0, 0), (0, width - g.shape[1])), constant_values=255))
    return np.vstack(rows)


def report(name: str, grays: list[np.ndarray], gap: int) -> None:
    refused = sum(len(ink_bands(g)) > 1 for g in grays)
    pages = [stacked(grays[i:i + 4], gap) for i in range(0, len(grays) - 3, 4)]
    found = [len(ink_bands(p)) for p in pages]
    print(f"{name:<34}{len(grays):>7}{refused:>9}{len(pages):>8}{sum(f > 1 for f in found):>9}"
          f"{sum(f == 4 for f in found):>9}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--gap", type=int, default=0)
    args = ap.parse_args()
    print(f"{'set':<34}{'images':>7}{'refused':>9}{'pages':>8}{'refused':>9}{'4 lines':>9}")
    for name in ("ocr/uw3-dev", "ocr/sroie-receipts", "ocr/earlyprint", "primus"):
        if (args.data / name).is_dir():
            report(name, [read_gray(p) for p in images(args.data / name)], args.gap)
    from recognize.ocr.synth.generate import synth_line
    report("generated OCR lines (seed 7)", [synth_line(i, 7, h)[0] for i in range(1500) for h in (48, None)],
           args.gap)
    music = ROOT / "data" / "cache" / "omr-bench" / "seed20261128"
    if music.is_dir():
        report("generated music (benchmark set)", [read_gray(p) for p in images(music)], args.gap)


if __name__ == "__main__":
    main()
