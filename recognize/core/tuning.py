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

Batch = tuple[list[int], np.ndarray, np.ndarray]  # (indices into the input, [B, T, V] log-probs, lengths)


def stored_batches(lps: list[np.ndarray], batch_size: int = 32) -> list[Batch]:
    """``[T, V]`` log-prob matrices grouped into length-sorted, padded batches, as a network gives them."""
    order = sorted(range(len(lps)), key=lambda i: lps[i].shape[0])
    out = []
    for k in range(0, len(order), batch_size):
        idx = order[k:k + batch_size]
        lengths = np.array([lps[i].shape[0] for i in idx], dtype=np.int64)
        x = np.zeros((len(idx), int(lengths.max()), lps[idx[0]].shape[1]), np.float32)
        for j, i in enumerate(idx):
            x[j, : lps[i].shape[0]] = lps[i]
        out.append((idx, x, lengths))
    return out


def decode_batches(decoder: Decoder, batches: list[Batch]) -> list[Hypothesis]:
    """Hypotheses of every batch's rows, ordered as the input the batches were made from."""
    out: dict[int, Hypothesis] = {}
    for idx, x, lengths in batches:
        out.update(zip(idx, decoder(x, lengths)))
    return [out[i] for i in sorted(out)]


@dataclass
class Score:
    error: float      # the task's error rate (0..1)
    seconds: float    # decoding time (search + alignment): neither the network nor batching nor the metric
    items: int

    @property
    def per_second(self) -> float:
        return self.items / max(self.seconds, 1e-9)


Metric = Callable[[list[str], list[str]], float]  # (refs, hyps) -> error rate


def score(decoder: Decoder, batches: list[Batch], refs: list[str], metric: Metric) -> tuple[Score, list[str]]:
    """Error rate and decoding time of ``decoder`` on stored log-probs, batched once by ``stored_batches``
    for all the decoders tried: only the decoder's calls are timed, not the batching nor the metric."""
    t0 = time.perf_counter()
    hyps = [h.text for h in decode_batches(decoder, batches)]
    seconds = time.perf_counter() - t0
    return Score(metric(refs, hyps), seconds, len(hyps)), hyps


def grid_search(spec: DecoderSpec, vocab: Vocabulary, lps: list[np.ndarray], refs: list[str], metric: Metric,
                alphas: list[float], betas: list[float], device: str = "cpu",
                progress: Callable[[DecoderSpec, Score], None] | None = None) -> tuple[DecoderSpec, list[dict]]:
    """The (alpha, beta) of ``spec`` with the lowest error on the dev set (ties: the smaller alpha,
    then beta), and every point tried."""
    tried, best, batches = [], None, stored_batches(lps)
    for a in alphas:
        for b in betas:
            s = spec.merged(alpha=a, beta=b)
            result, _ = score(make_decoder(s, vocab, device), batches, refs, metric)
            tried.append({"alpha": a, "beta": b, "error": round(result.error, 6)})
            if progress:
                progress(s, result)
            if best is None or result.error < best[1] - 1e-12:
                best = (s, result.error)
    return best[0], tried
