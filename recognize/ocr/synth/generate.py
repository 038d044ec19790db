"""Deterministic synthetic line samples and a resumable on-disk dataset of them.

``synth_line(index, seed, height)`` is a pure function of ``(seed, index)``: training can resume
exactly and every DataLoader worker produces the same sample for the same index.
``write_dataset`` stores samples as ``name.png`` + ``name.gt.txt`` pairs (the tesstrain/kraken
convention) and skips pairs that already exist, so it doubles as a resumable disk cache.
"""
from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import random
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
from PIL import Image

from .degrade import degrade
from .fonts import FontPicker, discover_fonts
from .render import render_line
from .text import sample_text

DRAWING = 1  # raise it with any change to the text, rendering or degradation that changes the samples
STAMP = "drawing.json"


def drawing_stamp() -> dict:
    """What a sample's pixels depend on besides ``(seed, index)``: this drawing, Pillow, the fonts."""
    fonts = discover_fonts()
    names = hashlib.sha1("\n".join(Path(f.path).name for f in fonts).encode()).hexdigest()[:16]
    return {"drawing": DRAWING, "pillow": version("pillow"), "fonts": f"{len(fonts)} {names}"}


@lru_cache(maxsize=1)
def _picker() -> FontPicker:
    return FontPicker(discover_fonts())


def _rngs(seed: int, index: int) -> tuple[random.Random, np.random.Generator]:
    m = 0xFFFFFFFF
    ss = np.random.SeedSequence([seed & m, (seed >> 32) & m, index & m, (index >> 32) & m])
    a, b = ss.generate_state(2, np.uint64)
    return random.Random(int(a)), np.random.default_rng(int(b))


def resize_to_height(img: Image.Image, height: int) -> Image.Image:
    """Scale to ``height`` pixels keeping the aspect ratio (fast antialiased resampling)."""
    if img.height == height:
        return img
    width = max(1, round(img.width * height / img.height))
    if height < img.height:
        return img.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return img.resize((width, height), Image.Resampling.BILINEAR)


def synth_image(index: int, seed: int) -> tuple[Image.Image, str]:
    """The degraded line image at its rendering resolution, and its text."""
    rng, g = _rngs(seed, index)
    picker = _picker()
    for _ in range(50):
        text = sample_text(rng)
        font = picker.pick(text, rng, prefer_mono=text.isupper() and rng.random() < 0.35)
        if font is not None:
            break
    else:  # pragma: no cover - every font covers ASCII, so this needs a pathological charset
        raise RuntimeError("no font covers the sampled texts")
    img = render_line(text, font, rng)
    strength = 0.0 if rng.random() < 0.08 else float(g.beta(2.0, 2.5))
    return degrade(img, g, strength), text


def synth_line(index: int, seed: int, height: int | None = 48) -> tuple[np.ndarray, str]:
    """Sample ``index`` of stream ``seed``: a uint8 grayscale image (dark ink on light paper),
    resized to ``height`` pixels with its aspect ratio kept (``None``: native size), and its text."""
    img, text = synth_image(index, seed)
    if height:
        img = resize_to_height(img, height)
    return np.asarray(img, dtype=np.uint8), text


def _name(index: int) -> str:
    return f"{index:08d}"


def _write_one(args: tuple[str, int, int, int | None]) -> bool:
    out_dir, index, seed, height = args
    png = os.path.join(out_dir, _name(index) + ".png")
    gt = os.path.join(out_dir, _name(index) + ".gt.txt")
    if os.path.exists(png) and os.path.exists(gt):
        return False
    arr, text = synth_line(index, seed, height)
    tmp = f"{png}.{os.getpid()}.tmp"
    Image.fromarray(arr, "L").save(tmp, "PNG", compress_level=1)
    os.replace(tmp, png)
    tmp = f"{gt}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    os.replace(tmp, gt)
    return True


def write_dataset(out_dir: str | os.PathLike, n: int, seed: int, height: int | None = None,
                  workers: int = 2, start: int = 0) -> int:
    """Write samples ``start .. start+n-1`` as ``%08d.png`` + ``%08d.gt.txt`` into ``out_dir``.

    Existing pairs are kept (the output is deterministic, so an interrupted run simply resumes).
    Returns the number of pairs written by this call.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(str(out), i, seed, height) for i in range(start, start + n)]
    if workers <= 1 or n < 8:
        return sum(map(_write_one, jobs))
    discover_fonts()  # fill the on-disk font cache once, before the workers start
    with mp.get_context().Pool(workers) as pool:
        return sum(pool.imap_unordered(_write_one, jobs, chunksize=max(1, min(64, n // (4 * workers)))))
