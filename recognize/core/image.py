"""Reading images of any common format and mode, and normalising them for the network (OCR lines, staves)."""
from __future__ import annotations

import logging
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger("recognize")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".pbm", ".pgm", ".ppm", ".jp2")


class ImageInputError(Exception):
    """An input image that cannot be recognised, with a one-line reason."""


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def scaled_width(path: str | Path, height: int) -> int:
    """Width of the image at ``path`` once scaled to ``height`` rows (reads the header only)."""
    with Image.open(path) as im:
        w, h = im.size
    return max(1, round(w * height / max(h, 1)))


def check_size(gray: np.ndarray, height: int, what: str, min_side: int, max_columns: int, split_hint: str,
               plural: str = "") -> None:
    """Raise ImageInputError when ``gray`` is too small to hold a ``what``, holds several one above the
    other (a page, not a line: the network would read them as one and output garbage), or is too
    long once scaled."""
    h, w = gray.shape
    if h < min_side or w < min_side:
        raise ImageInputError(f"image too small for a {what} ({w}x{h} pixels)")
    bands = ink_bands(gray)
    if len(bands) > 1:
        rows = ", ".join(f"{a}-{b}" for a, b in bands[:4]) + (", ..." if len(bands) > 4 else "")
        raise ImageInputError(f"{len(bands)} {plural or what + 's'} one above the other (ink in rows {rows}); "
                              f"this reads one {what} per image: crop each into an image of its own")
    cols = round(w * height / h)
    if cols > max_columns:
        raise ImageInputError(f"{what} too long: {w}x{h} pixels is {cols} columns at height {height} "
                              f"(limit {max_columns}); {split_hint}")


INK = 0.3        # a pixel is ink when it is this far from the paper towards the darkest value
BAND_ROWS = 8    # bands of ink lower than this are never counted as lines (specks, rules, accents)
BAND_SHARE = 0.5  # ... nor those lower than this share of the tallest band
BAND_GAP = 0.1   # blank gaps lower than this share of the tallest run of ink are inside a line
BAND_GAP_ROWS = 3  # ... and gaps lower than this many rows (a faint stroke across the line)


def ink_bands(gray: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges ``[y0, y1)`` of the horizontal bands of ink of an image, separated by blank rows: one
    for a line image, one per line for a page.

    A row is inked when at least 1 % of its pixels (and 2) are ink; runs of inked rows closer than a
    tenth of the tallest run (or 3 rows) are one band (a faint stroke breaks a line into runs). Bands lower than
    half the tallest, or than 8 rows, are left out. ``benchmarks/several_lines.py`` measures it: no
    real line or staff image of ``../shared/data`` has more than one band.
    """
    lo, hi = int(gray.min()), int(gray.max())
    if hi - lo < 8:
        return []
    per_row = np.count_nonzero(gray < hi - INK * (hi - lo), axis=1)
    if 2 * int(per_row.sum()) > gray.size:  # light print on dark ground
        per_row = gray.shape[1] - per_row
    inked = per_row >= max(2, 0.01 * gray.shape[1])
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inked.astype(np.int8), [0]))))
    runs = list(zip(edges[::2].tolist(), edges[1::2].tolist()))
    if not runs:
        return []
    gap = max(BAND_GAP_ROWS, BAND_GAP * max(b - a for a, b in runs))
    bands = [runs[0]]
    for a, b in runs[1:]:
        bands[-1:] = [(bands[-1][0], b)] if a - bands[-1][1] < gap else [bands[-1], (a, b)]
    low = max(BAND_ROWS, BAND_SHARE * max(b - a for a, b in bands))
    return [(a, b) for a, b in bands if b - a >= low]


def read_gray(path: str | Path) -> np.ndarray:
    """Decode ``path`` to uint8 grayscale ``[H, W]`` (1-bit, palette, RGB(A), 16-bit, float, CMYK)."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise ImageInputError("empty file")
        with Image.open(path) as im:
            im.load()
            if getattr(im, "is_animated", False):  # a multi-page TIFF, an animated GIF/WebP/PNG
                log.warning("%s: %d pages (frames); only the first is read", path, im.n_frames)
            return to_gray(ImageOps.exif_transpose(im) or im)
    except ImageInputError:
        raise
    except UnidentifiedImageError:
        raise ImageInputError("not an image file (unknown format)") from None
    except Image.DecompressionBombError as e:  # Pillow refuses to decode it: no line is this large
        raise ImageInputError(f"image too large to decode: {e}".split(", could be")[0]) from None
    except (OSError, SyntaxError, ValueError) as e:  # truncated or damaged data, permissions
        reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise ImageInputError(f"cannot decode image: {reason}") from None


def to_gray(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        scale = 65535.0 if im.mode.startswith("I;16") or hi > 255 else 255.0
        return np.clip(a / scale * 255.0 + 0.5, 0, 255).astype(np.uint8) if hi > lo else np.full(a.shape, 255, np.uint8)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        paper = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(paper, im)
    return np.asarray(im.convert("L"), dtype=np.uint8)


def normalize(gray: np.ndarray, height: int) -> np.ndarray:
    """Scale to ``height`` rows (aspect kept) and map to float32 with ink = 1, paper = 0.

    Contrast is stretched between the darkest and lightest values; a line printed light on dark
    is inverted so that the network always sees dark-on-light ink as positive values.
    """
    h, w = gray.shape
    cols = max(1, round(w * height / h))
    im = Image.fromarray(gray)
    if (cols, height) != (w, h):
        im = im.resize((cols, height), Image.Resampling.BILINEAR, reducing_gap=2.0 if h > 2 * height else None)
    a = np.asarray(im, dtype=np.float32)
    lo, hi = float(a.min()), float(a.max())
    if hi - lo < 8:
        return np.zeros_like(a)
    a = (hi - a) / (hi - lo)
    if np.median(a) > 0.5:  # light print on dark ground
        a = 1.0 - a
    return a


def jitter(a: np.ndarray, rng: random.Random) -> np.ndarray:
    """Light training jitter of a normalised line (ink = 1): width scaling, side padding, noise, fading."""
    h, w = a.shape
    if rng.random() < 0.5:
        cols = max(4, round(w * rng.uniform(0.88, 1.12)))
        a = np.array(Image.fromarray(a).resize((cols, h), Image.Resampling.BILINEAR))
    left, right = rng.randint(0, 8), rng.randint(0, 8)
    if left or right:
        a = np.pad(a, ((0, 0), (left, right)))
    if rng.random() < 0.3:
        nrng = np.random.default_rng(rng.getrandbits(32))
        a = np.clip(a + nrng.normal(0, rng.uniform(0.02, 0.08), a.shape).astype(np.float32), 0, 1)
    if rng.random() < 0.3:
        a = np.clip(a * rng.uniform(0.7, 1.0), 0, 1)
    return a.astype(np.float32, copy=False)
