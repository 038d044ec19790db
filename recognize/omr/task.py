"""Monophonic score incipits as a task of the shared CTC core: data sources and preprocessing.

Sources: ``{kind: primus, path: DIR, options: {image: clean|distorted|both}}`` for PrIMuS /
Camera-PrIMuS folders, and ``{kind: synth, count: N, seed: S, options: {distorted: bool, multirest: P,
chromatic: F}}`` for incipits generated and rendered with Verovio into the disk cache (``multirest`` and
``chromatic`` raise the share of rare symbols: see ``synth.pae.Emphasis``). ``data.preprocess.encoding``
(semantic or agnostic) picks the label files; ``data.augment_options.camera`` is the probability of
a camera-like distortion applied on the fly to a clean training image.
"""
from __future__ import annotations

import logging
import random
from pathlib import Path

import numpy as np
import torch

from ..core.config import DataConfig, DataSource
from ..core.data import Item
from ..core.image import jitter, normalize, read_gray
from ..tasks import Task
from .dataset import ENCODINGS, image_names, primus_items, read_tokens

log = logging.getLogger("recognize")
AUGMENT_DEFAULTS = {"camera": 0.0}
_AUGMENT = dict(AUGMENT_DEFAULTS)  # the recipe's data.augment_options, set by prepare_training


def preprocess_defaults() -> dict:
    return {"height": 64, "encoding": "semantic"}


def base_tokens() -> list[str]:
    return []  # the vocabulary is the set of tokens of the training labels


def _encoding(preprocess: dict) -> str:
    enc = preprocess["encoding"]
    if enc not in ENCODINGS:
        raise ValueError(f"data.preprocess.encoding must be one of {', '.join(ENCODINGS)}, not {enc!r}")
    return enc


def synth_items(source: DataSource, height: int, encoding: str, cache: Path) -> list[Item]:
    """Generate ``count`` incipits into the disk cache (once; resumable) and list them."""
    from .synth.generate import write_dataset
    from .synth.pae import Emphasis
    distorted = bool(source.options.get("distorted", False))
    emphasis = Emphasis.from_options(source.options)
    out = cache / "omr-synth" / f"seed{source.seed}{'-distorted' if distorted else ''}{emphasis.suffix()}"
    write_dataset(out, source.count, source.seed, workers=int(source.options.get("workers", 2)),
                  distorted=distorted, emphasis=emphasis)
    image = source.options.get("image", "both" if distorted else "clean")
    items = []
    for line in (out / f"index-{source.count}.tsv").read_text(encoding="utf-8").splitlines():
        sid, width, h, semantic = line.split("\t", 3)
        folder = out / sid
        tokens = semantic.split() if encoding == "semantic" else read_tokens(folder / f"{sid}.agnostic")
        text, cols = " ".join(tokens), max(1, round(int(width) * height / max(int(h), 1)))
        items.extend(Item(str(folder / name), text, cols) for name in image_names(sid, image))
    return items


def items(source: DataSource, preprocess: dict, cache: Path) -> list[Item]:
    height, encoding = int(preprocess["height"]), _encoding(preprocess)
    if source.kind == "primus":
        return primus_items(source.path, height, encoding, source.options.get("image", "clean"), source.count)
    if source.kind == "synth":
        return synth_items(source, height, encoding, cache)
    raise ValueError(f"omr data source kind must be primus or synth, not {source.kind!r}")


def prepare_training(data: DataConfig, preprocess: dict) -> None:
    _encoding(preprocess)
    unknown = sorted(set(data.augment_options) - set(AUGMENT_DEFAULTS))
    if unknown:
        raise ValueError(f"data.augment_options: unknown key {unknown[0]!r} (known: {', '.join(AUGMENT_DEFAULTS)})")
    _AUGMENT.update({**AUGMENT_DEFAULTS, **data.augment_options})


def load(key: str, preprocess: dict, rng: random.Random | None) -> torch.Tensor:
    gray = read_gray(key)
    if rng is not None:
        if _AUGMENT["camera"] and rng.random() < float(_AUGMENT["camera"]):
            from .synth.distort import camera_distort
            gray = camera_distort(gray, rng)
        # PrIMuS crops 1 px around the ink; users' crops are looser
        top, bottom = (rng.randint(0, gray.shape[0] // 8) for _ in range(2))
        gray = np.pad(gray, ((top, bottom), (0, 0)), constant_values=int(gray.max()))
    a = normalize(gray, int(preprocess["height"]))
    if rng is not None:
        a = jitter(a, rng)
    return torch.from_numpy(np.ascontiguousarray(a))[None]


TASK = Task(name="omr", preprocess_defaults=preprocess_defaults, items=items, load=load,
            base_tokens=base_tokens, tokenizer="whitespace", metric="ser", prepare_training=prepare_training)
