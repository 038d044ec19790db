"""Token spans for a decoded sequence: Viterbi forced alignment of the ids to the CTC posteriors.

Beam decoders return a token (or word) sequence; aligning it with torchaudio's ``forced_align`` gives
every token the same frame span and confidence fields that greedy decoding gives, whatever the
backend. When torch is not loaded (ONNX models, the runtime-only install) the same Viterbi alignment
runs in numpy instead: importing torch for it would take longer than a whole file's recognition.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import numpy as np

from .decode import Hypothesis, Token, collapse, spelled, to_numpy
from .vocab import Vocabulary

if TYPE_CHECKING:
    from torch import Tensor


def best_path(lp: Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The most likely label of every frame of ``lp`` ``[T, V]`` (on the CPU), its log-prob, and the ids
    it spells. In numpy: a torch operation this small mostly waits for torch's threads."""
    a = to_numpy(lp)
    path = a.argmax(-1)
    return path, a[np.arange(len(path)), path], spelled(path)


def forced_path(lp: Tensor | np.ndarray, ids: list[int], best: tuple | None = None
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """Viterbi alignment of ``ids`` to ``lp`` ``[T, V]`` (float32 log-probs on the CPU, blank 0): the label
    of every frame and its log-prob, or None when the frames cannot hold the sequence.

    When the best path (``best``, from :func:`best_path`) spells ``ids``, it is the alignment: no path
    scores higher. Beam search mostly agrees with it, so the search is mostly skipped.
    """
    path, scores, spelled = best if best is not None else best_path(lp)
    if spelled == ids:
        return path, scores
    repeats = sum(a == b for a, b in zip(ids, ids[1:]))
    if lp.shape[0] < len(ids) + repeats:
        return None
    if not ids:
        return np.zeros(lp.shape[0], np.int64), to_numpy(lp)[:, 0]
    F = _torchaudio_functional()
    if F is None:
        return viterbi(np.ascontiguousarray(to_numpy(lp), dtype=np.float32), ids)
    torch = sys.modules["torch"]
    path, scores = F.forced_align(torch.as_tensor(lp)[None], torch.tensor([ids], dtype=torch.int32), blank=0)
    return path[0].numpy(), scores[0].numpy()


def _torchaudio_functional():
    """``torchaudio.functional`` when torch is loaded already (a torch model) and torchaudio is installed,
    else None: an ONNX model must not import torch (2 s, 400 MB) for an alignment."""
    if "torch" not in sys.modules:
        return None
    try:
        import torchaudio.functional as F
    except ImportError:
        return None
    return F


def viterbi(lp: np.ndarray, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The CTC Viterbi alignment of ``ids`` (non-empty, no blanks) to ``lp`` ``[T, V]`` (blank 0), as
    torchaudio's ``forced_align`` computes it: every frame's label and log-prob. In numpy, for installs
    without torch; the frames must be able to hold the sequence (see :func:`forced_path`)."""
    labels = np.zeros(2 * len(ids) + 1, np.int64)
    labels[1::2] = ids
    n, t = len(labels), lp.shape[0]
    # a state may come from itself, from the one before, or skip a blank between two different tokens
    skip = np.zeros(n, bool)
    skip[3::2] = labels[3::2] != labels[1:-2:2]
    emit = lp[:, labels]  # [T, S]
    score = np.full(n, -np.inf)
    score[:2] = emit[0, :2]
    back = np.zeros((t, n), np.int8)  # 0: stayed, 1: came from s-1, 2: from s-2
    states = np.arange(n)
    for f in range(1, t):
        stay, step = score, np.concatenate(([-np.inf], score[:-1]))
        jump = np.where(skip, np.concatenate(([-np.inf, -np.inf], score[:-2])), -np.inf)
        moves = np.stack([stay, step, jump])
        back[f] = np.argmax(moves, axis=0)
        score = moves[back[f], states] + emit[f]
    state = n - 1 if score[n - 1] >= score[n - 2] else n - 2
    path = np.empty(t, np.int64)
    for f in range(t - 1, -1, -1):
        path[f] = state
        state -= back[f, state]
    return labels[path], emit[np.arange(t), path]


def hypothesis_from_ids(lp: Tensor, ids: list[int], vocab: Vocabulary, best: tuple | None = None) -> Hypothesis:
    """A hypothesis for the token ``ids`` (no blanks) with spans and confidences read off the forced
    alignment the way greedy decoding reads them off the best path (``best``: :func:`best_path`'s
    result when known); without spans when the frames cannot hold the sequence."""
    lp = np.ascontiguousarray(to_numpy(lp), dtype=np.float32)  # torch only if forced_align must run
    found = forced_path(lp, ids, best)
    if found is None:
        return Hypothesis(vocab.decode(ids), [], lp.shape[0])
    return collapse(found[0], np.exp(found[1]), vocab)


def hypothesis_from_words(lp: Tensor, words: list[str], vocab: Vocabulary, separator: str = " ",
                          best_labels: tuple | None = None) -> Hypothesis:
    """A hypothesis for a word sequence (lexicon decoding): the separator between words is kept only
    where the model put one, else the words simply follow each other."""
    lp = np.ascontiguousarray(to_numpy(lp), dtype=np.float32)
    if not words:
        return Hypothesis("", [], lp.shape[0])
    sep = vocab.encode(separator)[0]
    with_sep = [t for k, w in enumerate(words) for t in ([sep] if k else []) + vocab.encode(w)]
    bare = [t for w in words for t in vocab.encode(w)]
    greedy = best_labels or best_path(lp)
    candidates = (with_sep, bare) if len(words) > 1 else (bare,)
    best = greedy[:2] if greedy[2] in candidates else None  # the best path: no alignment scores higher
    if best is None:
        for ids in candidates:
            found = forced_path(lp, ids, greedy)
            if found is not None and (best is None or found[1].sum() > best[1].sum()):
                best = found
    if best is None:  # too few frames for the spelling: keep the words, without times
        return Hypothesis(" ".join(words), [], lp.shape[0])
    aligned_tokens = collapse(best[0], np.exp(best[1]), vocab).tokens
    aligned, separated = iter(aligned_tokens), len(aligned_tokens) > len(bare)
    tokens: list[Token] = []
    for k, w in enumerate(words):
        if k:  # the separator where the model put one, else an empty one where the words meet
            tokens.append(next(aligned) if separated else
                          Token(sep, separator, tokens[-1].end, tokens[-1].end, 1.0))
        tokens += [next(aligned) for _ in vocab.encode(w)]
    return Hypothesis(" ".join(words), tokens, lp.shape[0])
