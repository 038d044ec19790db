"""Token vocabulary shared by every task: blank is id 0, tokens may be several characters long."""
from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field

BLANK = "<blank>"


@dataclass
class Vocabulary:
    """Maps tokens to ids. Id 0 is always the CTC blank.

    ``tokenizer`` says how a transcript is split into tokens: ``chars`` (one token per Unicode
    character, for OCR and speech) or ``whitespace`` (tokens separated by spaces/tabs, for music).
    Characters outside the vocabulary are never dropped silently: :meth:`encode` counts them in
    :attr:`unknown`, and callers report them.
    """

    tokens: list[str]
    tokenizer: str = "chars"
    normalization: str | None = "NFC"
    unknown: Counter = field(default_factory=Counter, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.tokenizer not in ("chars", "whitespace"):
            raise ValueError(f"unknown tokenizer {self.tokenizer!r} (chars|whitespace)")
        if not self.tokens or self.tokens[0] != BLANK:
            self.tokens = [BLANK] + [t for t in self.tokens if t != BLANK]
        if len(set(self.tokens)) != len(self.tokens):
            dup = [t for t, n in Counter(self.tokens).items() if n > 1]
            raise ValueError(f"duplicate tokens in vocabulary: {dup[:5]}")
        self._index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def from_texts(cls, texts, tokenizer: str = "chars", normalization: str | None = "NFC") -> Vocabulary:
        v = cls([BLANK], tokenizer, normalization)
        seen: dict[str, None] = {}
        for t in texts:
            for tok in v.split(t):
                seen.setdefault(tok, None)
        return cls([BLANK, *sorted(seen)], tokenizer, normalization)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def normalize(self, text: str) -> str:
        return unicodedata.normalize(self.normalization, text) if self.normalization else text

    def split(self, text: str) -> list[str]:
        text = self.normalize(text)
        if self.tokenizer == "chars":
            return list(text)
        return text.split()

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; unknown tokens are counted in :attr:`unknown` and skipped."""
        ids = []
        for tok in self.split(text):
            i = self._index.get(tok)
            if i is None:
                self.unknown[tok] += 1
            else:
                ids.append(i)
        return ids

    def missing(self, text: str) -> list[str]:
        """Tokens of ``text`` that are not in the vocabulary."""
        return [t for t in self.split(text) if t not in self._index]

    def join(self, tokens: list[str]) -> str:
        return "".join(tokens) if self.tokenizer == "chars" else " ".join(tokens)

    def decode(self, ids) -> str:
        return self.join([self.tokens[i] for i in ids if i != 0])

    def extended(self, texts) -> Vocabulary:
        """This vocabulary plus any new tokens found in ``texts`` (old ids keep their place)."""
        new = dict.fromkeys(t for text in texts for t in self.split(text) if t not in self._index)
        return Vocabulary(self.tokens + sorted(new), self.tokenizer, self.normalization)

    def to_dict(self) -> dict:
        return {"tokens": self.tokens, "tokenizer": self.tokenizer, "normalization": self.normalization}

    @classmethod
    def from_dict(cls, d: dict) -> Vocabulary:
        return cls(list(d["tokens"]), d.get("tokenizer", "chars"), d.get("normalization", "NFC"))
