"""Word lists for constrained decoding (``--vocabulary`` / ``--lexicon``): a file or an inline list."""
from __future__ import annotations

import re
from pathlib import Path

from .decoders import DecoderError


class LexiconError(DecoderError):
    """A word list that cannot be used (empty, unreadable)."""


def read_word_list(spec: str) -> list[str]:
    """``spec`` is a file (one word per line, ``#`` comments) or a comma/space separated list."""
    path = Path(spec)
    if path.is_file():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise LexiconError(f"{path}: cannot read word list: {e}") from None
        words = [w for line in lines for w in line.split("#", 1)[0].split()]
        where = str(path)
    else:
        words, where = [w for w in re.split(r"[,\s]+", spec) if w], "--vocabulary"
    words = list(dict.fromkeys(words))
    if not words:
        raise LexiconError(f"{where}: no words")
    return words
