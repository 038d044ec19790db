"""Scan degradations for rendered lines (numpy + Pillow): blur, noise, binarisation, skew, ...

:func:`degrade` picks one of three looks per line — ``binary`` (blurred then globally
thresholded, like the UW-III scans), ``gray`` (grayscale scan with paper tone, noise, JPEG) and
``lowres`` (thermal/dot-matrix receipt, phone photo: low resolution, faded ink) — and applies a random
subset of the operations below, more and stronger ones as ``strength`` (0..1) grows.
"""
from __future__ import annotations

import io
import math
import random

import numpy as np
from PIL import Image, ImageFilter

LOOKS = ("binary", "gray", "lowres")
LOOK_P = (0.35, 0.45, 0.20)


def _as_generator(rng: np.random.Generator | random.Random) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng.getrandbits(64))


def _ink_box(a: np.ndarray, thresh: int = 160) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero((a < thresh).any(1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero((a < thresh).any(0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def skew(img: Image.Image, angle: float) -> Image.Image:
    """Rotate by ``angle`` degrees, then re-crop keeping the original margins around the ink."""
    a = np.asarray(img)
    box = _ink_box(a)
    if box is None or angle == 0:
        return img
    x0, y0, x1, y1 = box
    ml, mt, mr, mb = x0, y0, img.width - x1, img.height - y1
    rot = img.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    box = _ink_box(np.asarray(rot))
    if box is None:
        return img
    x0, y0, x1, y1 = box
    out = Image.new("L", (x1 - x0 + ml + mr, y1 - y0 + mt + mb), 255)
    out.paste(rot.crop((x0, y0, x1, y1)), (ml, mt))
    return out


def rescale(img: Image.Image, factor: float, rng: np.random.Generator) -> Image.Image:
    """Down-sample by ``factor`` and back up (lost resolution, blocky or soft edges)."""
    w, h = img.size
    small = img.resize((max(1, round(w * factor)), max(1, round(h * factor))), Image.Resampling.BOX)
    up = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC)
    return small.resize((w, h), up[int(rng.integers(3))])


def dot_matrix(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Thermal / dot-matrix print: a coarse pixel grid with gaps between the dots."""
    w, h = img.size
    box = _ink_box(np.asarray(img))
    if box is None:
        return img
    cell = round((box[3] - box[1]) / rng.uniform(10, 14))  # ~7-9 dots per capital letter
    if cell < 2:
        return img
    small = img.resize((max(1, w // cell), max(1, h // cell)), Image.Resampling.BOX)
    thresh = rng.uniform(170, 220)
    dots = np.asarray(small.point(lambda v: 0 if v < thresh else 255).resize(
        (small.width * cell, small.height * cell), Image.Resampling.NEAREST), dtype=np.float32)
    gap = np.zeros((cell, cell), np.float32)
    gap[-1, :] = gap[:, -1] = rng.uniform(60, 200)
    dots = np.minimum(255, dots + np.tile(gap, (small.height, small.width)))
    out = Image.fromarray(dots.astype(np.uint8), "L").filter(ImageFilter.GaussianBlur(cell / 6))
    return out.resize((w, h), Image.Resampling.BILINEAR)


def jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("L")


def _background(h: int, w: int, rng: np.random.Generator, paper: float, amount: float) -> np.ndarray:
    """Paper tone with an illumination gradient and low-frequency blotches."""
    bg = np.full((h, w), paper, np.float32)
    if rng.random() < 0.5:
        ramp = np.linspace(-1.0, 1.0, w, dtype=np.float32) * rng.uniform(-25, 25) * amount
        bg += ramp[None, :]
    if rng.random() < 0.4:
        gh, gw = max(2, h // 16), max(2, w // 16)
        blot = rng.normal(0, 8 * amount, (gh, gw)).astype(np.float32)
        bg += np.asarray(Image.fromarray(blot, "F").resize((w, h), Image.Resampling.BILINEAR))
    return bg


def _lines(a: np.ndarray, rng: np.random.Generator, ink: float) -> None:
    """Faint underline / ruling / border fragments, in place."""
    h, w = a.shape
    r = rng.random()
    val = rng.uniform(ink, 200)
    th = 1 + int(rng.random() < 0.3)
    if r < 0.5:  # underline or ruling, partial span
        y = int(rng.integers(max(0, h - 4), h)) if rng.random() < 0.6 else int(rng.integers(0, 3))
        x0 = int(rng.integers(0, max(1, w // 2)))
        x1 = int(rng.integers(min(w, x0 + w // 4), w + 1))
        a[y:y + th, x0:x1] = np.minimum(a[y:y + th, x0:x1], val)
    else:  # table/border rule at one edge
        x = int(rng.integers(0, 3)) if rng.random() < 0.5 else w - 1 - int(rng.integers(0, 3))
        y0 = int(rng.integers(0, max(1, h // 3)))
        a[y0:, x:x + th] = np.minimum(a[y0:, x:x + th], val)


def _neighbour(a: np.ndarray, rng: np.random.Generator) -> None:
    """Clipped strokes of the lines above/below (descenders at the top, ascenders at the bottom)."""
    h, w = a.shape
    box = _ink_box(a.astype(np.uint8))
    if box is None:
        return
    _, y0, _, y1 = box
    k = int(rng.integers(1, max(2, h // 6) + 1))
    shift = int(rng.integers(-w // 3, w // 3 + 1))
    if rng.random() < 0.5:  # bottom of a line above shows at our top edge
        frag = np.roll(a[y1 - k:y1], shift, axis=1)
        a[:k] = np.minimum(a[:k], frag)
    else:
        frag = np.roll(a[y0:y0 + k], shift, axis=1)
        a[h - k:] = np.minimum(a[h - k:], frag)


def _speckle(a: np.ndarray, rng: np.random.Generator, density: float, dark: float, light: float) -> None:
    n = int(a.size * density)
    if n:
        idx = rng.integers(0, a.size, n)
        flat = a.reshape(-1)
        half = n // 2
        flat[idx[:half]] = dark
        flat[idx[half:]] = light


def degrade(img: Image.Image, rng: np.random.Generator | random.Random, strength: float = 0.5,
            look: str | None = None) -> Image.Image:
    """Apply random scan degradations to a black-on-white line image (mode ``L`` in and out)."""
    g = _as_generator(rng)
    s = float(np.clip(strength, 0.0, 1.0))
    look = look or LOOKS[int(g.choice(3, p=LOOK_P))]
    img = img.convert("L")
    h0 = img.height

    if g.random() < 0.6 * s:  # skew, kept small on long lines (real line crops are straight)
        limit = min(1.5, max(0.3, math.degrees(math.atan(0.25 * img.height / max(1, img.width)))))
        img = skew(img, float(np.clip(g.normal(0, limit / 2), -limit, limit)))
    if h0 >= 24 and g.random() < 0.25 * s:  # ink bleed / erosion
        img = img.filter(ImageFilter.MinFilter(3) if g.random() < 0.65 or h0 < 40 else ImageFilter.MaxFilter(3))
    if look == "lowres" and g.random() < 0.3:
        img = dot_matrix(img, g)
    elif look == "lowres" or g.random() < 0.25 * s:
        lo = 0.35 if look == "lowres" else 0.5
        img = rescale(img, g.uniform(lo, 0.85), g)
    if g.random() < (0.85 if look == "binary" else 0.5 * s + 0.1):
        img = img.filter(ImageFilter.GaussianBlur(g.uniform(0.3, 0.6 + 0.9 * s) * h0 / 45))

    a = np.asarray(img, dtype=np.float32)
    if look == "binary":
        a = np.where(a < g.uniform(110, 220), 0.0, 255.0).astype(np.float32)  # high: heavy ink
        if g.random() < 0.5 * s:
            _speckle(a, g, g.uniform(0, 0.004) * s, 0.0, 255.0)
        ink = 0.0
    else:
        ink = g.uniform(0, 70) if look == "gray" else g.uniform(20, 130)
        paper = 255 - abs(g.normal(0, 12 + 25 * s))
        paper = max(paper, ink + 80)
        bg = _background(*a.shape, g, paper, s)
        a = ink + (bg - ink) * (a / 255.0)
        if g.random() < 0.7 * s + 0.1:
            a += g.normal(0, g.uniform(2, 6 + 12 * s), a.shape).astype(np.float32)
        if g.random() < 0.3 * s:
            _speckle(a, g, g.uniform(0, 0.003) * s, ink, paper)
    if g.random() < 0.12 * s + 0.02:
        _lines(a, g, ink)
    if g.random() < (0.3 if look == "lowres" else 0.08) * s:
        _neighbour(a, g)
    if look != "binary" and g.random() < 0.3 * s:  # contrast / brightness
        a = (a - 128) * g.uniform(0.7, 1.2) + 128 + g.uniform(-20, 20)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L")
    if look != "binary" and g.random() < 0.5 * s:
        img = jpeg(img, int(g.integers(20, 90)))
    return img
