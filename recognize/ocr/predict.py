"""Running an OCR model on line images: preprocessing, length-sorted batches, glyph positions."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..core.data import pad_batch
from ..core.decode import Hypothesis, greedy_decode
from ..core.modelfile import LoadedModel
from .image import check_size, normalize, read_gray
from .result import Glyph, LineResult

MIN_COLUMNS = 16


@dataclass
class Prepared:
    source: str
    tensor: torch.Tensor  # [1, H, W] float32, ink = 1
    width: int            # original pixel size
    height: int


def prepare(path: str | Path, height: int, name: str | None = None) -> Prepared:
    """Read and normalise one line image; raises ImageInputError with a one-line reason."""
    gray = read_gray(path)
    return prepare_array(gray, height, name or str(path))


def prepare_array(gray: np.ndarray, height: int, name: str) -> Prepared:
    check_size(gray, height)
    a = normalize(gray, height)
    if a.shape[1] < MIN_COLUMNS:
        a = np.pad(a, ((0, 0), (0, MIN_COLUMNS - a.shape[1])))
    return Prepared(name, torch.from_numpy(np.ascontiguousarray(a))[None], gray.shape[1], gray.shape[0])


def glyph_spans(hyp: Hypothesis) -> list[tuple[float, float]]:
    """Frame spans of the tokens widened over the blanks around them.

    CTC emits a token on one or two frames, usually inside the glyph; the blank frames between
    two tokens are split at their midpoint so that boxes tile the line without overlapping.
    """
    toks = hyp.tokens
    spans = []
    for k, t in enumerate(toks):
        left = (toks[k - 1].end + t.start) / 2 if k else max(0.0, t.start - 0.5)
        right = (t.end + toks[k + 1].start) / 2 if k + 1 < len(toks) else min(float(hyp.frames), t.end + 0.5)
        spans.append((left, right))
    return spans


def to_result(p: Prepared, hyp: Hypothesis, stride: int, model: dict, decoder: dict) -> LineResult:
    """Map CTC frame spans back to pixel columns of the original image."""
    scale = stride * p.width / p.tensor.shape[-1]
    glyphs = [Glyph(t.text, max(0, int(a * scale)), min(p.width, int(round(b * scale))), round(t.confidence, 4))
              for t, (a, b) in zip(hyp.tokens, glyph_spans(hyp))]
    return LineResult(p.source, p.width, p.height, hyp.text, round(hyp.confidence, 4), glyphs, model, decoder)


@torch.no_grad()
def recognize(model: LoadedModel, items: list[Prepared], batch_size: int = 16,
              budget: int = 48 * 40_000) -> list[LineResult]:
    """Recognise prepared lines in length-sorted batches; results come back in input order."""
    device = next(model.net.parameters()).device
    order = sorted(range(len(items)), key=lambda i: items[i].tensor.shape[-1])
    results: list[LineResult | None] = [None] * len(items)
    desc, decoder = model.describe(), {"name": "greedy"}
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < batch_size and \
                (end - start + 1) * items[order[end]].tensor.numel() <= budget:
            end += 1
        idx = order[start:end]
        x, lengths = pad_batch([items[i].tensor for i in idx])
        lp, out_lengths = model.net(x.to(device), lengths.to(device))
        for i, hyp in zip(idx, greedy_decode(lp, out_lengths, model.vocab)):
            results[i] = to_result(items[i], hyp, model.net.width_stride, desc, decoder)
        start = end
    return results  # type: ignore[return-value]
