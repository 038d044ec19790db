"""Text normalisations used when scoring OCR (ground truths disagree on quotes, dashes and case)."""
from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "″": '"', "‘": "'", "’": "'", "‚": "'", "′": "'",
                         "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-"})


def collapse_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def unify_quotes(text: str) -> str:
    """TeX ``quotes'' and typographic quotes/dashes to their ASCII forms."""
    text = text.replace("``", '"').replace("''", '"')
    return unicodedata.normalize("NFC", text).translate(_QUOTES)


NORMALIZERS = {
    "exact": collapse_spaces,
    "quotes": lambda t: collapse_spaces(unify_quotes(t)),
    "nocase": lambda t: collapse_spaces(unify_quotes(t)).casefold(),
}
