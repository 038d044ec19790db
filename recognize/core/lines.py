"""Running a model on single-line images (text lines, staves): preparation, batching, pixel spans.

Every image task reads one line per image: the image is scaled to the model height, batched with
others of similar width, decoded, and each token's CTC frame span is mapped back to pixel
columns of the original image.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .batching import sorted_batches
from .decode import Hypothesis, greedy_decode
from .decoders import Decoder
from .image import normalize
from .runtime import LoadedModel

MIN_COLUMNS = 16


@dataclass
class PreparedImage:
    source: str
    pixels: np.ndarray    # [1, H, W] float32, ink = 1
    width: int            # original pixel size
    height: int


def prepare_array(gray: np.ndarray, height: int, name: str) -> PreparedImage:
    """Scale a uint8 grayscale image to ``height`` rows for the network (ink = 1)."""
    a = normalize(gray, height)
    if a.shape[1] < MIN_COLUMNS:
        a = np.pad(a, ((0, 0), (0, MIN_COLUMNS - a.shape[1])))
    return PreparedImage(name, np.ascontiguousarray(a, np.float32)[None], gray.shape[1], gray.shape[0])


def token_spans(hyp: Hypothesis) -> list[tuple[float, float]]:
    """Frame spans of the tokens widened over the blanks around them.

    CTC emits a token on one or two frames, usually inside its glyph or symbol; the blank frames
    between two tokens are split at their midpoint so that the boxes tile the line without overlap.
    """
    toks = hyp.tokens
    spans = []
    for k, t in enumerate(toks):
        left = (toks[k - 1].end + t.start) / 2 if k else max(0.0, t.start - 0.5)
        right = (t.end + toks[k + 1].start) / 2 if k + 1 < len(toks) else min(float(hyp.frames), t.end + 0.5)
        spans.append((left, right))
    return spans


def pixel_spans(p: PreparedImage, hyp: Hypothesis, stride: int) -> list[tuple[int, int]]:
    """Token spans as ``[x0, x1)`` columns of the original image."""
    scale = stride * p.width / p.pixels.shape[-1]
    return [(max(0, int(a * scale)), min(p.width, int(round(b * scale)))) for a, b in token_spans(hyp)]


def run_lines(model: LoadedModel, items: list[PreparedImage], batch_size: int = 16,
              budget: int = 48 * 40_000, decode: Decoder | None = None) -> list[Hypothesis]:
    """Decode prepared images in width-sorted batches of at most ``budget`` padded pixels;
    hypotheses come back in input order. ``decode(log_probs, lengths)`` defaults to greedy."""
    decode = decode or (lambda lp, n: greedy_decode(lp, n, model.vocab))
    hyps: list[Hypothesis | None] = [None] * len(items)
    for idx, x, lengths in sorted_batches([p.pixels for p in items], batch_size, budget):
        for i, hyp in zip(idx, decode(*model.run(x, lengths))):
            hyps[i] = hyp
    return hyps  # type: ignore[return-value]


def line_logits(model: LoadedModel, items: list[PreparedImage], batch_size: int = 16,
                budget: int = 48 * 40_000) -> list[np.ndarray]:
    """The CTC log-probs ``[T, V]`` of each prepared image, in input order."""
    return model.log_probs([p.pixels for p in items], batch_size, budget)
