"""Render a PAE incipit the way PrIMuS was rendered: Verovio (Leipzig, scale 100) -> SVG -> raster -> trimmed 1-bit.

One Verovio toolkit per process is created lazily and reused (creating one costs far more than rendering).
"""

from __future__ import annotations

import io
import random
import re

import numpy as np
import resvg_py
import verovio
from PIL import Image

VEROVIO_OPTIONS = {
    "inputFrom": "pae",
    "font": "Leipzig",
    "scale": 100,
    "pageWidth": 2100,
    "adjustPageHeight": True,
    # PrIMuS (Verovio 2.0, default breaks) justified incipits filling > 80 % of the line to the full 2002 px;
    # "auto" breaks on a fixed 2100 px page reproduce that, and longer incipits wrap (-> RenderError).
    "adjustPageWidth": False,
    "breaks": "auto",
    "header": "none",
    "footer": "none",
    "xmlIdSeed": 1,  # deterministic MEI ids
    # Thicker staff lines and stems than Verovio 6's defaults (0.15, 0.2): with the half-pixel shift below this
    # gives PrIMuS's 3 px staff lines and its ink density (measured on real PNGs against re-rendered PAE).
    "staffLineWidth": 0.3,
    "stemWidth": 0.25,
    # PrIMuS draws every multirest, 2 to 4 bars included, as a block with its count (its agnostic vocabulary has
    # multirest-L3 and no church-rest symbols); Verovio 6's "auto" draws 2-4 bars as breve/long rest symbols.
    "multiRestStyle": "block",
}
# PrIMuS's multirest block (Verovio 2.0) is 99 px wide, 4-px end caps included, whatever the count in an incipit
# left at its natural width (000051652-1_2_1: 23 bars, 000102582-1_1_2: 14), and stretched with the rest in a
# justified one (000102574-1_1_2: 150 px). Verovio 6 draws 106 px for 5 bars up to 178 px for 23 and hardly
# stretches it, so a justified incipit's block is drawn wider than 99 px only as far as Verovio's own reaches.
MULTIREST_WIDTH = 990  # SVG units (10 per pixel)
MULTIREST_CAP = 40  # right end-cap width (Verovio 6: 44, which rasterises to 5 px); the left cap keeps 44, as
# in every image the shipped model was trained on since multirests were redrawn
JUSTIFIED_STRETCH = (1.2, 1.7)  # drawn per incipit for a justified one: one real observation (1.52)
# Bump on any change to how an incipit is drawn: a cache of samples drawn otherwise is drawn again
# (generate.write_dataset). 1: Verovio's own multirests (caches without a stamp); 2: multirests as PrIMuS.
RENDERING = 2
PAGE_MARGIN = 50  # Verovio's default left and right page margins, in pixels
HALF_PIXEL = 5  # SVG units (10 per pixel at scale 100): centres staff lines on pixel rows
MARGIN = 1  # white pixels kept around the ink, as in the real PrIMuS PNGs
MAX_WIDTH = 2100  # PrIMuS images are at most 2002 px wide (the page width minus Verovio's margins)
INK_THRESHOLD = 128  # gray below this is ink when binarising

_DATE = re.compile(r"[ \t]*<date isodate=\"[^\"]*\" />\n?")

_toolkit: verovio.toolkit | None = None


class RenderError(ValueError):
    """Verovio rejected the PAE, or the incipit does not fit one PrIMuS-sized system."""


def toolkit() -> verovio.toolkit:
    """The process-wide Verovio toolkit, configured for PrIMuS-like output."""
    global _toolkit
    if _toolkit is None:
        verovio.enableLog(verovio.LOG_OFF)
        _toolkit = verovio.toolkit()
        _toolkit.setOptions(VEROVIO_OPTIONS)
    return _toolkit


def load(pae: str) -> verovio.toolkit:
    """Validate and load ``pae`` into the process toolkit; raise RenderError on any PAE error or warning."""
    tk = toolkit()
    problems = tk.validatePAE(pae)
    if problems:
        raise RenderError(f"invalid PAE: {problems}")
    tk.resetXmlIdSeed(VEROVIO_OPTIONS["xmlIdSeed"])
    if not tk.loadData(pae):
        raise RenderError("verovio could not load the PAE")
    return tk


def pae_to_mei(pae: str) -> str:
    """Verovio's MEI for ``pae`` (no rendering): the source of truth for labels."""
    return _mei(load(pae))


def _mei(tk: verovio.toolkit) -> str:
    """The loaded document as MEI, without the generation timestamp so that output is reproducible."""
    return _DATE.sub("", tk.getMEI(), count=1)


def rasterize(svg: str) -> np.ndarray:
    """SVG -> grayscale uint8 on a white background."""
    png = resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff", skip_system_fonts=True)
    return np.asarray(Image.open(io.BytesIO(bytes(png))).convert("L"))


def trim(gray: np.ndarray, margin: int = MARGIN, threshold: int = INK_THRESHOLD) -> np.ndarray:
    """Crop to the ink's bounding box plus ``margin`` white pixels on every side."""
    ink = gray < threshold
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise RenderError("nothing was drawn")
    crop = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return np.pad(crop, margin, constant_values=255)


def binarize(gray: np.ndarray, threshold: int = INK_THRESHOLD) -> np.ndarray:
    """1-bit image as uint8: ink 0, paper 255."""
    return np.where(gray < threshold, 0, 255).astype(np.uint8)


def _shift_half_pixel(svg: str) -> str:
    """Move the page content down by half a pixel so odd-width staff lines rasterise to whole pixel rows."""
    return re.sub(
        r'class="page-margin" transform="translate\((-?\d+), (-?\d+)\)"',
        lambda m: f'class="page-margin" transform="translate({m[1]}, {int(m[2]) + HALF_PIXEL})"',
        svg,
        count=1,
    )


def _is_justified(svg: str) -> bool:
    """Whether Verovio stretched the system to the full line: its staff lines (the furthest-reaching
    horizontal paths) end at the page's right margin, in SVG units (10 per pixel)."""
    right_end = max(int(end) for _, end in re.findall(r'<path d="M\d+ (\d+) L(\d+) \1"', svg))
    return right_end >= (VEROVIO_OPTIONS["pageWidth"] - 2 * PAGE_MARGIN) * 10 - 100


# a multirest's block, then its two end caps: the block's x and width are read; they, the caps' x and
# the right cap's width are rewritten (the unnamed groups are the text kept between them)
_MULTIREST = re.compile(
    r'(class="multiRest">\s*<rect x=")(?P<x>\d+)(" y="\d+" height="\d+" width=")(?P<width>\d+)'
    r'("[^>]*>\s*<rect x=")\d+("[^>]*>\s*<rect x=")\d+(" y="\d+" height="\d+" width=")\d+'
)


def _primus_multirests(svg: str, pae: str) -> str:
    """Redraw each multirest block at PrIMuS's width, on the same centre (its count stays centred above it)."""
    if 'class="multiRest"' not in svg:
        return svg
    stretch = random.Random(pae).uniform(*JUSTIFIED_STRETCH) if _is_justified(svg) else 1.0

    def redraw(m: re.Match) -> str:
        x, width = int(m["x"]), int(m["width"])
        new_width = min(width, round(MULTIREST_WIDTH * stretch))  # never wider: the bar itself does not move
        left = x + (width - new_width) // 2
        right_cap = left + new_width - MULTIREST_CAP
        return f"{m[1]}{left}{m[3]}{new_width}{m[5]}{left}{m[6]}{right_cap}{m[7]}{MULTIREST_CAP}"

    return _MULTIREST.sub(redraw, svg)


def _system_count(svg: str) -> int:
    return len(re.findall(r'class="system"', svg))


def render(pae: str, margin: int = MARGIN) -> tuple[np.ndarray, str]:
    """PrIMuS-like 1-bit image (uint8, 0 = ink, 255 = paper) of a PAE incipit, and Verovio's MEI for it."""
    tk = load(pae)
    svg = tk.renderToSVG(1)
    if tk.getPageCount() != 1 or _system_count(svg) != 1:
        raise RenderError("incipit does not fit one system")
    image = binarize(trim(rasterize(_shift_half_pixel(_primus_multirests(svg, pae))), margin))
    if image.shape[1] > MAX_WIDTH:
        raise RenderError(f"incipit too wide: {image.shape[1]} px > {MAX_WIDTH}")
    return image, _mei(tk)
