"""Error rates over a corpus (micro-averaged: total edits / total reference length)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from rapidfuzz.distance import Levenshtein


@dataclass
class ErrorRates:
    cer: float   # character error rate
    wer: float   # word error rate
    ser: float   # symbol (token) error rate: tokens are whitespace-separated symbols
    seq: float   # sequence error rate: share of samples with any error
    n: int       # samples
    chars: int   # reference characters

    def to_dict(self) -> dict:
        return asdict(self)


def edits(ref, hyp) -> int:
    """Levenshtein distance between two strings or two token lists."""
    return Levenshtein.distance(ref, hyp)


def error_rates(refs: list[str], hyps: list[str]) -> ErrorRates:
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    ce = cn = we = wn = wrong = 0
    for r, h in zip(refs, hyps):
        e = edits(r, h)
        ce, cn = ce + e, cn + len(r)
        rw, hw = r.split(), h.split()
        we, wn = we + edits(rw, hw), wn + len(rw)
        wrong += r != h
    n = len(refs)
    return ErrorRates(cer=ce / max(cn, 1), wer=we / max(wn, 1), ser=we / max(wn, 1),
                      seq=wrong / max(n, 1), n=n, chars=cn)
