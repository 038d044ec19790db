"""What reading one staff image produces: the data every OMR output writer renders."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Symbol:
    """One recognised token; ``x0``/``x1`` are pixel columns of the original image (``x1``
    exclusive) from its CTC frame span, ``confidence`` the mean posterior over that span."""

    token: str
    x0: int
    x1: int
    confidence: float


@dataclass
class ScoreResult:
    source: str
    width: int
    height: int
    encoding: str                      # semantic | agnostic
    symbols: list[Symbol] = field(default_factory=list)
    confidence: float = 1.0
    model: dict = field(default_factory=dict)
    decoder: dict = field(default_factory=dict)
    nbest: list[dict] = field(default_factory=list)  # beam search --nbest N: [{"text", "score"}], best first

    @property
    def tokens(self) -> list[str]:
        return [s.token for s in self.symbols]

    def to_dict(self) -> dict:
        return asdict(self)
