"""OMR output writers: the token sequence (semantic or agnostic), json, MusicXML and MIDI.

The music formats need a semantic model. A sequence that is not a valid incipit still gives its
tokens in the token formats; the music formats then print one warning line per problem on stderr
and write what can be built from the valid part.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

from .result import ScoreResult

JSON_FORMAT = "recognize-omr/1"
LINE_FORMATS = ("semantic", "agnostic")  # one line per input: several inputs on stdout are prefixed with their paths


@dataclass(frozen=True)
class Writer:
    name: str
    extension: str
    render: Callable[[ScoreResult], str | bytes]
    needs: str | None = None  # the encoding the model must output (None: any)
    binary: bool = False
    library: str | None = None  # a package the format needs (not in the runtime-only install)


def _tokens(r: ScoreResult) -> str:
    return "\t".join(r.tokens) + "\n"


def _json(r: ScoreResult) -> str:
    from .tokens import problems
    return json.dumps({"format": JSON_FORMAT, **r.to_dict(),
                       "problems": problems(r.tokens) if r.encoding == "semantic" else []},
                      ensure_ascii=False, indent=2) + "\n"


def _warn(r: ScoreResult, warnings: list[str]) -> None:
    for w in warnings:
        print(f"recognize: warning: {r.source}: {w}", file=sys.stderr)


def _musicxml(r: ScoreResult) -> str:
    from .music import to_musicxml
    text, warnings = to_musicxml(r.tokens)
    _warn(r, warnings)
    return text


def _midi(r: ScoreResult) -> bytes:
    from .music import to_midi
    data, warnings = to_midi(r.tokens)
    _warn(r, warnings)
    return data


def _png(r: ScoreResult) -> bytes:
    """The staff image with each token's position, coloured by confidence, and the tokens under it."""
    from ..core.overlay import Span, image_png
    spans = [Span(s.x0, s.x1, s.token, s.confidence) for s in r.symbols]
    return image_png(r.source, spans, f"{len(r.symbols)} {r.encoding} tokens   (confidence {r.confidence:.2f})",
                     vertical_labels=True)


WRITERS: dict[str, Writer] = {w.name: w for w in (
    Writer("semantic", ".semantic", _tokens, needs="semantic"),
    Writer("agnostic", ".agnostic", _tokens, needs="agnostic"),
    Writer("json", ".json", _json),
    Writer("musicxml", ".musicxml", _musicxml, needs="semantic", library="music21"),
    Writer("midi", ".mid", _midi, needs="semantic", binary=True, library="music21"),
    Writer("png", ".png", _png, binary=True),
)}
FORMATS = tuple(WRITERS)


def unusable(fmt: str, encoding: str) -> str | None:
    """Why format ``fmt`` cannot be written for a model of ``encoding`` (None if it can)."""
    need = WRITERS[fmt].needs
    if need and need != encoding:
        return f"format {fmt!r} needs a {need} model; this model outputs {encoding} tokens"
    library = WRITERS[fmt].library
    if library and importlib.util.find_spec(library) is None:
        return f"format {fmt!r} needs {library}, which this install lacks: pip install 'recognize[music]'"
    return None


def render(r: ScoreResult, fmt: str) -> str | bytes:
    return WRITERS[fmt].render(r)


def extension(fmt: str) -> str:
    return WRITERS[fmt].extension
