"""What transcribing one audio file produces: the data every speech output writer renders."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Word:
    """A recognised word (command) with its time span in seconds and mean token confidence (0..1)."""

    text: str
    start: float
    end: float
    confidence: float


@dataclass
class Transcript:
    source: str                      # input path as given
    duration: float                  # seconds of audio
    text: str
    words: list[Word] = field(default_factory=list)
    model: dict = field(default_factory=dict)
    decoder: dict = field(default_factory=dict)
    nbest: list[dict] = field(default_factory=list)  # beam search --nbest N: [{"text", "score"}], best first

    def to_dict(self) -> dict:
        return asdict(self)
