"""A sample as the data readers list it (no torch: listing data is also done by the runtime-only tools)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Item:
    """One training/evaluation sample before loading: where it is, its transcript, its input width."""

    key: str      # a path, or a synthetic id
    text: str
    length: int   # input width (pixels or frames) after preprocessing, for bucketing and CTC checks


def dataset_dir(root: str | Path) -> Path:
    """``root`` as a dataset folder; FileNotFoundError saying why when it is not one."""
    root = Path(root)
    if root.is_file():
        raise FileNotFoundError(f"{root}: a file, not a dataset folder")
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such dataset directory")
    return root
