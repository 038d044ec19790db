"""Text-line images: the shared image reading plus the size limits of a line."""
from __future__ import annotations

import numpy as np

from ..core.image import IMAGE_SUFFIXES, ImageInputError, is_image, normalize, read_gray, to_gray

__all__ = ["IMAGE_SUFFIXES", "ImageInputError", "is_image", "normalize", "read_gray", "to_gray", "check_size"]

MIN_SIDE = 6          # pixels: below this an image cannot hold a readable line
MAX_COLUMNS = 16_000  # columns after scaling to the model height: longer lines must be split


def check_size(gray: np.ndarray, height: int) -> None:
    h, w = gray.shape
    if h < MIN_SIDE or w < MIN_SIDE:
        raise ImageInputError(f"image too small for a text line ({w}x{h} pixels)")
    cols = round(w * height / h)
    if cols > MAX_COLUMNS:
        raise ImageInputError(f"line too long: {w}x{h} pixels is {cols} columns at height {height} "
                              f"(limit {MAX_COLUMNS}); split it into lines")


