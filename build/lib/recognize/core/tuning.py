"""Decoding stored log-probs many ways: scoring a decoder on a dev set and the alpha/beta grid search
behind ``recognize tune``. The network runs once; only the search is repeated."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .decode import Hypothesis
from .decoders import Decoder, DecoderSpec, make_decoder
from .vocab import Vocabulary


def decode_stored(decoder: Decoder, lps: list[np.ndarray], batch_size: int = 32) -> list[Hypothesis]:
    """Decode ``[T, V]`` log-prob matrices in length-sorted batches; hypotheses in input order."""
    order = sorted(range(len(lps)), key=lambda i: lps[i].shape[0])
    out: list[Hypothesis | None] = [None] * len(lps)
    for k in range(0, len(order), batch_size):
        idx = order[k:k + batch_size]
        lengths = np.array([lps[i].shape[0] for i in idx], dtype=np.int64)
        x = np.zeros((len(idx), int(lengths.max()), lps[idx[0]].shape[1]), np.float32)
        for j, i in enumerate(idx):
            x[j, : lps[i].shape[0]] = lps[i]
        for i, h in zip(idx, decoder(x, lengths)):
            out[i] = h
    return out  # type: ignore[return-value]


@dataclass
class Score:
    error: float      # the task's error rate (0..1)
    seconds: float    # decoding time (search + alignment), network excluded
    items: int

    @property
    def per_second(self) -> float:
        return self.items / max(self.seconds, 1e-9)


Metric = Callable[[list[str], list[str]], float]  # (refs, hyps) -> error rate


def score(decoder: Decoder, lps: list[np.ndarray], refs: list[str], metric: Metric) -> tuple[Score, list[str]]:
    t0 = time.perf_counter()
    hyps = [h.text for h in decode_stored(decoder, lps)]
    return Score(metric(refs, hyps), time.perf_counter() - t0, len(lps)), hyps


def grid_search(spec: DecoderSpec, vocab: Vocabulary, lps: list[np.ndarray], refs: list[str], metric: Metric,
                alphas: list[float], betas: list[float], device: str = "cpu",
                progress: Callable[[DecoderSpec, Score], None] | None = None) -> tuple[DecoderSpec, list[dict]]:
    """The (alpha, beta) of ``spec`` with the lowest error on the dev set (ties: the smaller alpha,
    then beta), and every point tried."""
    tried, best = [], None
    for a in alphas:
        for b in betas:
            s = spec.merged(alpha=a, beta=b)
            result, _ = score(make_decoder(s, vocab, device), lps, refs, metric)
            tried.append({"alpha": a, "beta": b, "error": round(result.error, 6)})
            if progress:
                progress(s, result)
            if best is None or result.error < best[1] - 1e-12:
                best = (s, result.error)
    return best[0], tried
