"""Line datasets on disk: folders of ``name.png`` + ``name.gt.txt`` (tesstrain/kraken/Calamari)."""
from __future__ import annotations

import logging
from pathlib import Path

from ..core.image import scaled_width
from ..core.items import Item, dataset_dir
from .image import is_image

log = logging.getLogger("recognize")
GT_SUFFIX = ".gt.txt"


def ground_truth_path(image: Path) -> Path:
    """``dir/name.png`` -> ``dir/name.gt.txt``."""
    return image.parent / (image.name[: -len(image.suffix)] + GT_SUFFIX)


def find_pairs(root: str | Path) -> list[tuple[Path, str]]:
    """All (image, transcript) pairs under ``root``, sorted; images without ground truth are counted."""
    root = dataset_dir(root)
    pairs, missing = [], 0
    for img in sorted(p for p in root.rglob("*") if p.is_file() and is_image(p)):
        gt = ground_truth_path(img)
        if gt.is_file():
            pairs.append((img, gt.read_text(encoding="utf-8").rstrip("\r\n")))
        else:
            missing += 1
    if missing:
        log.warning("%s: %d image(s) without a %s file were skipped", root, missing, GT_SUFFIX)
    if not pairs:
        raise FileNotFoundError(f"{root}: no image with a {GT_SUFFIX} transcript found")
    return pairs


def folder_items(root: str | Path, height: int, limit: int = 0) -> list[Item]:
    pairs = find_pairs(root)
    if limit:
        pairs = pairs[:limit]
    return [Item(str(p), text, scaled_width(p, height)) for p, text in pairs]
