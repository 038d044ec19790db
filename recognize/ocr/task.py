"""Printed text-line OCR as a task of the shared CTC core: its data sources and preprocessing."""
from __future__ import annotations

import logging
import random
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..core.config import DataSource
from ..core.data import Item
from ..core.image import jitter, normalize, read_gray
from ..tasks import Task
from .dataset import find_pairs, folder_items

log = logging.getLogger("recognize")


def preprocess_defaults() -> dict:
    return {"height": 48}


def base_tokens() -> list[str]:
    from .synth.text import CHARSET
    return list(CHARSET)


def synth_dir(source: DataSource, height: int, cache: Path) -> Path:
    return cache / "ocr-synth" / f"seed{source.seed}-h{height}"


def synth_items(source: DataSource, height: int, cache: Path) -> list[Item]:
    """Render ``count`` synthetic lines into the disk cache (once; resumable) and list them. A cache
    drawn by another version of the generator, Pillow or font set is drawn again (``core.stamp``)."""
    from ..core.stamp import match_stamp
    from .synth.generate import STAMP, drawing_stamp, write_dataset
    out = synth_dir(source, height, cache)
    match_stamp(out, drawing_stamp(), STAMP, ("*.png", "*.gt.txt", "index-*.tsv"), "ocr synth")
    index = out / f"index-{source.count}.tsv"
    if not index.is_file():
        log.info("rendering %d synthetic lines into %s", source.count, out)
        write_dataset(out, source.count, source.seed, height=height,
                      workers=int(source.options.get("workers", 2)))
        pairs = find_pairs(out)[: source.count]
        rows = [f"{p.name}\t{Image.open(p).size[0]}\t{t}" for p, t in pairs]
        tmp = index.with_suffix(".tmp")
        tmp.write_text("\n".join(rows) + "\n", encoding="utf-8")
        tmp.replace(index)
    items = []
    for line in index.read_text(encoding="utf-8").splitlines():
        name, width, text = line.split("\t", 2)
        items.append(Item(str(out / name), text, int(width)))
    return items


def items(source: DataSource, preprocess: dict, cache: Path) -> list[Item]:
    height = int(preprocess["height"])
    if source.kind == "folder":
        return folder_items(source.path, height, source.count)
    if source.kind == "synth":
        return synth_items(source, height, cache)
    raise ValueError(f"ocr data source kind must be folder or synth, not {source.kind!r}")


def load(key: str, preprocess: dict, rng: random.Random | None) -> torch.Tensor:
    a = normalize(read_gray(key), int(preprocess["height"]))
    if rng is not None:
        a = jitter(a, rng)
    return torch.from_numpy(np.ascontiguousarray(a))[None]


TASK = Task(name="ocr", preprocess_defaults=preprocess_defaults, items=items, load=load,
            base_tokens=base_tokens, tokenizer="chars", metric="cer")
