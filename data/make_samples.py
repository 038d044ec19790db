"""Write the bundled OCR sample lines in data/samples/ocr (synthetic, rendered by our generator).

    .venv/bin/python data/make_samples.py

They are rendered from a seed no recipe trains on (2026), at their native resolution, so the
demo reads lines the shipped model has never seen.
"""
from __future__ import annotations

from pathlib import Path

from recognize.ocr.synth.generate import synth_image

OUT = Path(__file__).parent / "samples" / "ocr"
SEED, COUNT = 2026, 8


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for i in range(COUNT):
        img, text = synth_image(i, SEED)
        img.save(OUT / f"line{i:02d}.png", optimize=True)
        (OUT / f"line{i:02d}.gt.txt").write_text(text + "\n", encoding="utf-8")
        print(f"line{i:02d}.png\t{img.size[0]}x{img.size[1]}\t{text}")


if __name__ == "__main__":
    main()
