"""PrIMuS and Camera-PrIMuS folders: ``<id>/<id>.png`` (and ``<id>_distorted.jpg``) with
``<id>.semantic`` and ``<id>.agnostic`` token files (tab-separated)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..core.image import scaled_width
from ..core.items import Item, dataset_dir

log = logging.getLogger("recognize")
ENCODINGS = ("semantic", "agnostic")
IMAGES = ("clean", "distorted", "both")


@dataclass
class Sample:
    id: str
    image: Path
    tokens: list[str]


def read_tokens(path: Path) -> list[str]:
    """Tokens of a ``.semantic`` / ``.agnostic`` file (tabs or any whitespace, trailing tab allowed)."""
    return path.read_text(encoding="utf-8").split()


def image_names(sid: str, image: str) -> list[str]:
    """File names of incipit ``sid``'s images of kind ``image`` (clean, distorted or both)."""
    if image not in IMAGES:
        raise ValueError(f"unknown image kind {image!r} (choose from {', '.join(IMAGES)})")
    return {"clean": [f"{sid}.png"], "distorted": [f"{sid}_distorted.jpg"],
            "both": [f"{sid}.png", f"{sid}_distorted.jpg"]}[image]


def find_samples(root: str | Path, encoding: str = "semantic", image: str = "clean") -> list[Sample]:
    """Every incipit under ``root`` (searched recursively) that has the image(s) and the label file.

    ``image`` picks ``<id>.png`` (clean), ``<id>_distorted.jpg`` (distorted, Camera-PrIMuS) or both
    (two samples per incipit). Incipits without the chosen image or label are counted and reported.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r} (choose from {', '.join(ENCODINGS)})")
    if image not in IMAGES:
        raise ValueError(f"unknown image kind {image!r} (choose from {', '.join(IMAGES)})")
    root = dataset_dir(root)
    samples, missing = [], 0
    for label in sorted(root.rglob(f"*.{encoding}")):
        sid = label.stem
        wanted = image_names(sid, image)
        paths = [label.parent / name for name in wanted if (label.parent / name).is_file()]
        if len(paths) < len(wanted):
            missing += 1
        if paths:
            tokens = read_tokens(label)
            samples.extend(Sample(sid, p, tokens) for p in paths)
    if missing:
        log.warning("%s: %d incipit(s) lack a %s image", root, missing, image)
    if not samples:
        raise FileNotFoundError(f"{root}: no incipit with an image and a .{encoding} file found")
    return samples



def primus_items(root: str | Path, height: int, encoding: str = "semantic", image: str = "clean",
                 limit: int = 0) -> list[Item]:
    samples = find_samples(root, encoding, image)
    if limit:
        samples = samples[:limit]
    return [Item(str(s.image), " ".join(s.tokens), scaled_width(s.image, height)) for s in samples]
