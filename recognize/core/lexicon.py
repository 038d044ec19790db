"""Lexicon-constrained CTC decoding: outputs are sequences of words from a fixed list, nothing else.

The search is flashlight-text's lexicon beam decoder (through torchaudio) without a language model:
the lexicon trie makes any other spelling impossible, so this is constrained decoding, not a filter
on free output. Each chosen word sequence is then aligned to the frames with torchaudio's
``forced_align`` to get token spans and confidences, the same fields greedy decoding gives.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from .decode import Hypothesis, Token
from .vocab import Vocabulary

_BLANK, _SIL = "<b>", "|"  # names flashlight sees for the blank and the word separator


class LexiconError(ValueError):
    """A word list that cannot be used with a model (empty, or a word the model cannot spell)."""


def read_word_list(spec: str) -> list[str]:
    """``spec`` is a file (one word per line, ``#`` comments) or a comma/space separated list."""
    path = Path(spec)
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        words = [w for line in lines for w in line.split("#", 1)[0].split()]
        where = str(path)
    else:
        words, where = [w for w in re.split(r"[,\s]+", spec) if w], "--vocabulary"
    words = list(dict.fromkeys(words))
    if not words:
        raise LexiconError(f"{where}: no words")
    return words


@dataclass
class LexiconDecoder:
    """Beam search over ``words`` (each spelled with ``vocab``'s tokens); words are separated by
    the vocabulary's ``separator`` token when the model emits one, or simply follow each other."""

    words: list[str]
    vocab: Vocabulary
    separator: str = " "
    beam_size: int = 50
    _decoder: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.separator not in self.vocab:
            raise LexiconError(f"the model has no word separator token {self.separator!r}")
        lines = []
        for w in self.words:
            missing = self.vocab.missing(w)
            if missing or not w:
                raise LexiconError(f"word {w!r} cannot be spelled with the model's tokens "
                                   f"(missing {''.join(missing)!r})")
            lines.append(f"{w}\t{' '.join(self._name(t) for t in self.vocab.split(w))}")
        from torchaudio.models.decoder import ctc_decoder
        with tempfile.TemporaryDirectory() as tmp:
            lexicon = Path(tmp) / "lexicon.txt"
            lexicon.write_text("\n".join(lines) + "\n", encoding="utf-8")
            names = [self._name(t) for t in self.vocab.tokens]
            self._decoder = ctc_decoder(lexicon=str(lexicon), tokens=names, lm=None, beam_size=self.beam_size,
                                        blank_token=_BLANK, sil_token=_SIL, unk_word="<unk>")

    def _name(self, token: str) -> str:
        if token == self.vocab.tokens[0]:
            return _BLANK
        return _SIL if token == self.separator else token

    def settings(self) -> dict:
        return {"name": "lexicon", "backend": "flashlight-text", "beam_width": self.beam_size,
                "words": len(self.words)}

    def __call__(self, log_probs: Tensor, lengths: Tensor) -> list[Hypothesis]:
        """``log_probs`` ``[N, T, V]`` log-softmax, ``lengths`` ``[N]`` -> one hypothesis per item."""
        lp = log_probs.detach().float().cpu().contiguous()
        lengths = lengths.detach().cpu().to(torch.int32)
        out = []
        for i, hyps in enumerate(self._decoder(lp, lengths)):
            words = list(hyps[0].words) if hyps else []
            out.append(self._align(lp[i, : int(lengths[i])], words))
        return out

    def _align(self, lp: Tensor, words: list[str]) -> Hypothesis:
        """Token spans of ``words`` by Viterbi forced alignment (separator between words optional:
        it is kept only where the model put it)."""
        if not words:
            return Hypothesis("", [], lp.shape[0])
        sep = self.vocab.encode(self.separator)[0]
        with_sep = [t for k, w in enumerate(words) for t in ([sep] if k else []) + self.vocab.encode(w)]
        bare = [t for w in words for t in self.vocab.encode(w)]
        best = None
        for ids in (with_sep, bare) if len(words) > 1 else (bare,):
            spans = _forced_spans(lp, ids)
            if spans is not None and (best is None or spans[1] > best[1]):
                best = spans
        if best is None:  # too few frames for the spelling: keep the words, without times
            return Hypothesis(" ".join(words), [], lp.shape[0])
        aligned, separated = iter(best[0]), len(best[0]) > len(bare)
        tokens: list[Token] = []
        for k, w in enumerate(words):
            if k:  # the separator where the model put one, else an empty one where the words meet
                _, s, e = next(aligned) if separated else (sep, tokens[-1].end, tokens[-1].end)
                tokens.append(Token(sep, self.separator, s, e, float(lp[s:e, sep].exp().mean()) if e > s else 1.0))
            for _ in self.vocab.encode(w):
                t, s, e = next(aligned)
                tokens.append(Token(t, self.vocab.tokens[t], s, e, float(lp[s:e, t].exp().mean())))
        return Hypothesis(" ".join(words), tokens, lp.shape[0])


def _forced_spans(lp: Tensor, ids: list[int]) -> tuple[list[tuple[int, int, int]], float] | None:
    """Viterbi alignment of ``ids`` to ``lp`` ``[T, V]``: ``([(id, start, end)], path log-prob)``,
    or None when the frames cannot hold the sequence."""
    import torchaudio.functional as F
    repeats = sum(a == b for a, b in zip(ids, ids[1:]))
    if lp.shape[0] < len(ids) + repeats:
        return None
    path, scores = F.forced_align(lp[None], torch.tensor([ids], dtype=torch.int32), blank=0)
    spans = F.merge_tokens(path[0], scores[0], blank=0)
    return [(s.token, s.start, s.end) for s in spans], float(scores[0].sum())
