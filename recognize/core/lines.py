"""Running a model on single-line images (text lines, staves): preparation, batching, pixel spans.

Every image task reads one line per image: the image is scaled to the model height, batched with
others of similar width, decoded, and each token's CTC frame span is mapped back to pixel
columns of the original image.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import budget_batches, pad_batch
from .decode import Hypothesis, greedy_decode
from .decoders import Decoder
from .image import normalize
from .modelfile import LoadedModel

MIN_COLUMNS = 16


@dataclass
class PreparedImage:
    source: str
    tensor: torch.Tensor  # [1, H, W] float32, ink = 1
    width: int            # original pixel size
    height: int


def prepare_array(gray: np.ndarray, height: int, name: str) -> PreparedImage:
    """Scale a uint8 grayscale image to ``height`` rows for the network (ink = 1)."""
    a = normalize(gray, height)
    if a.shape[1] < MIN_COLUMNS:
        a = np.pad(a, ((0, 0), (0, MIN_COLUMNS - a.shape[1])))
    return PreparedImage(name, torch.from_numpy(np.ascontiguousarray(a))[None], gray.shape[1], gray.shape[0])


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
    scale = stride * p.width / p.tensor.shape[-1]
    return [(max(0, int(a * scale)), min(p.width, int(round(b * scale)))) for a, b in token_spans(hyp)]


@torch.no_grad()
def run_lines(model: LoadedModel, items: list[PreparedImage], batch_size: int = 16,
              budget: int = 48 * 40_000, decode: Decoder | None = None) -> list[Hypothesis]:
    """Decode prepared images in width-sorted batches of at most ``budget`` padded pixels;
    hypotheses come back in input order. ``decode(log_probs, lengths)`` defaults to greedy."""
    decode = decode or (lambda lp, n: greedy_decode(lp, n, model.vocab))
    device = next(model.net.parameters()).device
    order = sorted(range(len(items)), key=lambda i: items[i].tensor.shape[-1])
    hyps: list[Hypothesis | None] = [None] * len(items)
    for idx in budget_batches(order, [p.tensor.numel() for p in items], batch_size, budget):
        x, lengths = pad_batch([items[i].tensor for i in idx])
        lp, out_lengths = model.net(x.to(device), lengths.to(device))
        for i, hyp in zip(idx, decode(lp, out_lengths)):
            hyps[i] = hyp
    return hyps  # type: ignore[return-value]


def line_logits(model: LoadedModel, items: list[PreparedImage], batch_size: int = 16,
                budget: int = 48 * 40_000) -> list[torch.Tensor]:
    """The CTC log-probs ``[T, V]`` of each prepared image, in input order (for tuning and benchmarks:
    decode them many ways without running the network again)."""
    recorded: dict[int, torch.Tensor] = {}

    def record(lp: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        hyps = [Hypothesis("", [], int(n)) for n in lengths.tolist()]
        for i, (h, n) in enumerate(zip(hyps, lengths.tolist())):
            recorded[id(h)] = lp[i, :n].detach().float().cpu().clone()
        return hyps

    return [recorded[id(h)] for h in run_lines(model, items, batch_size, budget, record)]
