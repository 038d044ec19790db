"""Beam search with pyctcdecode: open-vocabulary word LMs (KenLM) and hotwords.

pyctcdecode reads special meanings into some labels (``_`` and ``|`` become blank and space when the
blank is not given, ``<pad>``/``<unk>`` patterns...), so the blank is always passed explicitly as
``""``. Models whose tokens are words themselves (music) are given to it in its BPE style
(``▁token``), so that each token is one LM word.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from .align import hypothesis_from_ids
from .decode import Hypothesis, to_numpy
from .decoders import DecoderSpec, beam_settings
from .lm import LMInfo
from .vocab import Vocabulary

if TYPE_CHECKING:
    from torch import Tensor

WORD_START = "\u2581"  # ▁


def labels_for(vocab: Vocabulary) -> list[str]:
    if vocab.tokenizer == "whitespace":
        return [""] + [WORD_START + t for t in vocab.tokens[1:]]
    return [""] + vocab.tokens[1:]


class PyctcDecoder:
    def __init__(self, spec: DecoderSpec, vocab: Vocabulary, lm: LMInfo | None) -> None:
        from pyctcdecode import build_ctcdecoder
        self.spec, self.vocab, self.lm = spec, vocab, lm
        logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
        unigrams = lm.unigrams if lm is not None and lm.unigrams else None
        if lm is not None and unigrams is None and vocab.tokenizer == "whitespace":
            unigrams = vocab.tokens[1:]
        self._decoder = build_ctcdecoder(labels_for(vocab), str(lm.path) if lm else None, unigrams=unigrams,
                                         alpha=spec.alpha, beta=spec.beta)

    def settings(self) -> dict:
        return beam_settings(self.spec, "pyctcdecode", self.lm)

    def __call__(self, log_probs: Tensor, lengths: Tensor) -> list[Hypothesis]:
        lp = np.asarray(to_numpy(log_probs), dtype=np.float32)  # numpy from ONNX Runtime
        out = []
        for i, n in enumerate(to_numpy(lengths).tolist()):
            frames = np.ascontiguousarray(lp[i, :n])
            beams = self._decoder.decode_beams(frames, beam_width=self.spec.beam_width,
                                               hotwords=self.spec.hotwords or None,
                                               hotword_weight=self.spec.hotword_weight)[: self.spec.nbest]
            texts = [self._text(b[0]) for b in beams]
            best = hypothesis_from_ids(frames, self.vocab.encode(texts[0]) if texts else [], self.vocab)
            if beams:
                best.score = float(beams[0][-1])
                best.alternatives = [(t, round(float(b[-1]), 4)) for t, b in zip(texts, beams)]
            out.append(best)
        return out

    def _text(self, text: str) -> str:
        return " ".join(text.split()) if self.vocab.tokenizer == "whitespace" else text
