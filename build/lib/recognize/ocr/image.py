"""Text-line images: the shared image reading plus the size limits of a line."""
from __future__ import annotations

import numpy as np

from ..core.image import IMAGE_SUFFIXES, ImageInputError, is_image, normalize, read_gray, to_gray
from ..core.image import check_size as _check_size

__all__ = ["IMAGE_SUFFIXES", "ImageInputError", "is_image", "normalize", "read_gray", "to_gray", "check_size"]

MIN_SIDE = 6          # pixels: below this an image cannot hold a readable line
MAX_COLUMNS = 16_000  # columns after scaling to the model height: longer lines must be split


def check_size(gray: np.ndarray, height: int) -> None:
    _check_size(gray, height, "text line", MIN_SIDE, MAX_COLUMNS, "split it into lines")
