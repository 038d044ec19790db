"""What OCR of one line image produces: the data every OCR output writer renders."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Glyph:
    """One recognised character (or multi-character token) on the line.

    ``x0``/``x1`` are pixel columns of the *original* input image (``x1`` exclusive), derived from
    the CTC frame span of the token; ``confidence`` is the mean posterior over that span (0..1).
    """

    text: str
    x0: int
    x1: int
    confidence: float


@dataclass
class LineResult:
    """The recognition of one text-line image."""

    source: str                       # input path as given by the user (or a name)
    width: int                        # original image width in pixels
    height: int                       # original image height in pixels
    text: str                         # the decoded line
    confidence: float                 # mean glyph confidence (1.0 for an empty line)
    glyphs: list[Glyph] = field(default_factory=list)
    model: dict = field(default_factory=dict)    # {"name", "sha256", "task", ...}
    decoder: dict = field(default_factory=dict)  # {"name": "greedy", ...settings}
    nbest: list[dict] = field(default_factory=list)  # beam search --nbest N: [{"text", "score"}], best first

    def words(self) -> list[list[Glyph]]:
        """Glyphs grouped into words (runs of non-space glyphs)."""
        words: list[list[Glyph]] = []
        current: list[Glyph] = []
        for g in self.glyphs:
            if g.text.isspace():
                if current:
                    words.append(current)
                current = []
            else:
                current.append(g)
        if current:
            words.append(current)
        return words

    def to_dict(self) -> dict:
        return asdict(self)
