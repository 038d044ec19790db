"""Rendering of one text line with a real font: black ink on white, cropped like a segmented line."""
from __future__ import annotations

import random
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .fonts import FontInfo


@lru_cache(maxsize=1024)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A Pillow font object (cached per process)."""
    return ImageFont.truetype(path, size)


def sample_size(rng: random.Random) -> int:
    """Em size in pixels: mostly book print at ~300 dpi, some low-resolution and large print."""
    r = rng.random()
    if r < 0.6:
        return rng.randint(30, 52)
    if r < 0.85:
        return rng.randint(16, 30)
    return rng.randint(52, 72)


def _pad(rng: random.Random, em: int, loose: float) -> int:
    """Margin around the ink: often ~3 px at 300 dpi (UW-III), sometimes up to ``loose`` em."""
    r = rng.random()
    if r < 0.5:
        frac = rng.uniform(0.03, 0.12)
    elif r < 0.85:
        frac = rng.uniform(0.0, 0.25)
    else:
        frac = rng.uniform(0.25, loose)
    return round(frac * em)


def _positions(text: str, font: ImageFont.FreeTypeFont, rng: random.Random, em: int
               ) -> list[tuple[float, str]] | None:
    """Per-word or per-character x offsets for spaced layouts; ``None`` for plain rendering."""
    r = rng.random()
    if r < 0.7 or " " not in text and r < 0.85:
        return None
    space = font.getlength(" ")
    if r < 0.85:  # justified text: stretched (or squeezed) word spacing
        factor = rng.uniform(0.75, 2.2)
        out, x = [], 0.0
        for word in text.split(" "):
            out.append((x, word))
            x += font.getlength(word) + space * factor
        return out
    tracking = em * rng.uniform(-0.02, 0.12)  # letter-spaced text, small per-glyph jitter
    jitter = em * rng.uniform(0.0, 0.025)
    out, x = [], 0.0
    for ch in text:
        out.append((x, ch))
        x += font.getlength(ch) + tracking + rng.uniform(-jitter, jitter)
    return out


def render_line(text: str, font: FontInfo, rng: random.Random, size: int | None = None) -> Image.Image:
    """Render ``text`` (mode ``L``, black on white), tightly cropped with realistic margins.

    The font size is random unless ``size`` (em in pixels) is given; word/letter spacing is
    sometimes stretched; the vertical crop is either tight to the ink or follows the font's
    ascent/descent, never clipping any ink.
    """
    em = size or sample_size(rng)
    pil = load_font(font.path, em)
    ascent, descent = pil.getmetrics()
    stroke = 1 if em >= 26 and rng.random() < 0.05 else 0
    layout = _positions(text, pil, rng, em)
    width = (layout[-1][0] + pil.getlength(layout[-1][1])) if layout else pil.getlength(text)
    margin = em
    canvas = Image.new("L", (int(width) + 2 * margin, ascent + descent + 2 * margin), 0)
    draw = ImageDraw.Draw(canvas)
    base = margin + ascent
    for x, piece in layout or [(0.0, text)]:
        draw.text((margin + x, base), piece, font=pil, fill=255, anchor="ls", stroke_width=stroke,
                  stroke_fill=255)
    box = canvas.getbbox()
    if box is None:  # nothing visible: a blank strip of line height
        return Image.new("L", (max(1, int(width)), ascent + descent), 255)
    x0, y0, x1, y1 = box
    if rng.random() < 0.6:
        top, bottom = y0 - _pad(rng, em, 0.4), y1 + _pad(rng, em, 0.4)
    else:  # line box from font metrics (as segmenters with fixed line height do)
        top = min(y0 - _pad(rng, em, 0.2) // 2, base - round(ascent * rng.uniform(0.75, 1.0)))
        bottom = max(y1 + _pad(rng, em, 0.2) // 2, base + round(descent * rng.uniform(0.5, 1.0)))
    left, right = x0 - _pad(rng, em, 0.8), x1 + _pad(rng, em, 0.8)
    img = ImageOps.invert(canvas.crop((left, top, right, bottom)))
    if rng.random() < 0.2:  # condensed / expanded setting
        w = max(1, round(img.width * rng.uniform(0.85, 1.15)))
        img = img.resize((w, img.height), Image.Resampling.BILINEAR)
    return img
