"""Length-sorted inference batches within a size budget, padded with numpy (no torch needed)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


def budget_batches(order: list[int], sizes: Sequence[int], batch_size: int, budget: int) -> Iterator[list[int]]:
    """Consecutive runs of ``order`` with at most ``batch_size`` items whose padded size
    (count x the largest ``sizes[i]`` of the run) stays within ``budget``."""
    start = 0
    while start < len(order):
        end, largest = start + 1, sizes[order[start]]
        while end < len(order) and end - start < batch_size and \
                (end - start + 1) * max(largest, sizes[order[end]]) <= budget:
            largest = max(largest, sizes[order[end]])
            end += 1
        yield order[start:end]
        start = end


def pad_arrays(xs: list[np.ndarray], value: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad ``[C, H, W_i]`` arrays to ``[N, C, H, max W]``; returns (batch, widths as int64)."""
    widths = np.array([x.shape[-1] for x in xs], dtype=np.int64)
    out = np.full((len(xs), *xs[0].shape[:-1], int(widths.max())), value, dtype=xs[0].dtype)
    for i, x in enumerate(xs):
        out[i, ..., : x.shape[-1]] = x
    return out, widths


def sorted_batches(arrays: list[np.ndarray], batch_size: int, budget: int, sort: bool = True
                   ) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """``(indices, padded batch, widths)`` over ``arrays`` sorted by width (or in input order, when
    ``sort`` is off), in batches of at most ``batch_size`` items and ``budget`` padded values."""
    order = sorted(range(len(arrays)), key=lambda i: arrays[i].shape[-1]) if sort else list(range(len(arrays)))
    for idx in budget_batches(order, [a.size for a in arrays], batch_size, budget):
        yield (idx, *pad_arrays([arrays[i] for i in idx]))
