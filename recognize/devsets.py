"""Labelled data as log-probs for tuning and decoding benchmarks, whatever the task.

Each task reads its own layout (OCR: image + ``.gt.txt`` folders; speech: Speech Commands, FSDD or a
manifest; music: PrIMuS folders), runs the network once, and scores with its own metric (CER, WER,
SER).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .core.metrics import error_rates
from .core.runtime import LoadedModel

METRICS = {"ocr": "cer", "speech": "wer", "omr": "ser"}


@dataclass
class DevSet:
    name: str
    lps: list[np.ndarray]
    refs: list[str]
    metric: str                                    # cer | wer | ser
    normalize: object = field(default=None, repr=False)  # text normalisation applied before scoring (OCR)

    def error(self, refs: list[str], hyps: list[str]) -> float:
        f = self.normalize or (lambda s: s)
        return getattr(error_rates([f(r) for r in refs], [f(h) for h in hyps]), self.metric)


def dev_logits(model: LoadedModel, path: str | Path, batch_size: int = 16, *, normalize: str = "quotes",
               split: str = "all", seed: int = 0, image: str = "clean", limit: int | None = None) -> DevSet:
    """Log-probs and references of the labelled data at ``path`` (raises FileNotFoundError /
    ValueError when there is none)."""
    path = Path(path)
    if model.task == "ocr":
        from .core.lines import line_logits
        from .ocr.dataset import find_pairs
        from .ocr.predict import prepare
        from .ocr.textnorm import NORMALIZERS
        pairs = find_pairs(path)[:limit]
        items = [prepare(p, int(model.preprocess["height"])) for p, _ in pairs]
        return DevSet(str(path), line_logits(model, items, batch_size), [t for _, t in pairs], "cer",
                      NORMALIZERS[normalize])
    if model.task == "speech":
        from .speech.dataset import dataset_items
        from .speech.predict import clip_logits, prepare
        items = dataset_items(path, split, seed)[:limit]
        prepared = [prepare(it.key, model.preprocess) for it in items]
        return DevSet(f"{path} ({split})", clip_logits(model, prepared, batch_size), [it.text for it in items], "wer")
    from .core.lines import line_logits
    from .omr.dataset import find_samples
    from .omr.predict import prepare
    samples = find_samples(path, model.preprocess.get("encoding", "semantic"), image)[:limit]
    items = [prepare(s.image, int(model.preprocess["height"])) for s in samples]
    return DevSet(str(path), line_logits(model, items, batch_size, 64 * 40_000), [" ".join(s.tokens) for s in samples],
                  "ser")
