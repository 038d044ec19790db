"""Beam search with flashlight-text (the decoder behind torchaudio's ``ctc_decoder``): lexicon-free with a
token-level LM, or constrained to a lexicon (a word list: no other spelling can come out) with an
optional word LM.

The decoder is built from flashlight-text directly, as torchaudio's ``ctc_decoder`` builds it, so that
it needs no torch: the runtime-only install (ONNX Runtime) decodes with it too.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .align import best_path, hypothesis_from_ids, hypothesis_from_words
from .decode import Hypothesis, to_numpy
from .decoders import DecoderError, DecoderSpec, beam_settings
from .lm import SPACE, LMInfo
from .vocab import Vocabulary

if TYPE_CHECKING:
    from torch import Tensor

BLANK_NAME = "<blank>"
SEPARATOR = " "  # the word separator token of character models
TOKENS_PER_FRAME = 4   # tokens tried at each frame (the most likely ones): CTC posteriors are peaked
BEAM_THRESHOLD = 10.0  # drop hypotheses this far (log) below the best
BLANK_SKIP = 0.95      # runs of frames this sure of the blank are searched as one frame


def token_names(vocab: Vocabulary) -> list[str]:
    """Names flashlight (and the KenLM vocabulary of a token LM) use for the model's tokens: the tokens
    themselves, but the blank, the space and any other whitespace get names without whitespace."""
    names = [BLANK_NAME]
    for t in vocab.tokens[1:]:
        names.append(SPACE if t == " " else "".join(f"<U+{ord(c):04X}>" if c.isspace() else c for c in t))
    return names


class FlashlightDecoder:
    def __init__(self, spec: DecoderSpec, vocab: Vocabulary, lm: LMInfo | None) -> None:
        from flashlight.lib.text import decoder as fl
        from flashlight.lib.text.decoder.kenlm import KenLM
        from flashlight.lib.text.dictionary import Dictionary, create_word_dict
        self.spec, self.vocab, self.lm = spec, vocab, lm
        names = token_names(vocab)
        has_sep = SEPARATOR in vocab
        self._separator = vocab.encode(SEPARATOR)[0] if has_sep else None
        if spec.lexicon and not has_sep:
            raise DecoderError("a lexicon needs a model with a word separator (space) token")
        tokens = Dictionary(names)
        blank, silence = 0, tokens.get_index(SPACE if has_sep else BLANK_NAME)
        options = dict(beam_size=spec.beam_width, beam_size_token=min(len(names), TOKENS_PER_FRAME),
                       beam_threshold=BEAM_THRESHOLD, lm_weight=spec.alpha, log_add=True,
                       criterion_type=fl.CriterionType.CTC)
        if spec.lexicon:
            spellings = {"<unk>": [], **self._lexicon(names)}  # as flashlight's load_words reads a lexicon file
            self._word_dict = create_word_dict(spellings)
            model = KenLM(str(lm.path), self._word_dict) if lm else fl.ZeroLM()
            trie = fl.Trie(len(names), silence)  # each word's spelling, scored by the LM alone
            start = model.start(False)
            for word, spelled in spellings.items():
                index = self._word_dict.get_index(word)
                for spelling in spelled:
                    trie.insert([tokens.get_index(t) for t in spelling], index, model.score(start, index)[1])
            trie.smear(fl.SmearingMode.MAX)
            self._decoder = fl.LexiconDecoder(
                fl.LexiconDecoderOptions(**options, word_score=spec.beta, unk_score=-math.inf, sil_score=0.0),
                trie, model, silence, blank, self._word_dict.get_index("<unk>"), [], False)
        else:
            # The LM must see the tokens in the model's order, so its dictionary is the token list.
            model = KenLM(str(lm.path), Dictionary([*names, "<unk>"])) if lm else fl.ZeroLM()
            self._decoder = fl.LexiconFreeDecoder(fl.LexiconFreeDecoderOptions(**options, sil_score=spec.beta),
                                                  model, silence, blank, [])

    def _lexicon(self, names: list[str]) -> dict[str, list[list[str]]]:
        """Each word of the spec's lexicon with its one spelling in token names."""
        out = {}
        for w in self.spec.lexicon:
            missing = self.vocab.missing(w)
            if missing or not w:
                raise DecoderError(f"word {w!r} cannot be spelled with the model's tokens "
                                   f"(missing {''.join(missing)!r})")
            out[w] = [[names[i] for i in self.vocab.encode(w)]]
        return out

    def settings(self) -> dict:
        return beam_settings(self.spec, "flashlight", self.lm)

    def __call__(self, log_probs: Tensor, lengths: Tensor) -> list[Hypothesis]:
        # One row at a time, in numpy: only a row's own frames are touched (not the batch's padding),
        # and no small torch operation waits for torch's OpenMP threads. The C++ decoder is called
        # directly (torchaudio's ``__call__`` also turns every result into per-frame token and timestep
        # tensors in Python, which cost as much as the search on long lines).
        lp = np.ascontiguousarray(to_numpy(log_probs), dtype=np.float32)  # numpy from ONNX Runtime
        lengths = to_numpy(lengths)
        search, v = self._decoder.decode, lp.shape[2]
        out = []
        for i in range(lp.shape[0]):
            n = int(lengths[i])
            frames = lp[i, :n]
            searched = np.ascontiguousarray(frames[searched_frames(frames[:, 0])])
            results = search(searched.ctypes.data, len(searched), v)[: self.spec.nbest]
            if not results:
                out.append(Hypothesis("", [], n))
                continue
            greedy = best_path(frames)  # every frame's best label: the alignment whenever the result spells it
            if self.spec.lexicon:
                words = [self._words(r) for r in results]
                texts = [" ".join(w) for w in words]
                best = hypothesis_from_words(frames, words[0], self.vocab, SEPARATOR, greedy)
            else:
                ids = [self._ids(r) for r in results]
                texts = [self.vocab.decode(x) for x in ids]
                best = hypothesis_from_ids(frames, ids[0], self.vocab, greedy)
            best.score = float(results[0].score)
            best.alternatives = [(t, round(float(r.score), 4)) for t, r in zip(texts, results)]
            out.append(best)
        return out

    def _ids(self, result) -> list[int]:
        tokens = result.tokens  # a short list: merged in Python, quicker than a numpy round trip
        ids = [t for k, t in enumerate(tokens) if t and (k == 0 or tokens[k - 1] != t)]
        sep = self._separator
        while ids and ids[0] == sep:  # flashlight may open or close with a word boundary
            ids.pop(0)
        while ids and ids[-1] == sep:
            ids.pop()
        return ids

    def _words(self, result) -> list[str]:
        entry = self._word_dict.get_entry
        return [entry(x) for x in result.words if x >= 0]


def searched_frames(blank: np.ndarray, threshold: float = BLANK_SKIP) -> np.ndarray:
    """Which frames the search sees, given each frame's blank log-prob: every run of frames where the
    blank's probability exceeds ``threshold`` shrunk to its first frame.

    Most CTC frames are blank; a run of sure blanks scores the same for every hypothesis, so one of
    them keeps repeated tokens apart and the others only cost search time (the trick of GPU CTC
    decoders' ``blank_skip_threshold``). Spans are aligned on the full frames afterwards.
    """
    sure = blank > math.log(threshold)
    keep = np.ones(len(sure), bool)
    np.logical_not(sure[1:] & sure[:-1], out=keep[1:])
    return keep
