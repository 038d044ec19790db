"""Render a PAE incipit the way PrIMuS was rendered: Verovio (Leipzig, scale 100) -> SVG -> raster -> trimmed 1-bit.

One Verovio toolkit per process is created lazily and reused (creating one costs far more than rendering).
"""

from __future__ import annotations

import io
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
}
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


def _system_count(svg: str) -> int:
    return len(re.findall(r'class="system"', svg))


def render(pae: str, margin: int = MARGIN) -> tuple[np.ndarray, str]:
    """PrIMuS-like 1-bit image (uint8, 0 = ink, 255 = paper) of a PAE incipit, and Verovio's MEI for it."""
    tk = load(pae)
    svg = tk.renderToSVG(1)
    if tk.getPageCount() != 1 or _system_count(svg) != 1:
        raise RenderError("incipit does not fit one system")
    image = binarize(trim(rasterize(_shift_half_pixel(svg)), margin))
    if image.shape[1] > MAX_WIDTH:
        raise RenderError(f"incipit too wide: {image.shape[1]} px > {MAX_WIDTH}")
    return image, _mei(tk)
