"""Samples, length-bucketed batches and padding shared by every task."""
from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from .batching import pad_arrays
from .items import Item
from .vocab import Vocabulary

log = logging.getLogger("recognize")


def ctc_min_frames(ids: Sequence[int]) -> int:
    """Frames CTC needs for a label: its length plus a blank between each repeated pair."""
    return len(ids) + sum(1 for a, b in zip(ids, ids[1:]) if a == b)


def feasible(items: list[Item], vocab: Vocabulary, output_length: Callable[[int], int],
             what: str = "training") -> list[Item]:
    """Drop samples whose output would be too short for their label (the loss would be infinite)."""
    kept, dropped = [], []
    for it in items:
        (kept if output_length(it.length) >= max(1, ctc_min_frames(vocab.encode(it.text))) else dropped).append(it)
    if dropped:
        log.warning("%d %s sample(s) too short for their label after downsampling were dropped, e.g. %s",
                    len(dropped), what, dropped[0].key)
    return kept


def report_unknown(items: list[Item], vocab: Vocabulary, what: str) -> dict[str, int]:
    """Count transcript tokens missing from the vocabulary and log them (they are not trainable)."""
    counts: dict[str, int] = {}
    for it in items:
        for tok in vocab.missing(it.text):
            counts[tok] = counts.get(tok, 0) + 1
    if counts:
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:10]
        log.warning("%s data has %d occurrence(s) of %d token(s) not in the vocabulary: %s",
                    what, sum(counts.values()), len(counts), ", ".join(f"{t!r}×{n}" for t, n in top))
    return counts


class ItemDataset(Dataset):
    """Loads items with a task's ``load(key, rng) -> Tensor [C, H, W]`` and encodes transcripts.

    The augmentation RNG of sample ``i`` in epoch ``e`` is derived from ``(seed, e, i)`` so results
    do not depend on worker count and a resumed run sees the same samples.
    """

    def __init__(self, items: list[Item], vocab: Vocabulary, load: Callable[[str, random.Random | None], Tensor],
                 augment: bool = False, seed: int = 0):
        self.items, self.vocab, self.load, self.augment, self.seed = items, vocab, load, augment, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[Tensor, list[int], int] | None:
        """The sample, or None when it cannot be loaded (reported, then left out of its batch)."""
        it = self.items[i]
        rng = random.Random((self.seed * 1_000_003 + self.epoch) * 10_000_019 + i) if self.augment else None
        try:
            x = self.load(it.key, rng)
        except Exception as e:  # a damaged file must not end a long training run
            log.warning("%s: skipped, cannot be loaded: %s", it.key, e)
            return None
        return x, self.vocab.encode(it.text), i


def pad_batch(xs: list[Tensor], value: float = 0.0) -> tuple[Tensor, Tensor]:
    """Right-pad ``[C, H, W_i]`` tensors to ``[N, C, H, max W]``; returns (batch, widths)."""
    x, widths = pad_arrays([t.numpy() for t in xs], value)
    return torch.from_numpy(x), torch.from_numpy(widths)


def collate(batch: list[tuple[Tensor, list[int], int] | None], pad_to: int = 1) -> dict | None:
    """Pad a batch (its width rounded up to a multiple of ``pad_to``, so that a GPU sees few distinct
    shapes); samples that failed to load (None) are dropped, an empty batch gives None."""
    batch = [b for b in batch if b is not None]
    if not batch:
        return None
    xs, ids, idx = zip(*batch)
    x, widths = pad_batch(list(xs))
    if pad_to > 1 and x.shape[-1] % pad_to:
        x = torch.nn.functional.pad(x, (0, pad_to - x.shape[-1] % pad_to))
    targets = torch.tensor([t for seq in ids for t in seq], dtype=torch.int32)
    target_lengths = torch.tensor([len(s) for s in ids], dtype=torch.int32)
    return {"x": x, "lengths": widths, "targets": targets, "target_lengths": target_lengths,
            "index": torch.tensor(idx)}


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of similar length whose padded size stays within a budget of input units.

    Samples are sorted by length with a little per-epoch noise, cut into batches with
    ``batch_size * longest <= budget`` (and at most ``max_batch``), and the batch order is
    shuffled. Deterministic in ``(seed, epoch)``; ``skip`` drops the first batches of the epoch
    (used to resume mid-epoch). With ``num_replicas > 1`` each rank takes every n-th batch.
    """

    def __init__(self, lengths: Sequence[int], budget: int, max_batch: int = 64, shuffle: bool = True,
                 seed: int = 0, num_replicas: int = 1, rank: int = 0, bucketing: bool = True, even: bool = True):
        self.lengths = list(lengths)
        self.budget, self.max_batch, self.shuffle, self.seed = budget, max_batch, shuffle, seed
        self.bucketing = bucketing  # False: random batches of max_batch, no budget (the plain baseline)
        self.even = even  # equal batch counts on every process (training); validation counts each sample once
        self.num_replicas, self.rank = num_replicas, rank
        self.epoch, self.skip = 0, 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def batches(self) -> list[list[int]]:
        rng = random.Random(self.seed * 7919 + self.epoch)
        if self.shuffle:
            keys = [(n * (1 + 0.1 * rng.random()), i) for i, n in enumerate(self.lengths)]
        else:
            keys = [(n, i) for i, n in enumerate(self.lengths)]
        order = [i for _, i in sorted(keys)]
        if not self.bucketing and self.shuffle:
            rng.shuffle(order)
        budget = self.budget if self.bucketing else float("inf")
        batches, cur, longest = [], [], 0
        for i in order:
            n = max(1, self.lengths[i])
            if cur and (max(longest, n) * (len(cur) + 1) > budget or len(cur) >= self.max_batch):
                batches.append(cur)
                cur, longest = [], 0
            cur.append(i)
            longest = max(longest, n)
        if cur:
            batches.append(cur)
        if self.shuffle:
            rng.shuffle(batches)
        if self.num_replicas > 1:
            if self.even:  # every process needs as many steps (DDP's all-reduce): repeat a few batches
                per = math.ceil(len(batches) / self.num_replicas)
                batches = (batches * 2)[: per * self.num_replicas]
            batches = batches[self.rank:: self.num_replicas]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        yield from self.batches()[self.skip:]

    def __len__(self) -> int:
        return max(0, len(self.batches()) - self.skip)
