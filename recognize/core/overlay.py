"""Pictures of what a model read: the input with each recognised unit's span drawn on it, coloured by
confidence (red 0 -> yellow 0.5 -> green 1), and its label in a strip underneath.

Every task draws the same way from the spans the shared decoding gives (pixel columns of a line or
staff image, or seconds on a spectrogram); only the background and the labels differ.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
MIN_HEIGHT = 96      # small line images are scaled up to at least this many rows for readability
MAX_WIDTH = 6000     # wider pictures are scaled down


@dataclass
class Span:
    """A recognised unit: columns ``[x0, x1)`` of the background, its label and its confidence."""

    x0: float
    x1: float
    label: str
    confidence: float


def confidence_color(c: float) -> tuple[int, int, int]:
    """Red at 0, yellow at 0.5, green at 1."""
    c = min(1.0, max(0.0, c))
    return (220, int(440 * c), 40) if c < 0.5 else (int(440 * (1 - c)), 190, 40)


def font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONT), size)
    except OSError:
        return ImageFont.load_default()


def _label_image(text: str, size: int, color) -> Image.Image:
    f = font(size)
    left, top, right, bottom = f.getbbox(text or " ")
    im = Image.new("RGBA", (max(1, right - left + 2), max(1, bottom - top + 2)), (0, 0, 0, 0))
    ImageDraw.Draw(im).text((1 - left, 1 - top), text, font=f, fill=color)
    return im


def draw(background: Image.Image, spans: list[Span], scale: float = 1.0, vertical_labels: bool = False,
         title: str = "") -> Image.Image:
    """``background`` (any mode) with the spans (in its own column units, multiplied by ``scale``)
    shaded over its full height, outlined, and labelled in a strip below."""
    bg = background.convert("RGB")
    if bg.height < MIN_HEIGHT:  # thin text lines: enlarge so that the labels and boxes can be read
        k = MIN_HEIGHT / bg.height
        bg, scale = bg.resize((round(bg.width * k), MIN_HEIGHT), Image.Resampling.LANCZOS), scale * k
    if bg.width > MAX_WIDTH:
        k = MAX_WIDTH / bg.width
        bg, scale = bg.resize((MAX_WIDTH, max(1, round(bg.height * k))), Image.Resampling.LANCZOS), scale * k
    size = 14
    labels = [_label_image(s.label, size, (20, 20, 20)) for s in spans]
    if vertical_labels:
        labels = [im.rotate(90, expand=True) for im in labels]
    strip = max([im.height for im in labels] + [size + 4]) + 8
    head = size + 8 if title else 0
    out = Image.new("RGB", (bg.width, head + bg.height + strip), "white")
    out.paste(bg, (0, head))
    shade = Image.new("RGBA", out.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(shade)
    for s in spans:
        x0, x1 = round(s.x0 * scale), max(round(s.x0 * scale) + 1, round(s.x1 * scale) - 1)
        r, g, b = confidence_color(s.confidence)
        d.rectangle([x0, head, x1, head + bg.height - 1], fill=(r, g, b, 60), outline=(r, g, b, 255), width=1)
        d.line([x0, head + bg.height, x1, head + bg.height], fill=(r, g, b, 255), width=4)
    out = Image.alpha_composite(out.convert("RGBA"), shade)
    for s, im in zip(spans, labels):
        cx = (s.x0 + s.x1) / 2 * scale
        out.alpha_composite(im, (int(min(max(0, cx - im.width / 2), max(0, out.width - im.width))),
                                 head + bg.height + 6))
    if title:
        ImageDraw.Draw(out).text((4, 3), title, font=font(size), fill=(20, 20, 20))
    return out.convert("RGB")


def image_png(source: str | Path, spans: list[Span], title: str, vertical_labels: bool = False) -> bytes:
    """The PNG of a line or staff image file with ``spans`` (pixel columns of the file) drawn on it."""
    from .image import read_gray
    return png(draw(Image.fromarray(read_gray(source)), spans, vertical_labels=vertical_labels, title=title))


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# a perceptually ordered ramp (dark blue -> purple -> orange -> light yellow) for spectrograms
_RAMP = np.array([[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]], np.float32)


def heatmap(values: np.ndarray) -> Image.Image:
    """A 2-D array as an RGB image (row 0 at the bottom, as a spectrogram's low frequencies),
    scaled between its 1st and 99th percentiles."""
    lo, hi = np.percentile(values, [1, 99]) if values.size else (0.0, 1.0)
    t = np.clip((values - lo) / max(hi - lo, 1e-9), 0, 1) * (len(_RAMP) - 1)
    i = np.minimum(t.astype(int), len(_RAMP) - 2)
    frac = (t - i)[..., None]
    rgb = _RAMP[i] * (1 - frac) + _RAMP[i + 1] * frac
    return Image.fromarray(np.ascontiguousarray(rgb[::-1].astype(np.uint8)), "RGB")
