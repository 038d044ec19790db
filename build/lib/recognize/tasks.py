"""The tasks (ocr, and later speech and music) as seen by the shared core and the CLI."""
from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from .core.config import DataConfig, DataSource
from .core.data import Item


@dataclass(frozen=True)
class Task:
    """What a task gives the core: how to list, load and preprocess its samples."""

    name: str
    preprocess_defaults: Callable[[], dict]                       # e.g. {"height": 48}
    items: Callable[[DataSource, dict, Path], list[Item]]          # (source, preprocess, cache dir)
    load: Callable[[str, dict, random.Random | None], Tensor]      # key -> [C, H, W]; rng = augment
    base_tokens: Callable[[], list[str]]                           # tokens every model of the task knows
    tokenizer: str = "chars"
    metric: str = "cer"                                            # validation metric to minimise
    # called once before training with the recipe's data config (e.g. to load noise for augmentation)
    prepare_training: Callable[[DataConfig, dict], None] | None = None


_MODULES = {"ocr": "recognize.ocr.task", "speech": "recognize.speech.task", "omr": "recognize.omr.task"}


def get_task(name: str) -> Task:
    if name not in _MODULES:
        raise ValueError(f"unknown task {name!r} (known: {', '.join(sorted(_MODULES))})")
    return importlib.import_module(_MODULES[name]).TASK
