"""Greedy CTC decoding with per-token frame spans and confidences."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .vocab import Vocabulary

if TYPE_CHECKING:
    from torch import Tensor


@dataclass
class Token:
    """A decoded token: frames ``[start, end)`` of the CTC output where it was emitted."""

    id: int
    text: str
    start: int
    end: int
    confidence: float  # mean posterior of the token over its frames


@dataclass
class Hypothesis:
    text: str
    tokens: list[Token] = field(default_factory=list)
    frames: int = 0  # number of valid output frames
    score: float | None = None  # the decoder's total score (beam search), None for greedy
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # beam: (text, score), best first

    def nbest(self) -> list[dict]:
        """The n-best list for the JSON outputs (empty unless the decoder kept several)."""
        return [{"text": t, "score": s} for t, s in self.alternatives] if len(self.alternatives) > 1 else []

    @property
    def confidence(self) -> float:
        return float(np.mean([t.confidence for t in self.tokens])) if self.tokens else 1.0


def to_numpy(x: Tensor | np.ndarray) -> np.ndarray:
    """A torch tensor (any device; half and bfloat16 as float32) or array as a numpy array."""
    if not hasattr(x, "detach"):
        return np.asarray(x)
    x = x.detach().cpu()
    return (x.float() if x.is_floating_point() else x).numpy()


def greedy_decode(log_probs: Tensor | np.ndarray, lengths: Tensor | np.ndarray, vocab: Vocabulary
                  ) -> list[Hypothesis]:
    """Best-path decoding. log_probs: ``[N, T, V]`` (log-softmax), lengths: ``[N]`` valid frames;
    torch tensors or numpy arrays."""
    if hasattr(log_probs, "detach"):  # the arg-max on the model's device: only [N, T] comes back
        top, best = log_probs.detach().max(-1)
        probs, best = top.float().exp().cpu().numpy(), best.cpu().numpy()
    else:
        best = log_probs.argmax(-1)
        probs = np.exp(np.take_along_axis(log_probs, best[..., None], -1)[..., 0])
    return [collapse(best[i, :n], probs[i, :n], vocab) for i, n in enumerate(to_numpy(lengths).tolist())]


def run_starts(labels: np.ndarray) -> np.ndarray:
    """Where each run of one id begins in a (non-empty) frame labelling. Not ``np.r_``: its indexing
    machinery took a fifth of flashlight's decoding time."""
    change = np.empty(len(labels), bool)
    change[0] = True
    np.not_equal(labels[1:], labels[:-1], out=change[1:])
    return change.nonzero()[0]


def spelled(labels: np.ndarray) -> list[int]:
    """The token ids a frame labelling spells: runs of one id merged, blanks (0) dropped."""
    runs = labels[run_starts(labels)] if len(labels) else labels
    return runs[runs != 0].tolist()


def collapse(best: np.ndarray, probs: np.ndarray, vocab: Vocabulary) -> Hypothesis:
    """Tokens of a frame labelling (runs of one id merged, blanks dropped) with their frame spans and
    mean probability."""
    tokens: list[Token] = []
    n = len(best)
    if n:
        # boundaries of runs of equal ids
        starts = run_starts(best)
        ends = np.empty_like(starts)
        ends[:-1], ends[-1] = starts[1:], n
        means = np.add.reduceat(probs.astype(np.float64), starts) / (ends - starts)
        ids = best[starts]
        keep = ids != 0  # blank runs dropped before any Python object is made
        names = vocab.tokens
        tokens = [Token(i, names[i], s, e, m) for s, e, i, m in
                  zip(starts[keep].tolist(), ends[keep].tolist(), ids[keep].tolist(), means[keep].tolist())]
    return Hypothesis(vocab.join([t.text for t in tokens]), tokens, n)


@dataclass
class GreedyDecoder:
    """The best path: the most likely token at every frame, repeats merged, blanks dropped."""

    vocab: Vocabulary

    def __call__(self, log_probs: Tensor, lengths: Tensor) -> list[Hypothesis]:
        return greedy_decode(log_probs, lengths, self.vocab)

    def settings(self) -> dict:
        return {"name": "greedy"}

