"""Token spans for a decoded sequence: Viterbi forced alignment of the ids to the CTC posteriors.

Beam decoders return a token (or word) sequence; aligning it with torchaudio's ``forced_align`` gives
every token the same frame span and confidence fields that greedy decoding gives, whatever the
backend.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .decode import Hypothesis, Token
from .vocab import Vocabulary


def forced_spans(lp: Tensor, ids: list[int]) -> tuple[list[tuple[int, int, int]], float] | None:
    """Viterbi alignment of ``ids`` to ``lp`` ``[T, V]`` (log-probs, blank 0): ``([(id, start, end)], path
    log-prob)``, or None when the frames cannot hold the sequence."""
    import torchaudio.functional as F
    repeats = sum(a == b for a, b in zip(ids, ids[1:]))
    if lp.shape[0] < len(ids) + repeats:
        return None
    if not ids:
        return [], float(lp[:, 0].sum())
    path, scores = F.forced_align(lp[None].float().cpu(), torch.tensor([ids], dtype=torch.int32), blank=0)
    spans = F.merge_tokens(path[0], scores[0], blank=0)
    return [(s.token, s.start, s.end) for s in spans], float(scores[0].sum())


def _tokens(lp: Tensor, spans: list[tuple[int, int, int]], vocab: Vocabulary) -> list[Token]:
    return [Token(t, vocab.tokens[t], s, e, float(lp[s:e, t].exp().mean()) if e > s else 1.0) for t, s, e in spans]


def hypothesis_from_ids(lp: Tensor, ids: list[int], vocab: Vocabulary) -> Hypothesis:
    """A hypothesis for the token ``ids`` (no blanks) with spans from forced alignment; without
    spans when the frames cannot hold the sequence."""
    lp = lp.detach().float().cpu()
    found = forced_spans(lp, ids)
    text = vocab.decode(ids)
    if found is None:
        return Hypothesis(text, [], lp.shape[0])
    return Hypothesis(text, _tokens(lp, found[0], vocab), lp.shape[0])


def hypothesis_from_words(lp: Tensor, words: list[str], vocab: Vocabulary, separator: str = " ") -> Hypothesis:
    """A hypothesis for a word sequence (lexicon decoding): the separator between words is kept only
    where the model put one, else the words simply follow each other."""
    lp = lp.detach().float().cpu()
    if not words:
        return Hypothesis("", [], lp.shape[0])
    sep = vocab.encode(separator)[0]
    with_sep = [t for k, w in enumerate(words) for t in ([sep] if k else []) + vocab.encode(w)]
    bare = [t for w in words for t in vocab.encode(w)]
    best = None
    for ids in (with_sep, bare) if len(words) > 1 else (bare,):
        spans = forced_spans(lp, ids)
        if spans is not None and (best is None or spans[1] > best[1]):
            best = spans
    if best is None:  # too few frames for the spelling: keep the words, without times
        return Hypothesis(" ".join(words), [], lp.shape[0])
    aligned, separated = iter(_tokens(lp, best[0], vocab)), len(best[0]) > len(bare)
    tokens: list[Token] = []
    for k, w in enumerate(words):
        if k:  # the separator where the model put one, else an empty one where the words meet
            tokens.append(next(aligned) if separated else
                          Token(sep, separator, tokens[-1].end, tokens[-1].end, 1.0))
        tokens += [next(aligned) for _ in vocab.encode(w)]
    return Hypothesis(" ".join(words), tokens, lp.shape[0])
