"""A sample as the data readers list it (no torch: listing data is also done by the runtime-only tools)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Item:
    """One training/evaluation sample before loading: where it is, its transcript, its input width."""

    key: str      # a path, or a synthetic id
    text: str
    length: int   # input width (pixels or frames) after preprocessing, for bucketing and CTC checks
