"""PrIMuS semantic tokens: the grammar, a parser, and checks that a sequence is a valid incipit.

Token families (PrIMuS ``vocabulary_semantic.txt``, 1,781 tokens)::

    clef-G2  keySignature-EbM  timeSignature-3/4 | -C | -C/
    note-Bb4_quarter.[_fermata]  gracenote-C#5_eighth  rest-half[_fermata]  multirest-23  barline  tie

Pitches are written as they sound: the key signature is already applied (B-flat under EbM is ``Bb4``).
``tie`` stands between the two tied notes (before the barline when the tie crosses one).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

DURATIONS: dict[str, Fraction] = {
    "quadruple_whole": Fraction(16),
    "double_whole": Fraction(8),
    "whole": Fraction(4),
    "half": Fraction(2),
    "quarter": Fraction(1),
    "eighth": Fraction(1, 2),
    "sixteenth": Fraction(1, 4),
    "thirty_second": Fraction(1, 8),
    "sixty_fourth": Fraction(1, 16),
    "hundred_twenty_eighth": Fraction(1, 32),
}
"""Duration names in order, with their length in quarter notes."""

KINDS = ("clef", "key", "time", "note", "gracenote", "rest", "multirest", "barline", "tie")
CLEFS = ("C1", "C2", "C3", "C4", "C5", "F3", "F4", "F5", "G1", "G2")
ACCIDENTALS: dict[str, int] = {"": 0, "#": 1, "##": 2, "b": -1, "bb": -2, "N": 0}
"""Accidentals as written in a pitch, with their alteration in semitones (``N``: an explicit natural)."""

_SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_FIFTHS = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}
_DUR = "|".join(sorted(DURATIONS, key=len, reverse=True))
_NOTE = re.compile(rf"(note|gracenote)-([A-G])(##|#|bb|b|N)?([0-9])_({_DUR})(\.{{0,3}})(_fermata)?")
_REST = re.compile(rf"rest-({_DUR})(\.{{0,3}})(_fermata)?")
_KEY = re.compile(r"keySignature-([A-G])(#|b)?M")
_TIME = re.compile(r"timeSignature-(C/?|([1-9][0-9]*)/([1-9][0-9]*))")
_MULTIREST = re.compile(r"multirest-([1-9][0-9]*)")
_SHAPES = {
    "note": "note-<step><accidental><octave>_<duration><dots>[_fermata]",
    "gracenote": "gracenote-<step><accidental><octave>_<duration><dots>",
    "rest": "rest-<duration><dots>[_fermata]",
    "multirest": "multirest-<count>",
    "clef": "clef-" + "|".join(CLEFS),
    "keySignature": "keySignature-<major key>, e.g. EbM",
    "timeSignature": "timeSignature-<N>/<D>|C|C/",
}


class TokenError(ValueError):
    """A token that is not in the semantic grammar."""


@dataclass(frozen=True)
class Symbol:
    """One parsed semantic token; only the fields of its ``kind`` are set."""

    kind: str
    token: str
    step: str = ""  # note, gracenote: C..B
    accidental: str = ""  # as written: '', '#', '##', 'b', 'bb', 'N'
    octave: int = 0
    duration: str = ""  # note, gracenote, rest: a DURATIONS name
    dots: int = 0
    fermata: bool = False
    count: int = 0  # multirest: number of measures
    clef: str = ""  # e.g. 'G2'
    key: str = ""  # e.g. 'EbM'
    time: str = ""  # 'C', 'C/' or 'N/D'

    @property
    def alter(self) -> int:
        return ACCIDENTALS[self.accidental]

    @property
    def pitch(self) -> str:
        """The pitch as written in the token, e.g. ``Bb4``."""
        return f"{self.step}{self.accidental}{self.octave}"

    @property
    def midi(self) -> int:
        return 12 * (self.octave + 1) + _SEMITONES[self.step] + self.alter

    @property
    def quarter_length(self) -> Fraction:
        return quarter_length(self.duration, self.dots) if self.duration else Fraction(0)

    @property
    def clef_shape(self) -> str:
        return self.clef[:1]

    @property
    def clef_line(self) -> int:
        return int(self.clef[1:]) if self.clef else 0

    @property
    def tonic(self) -> str:
        """Key tonic, e.g. ``Eb`` for ``EbM``."""
        return self.key[:-1]

    @property
    def fifths(self) -> int:
        """Sharps (>0) or flats (<0) of the key signature."""
        return _key_fifths(self.tonic)

    @property
    def meter(self) -> tuple[int, int]:
        """(beats, beat type); C is 4/4 and C/ is 2/2."""
        if self.time == "C":
            return 4, 4
        if self.time == "C/":
            return 2, 2
        beats, beat_type = self.time.split("/")
        return int(beats), int(beat_type)

    @property
    def bar_length(self) -> Fraction:
        """Length of a full bar in quarter notes."""
        beats, beat_type = self.meter
        return Fraction(4 * beats, beat_type)


def quarter_length(duration: str, dots: int = 0) -> Fraction:
    """Length in quarter notes of a (dotted) duration name: each dot adds half the previous value."""
    base = DURATIONS[duration]
    return base * (2 - Fraction(1, 2**dots))


def _key_fifths(tonic: str) -> int:
    return _FIFTHS[tonic[0]] + 7 * (tonic.count("#") - tonic.count("b"))


def _fail(tok: str) -> TokenError:
    family = tok.split("-", 1)[0]
    shape = _SHAPES.get(family)
    why = f"expected {shape}" if shape else "unknown token"
    return TokenError(f"invalid token {tok!r}: {why}")


def parse_token(tok: str) -> Symbol:
    """Parse one semantic token; raises TokenError naming the token if it is not in the grammar."""
    if tok in ("barline", "tie"):
        return Symbol(tok, tok)
    if m := _NOTE.fullmatch(tok):
        kind, step, acc, octave, dur, dots, fermata = m.groups()
        if kind == "gracenote" and fermata:
            raise _fail(tok)
        return Symbol(kind, tok, step=step, accidental=acc or "", octave=int(octave), duration=dur,
                      dots=len(dots), fermata=bool(fermata))
    if m := _REST.fullmatch(tok):
        dur, dots, fermata = m.groups()
        return Symbol("rest", tok, duration=dur, dots=len(dots), fermata=bool(fermata))
    if m := _MULTIREST.fullmatch(tok):
        return Symbol("multirest", tok, count=int(m.group(1)))
    if tok.startswith("clef-") and tok[5:] in CLEFS:
        return Symbol("clef", tok, clef=tok[5:])
    if (m := _KEY.fullmatch(tok)) and -7 <= _key_fifths(m.group(1) + (m.group(2) or "")) <= 7:
        return Symbol("key", tok, key=tok.split("-", 1)[1])
    if m := _TIME.fullmatch(tok):
        return Symbol("time", tok, time=m.group(1))
    raise _fail(tok)


def parse(tokens: list[str]) -> list[Symbol]:
    """Parse a whole sequence; raises TokenError at the first token not in the grammar."""
    return [parse_token(t) for t in tokens]


def split_tokens(text: str) -> list[str]:
    """Tokens of a ``.semantic``/``.agnostic`` text (tab separated, usually with a trailing tab)."""
    return text.split()


def read_vocabulary(path: str | Path) -> list[str]:
    """The tokens of a vocabulary file, one a line (blank lines ignored)."""
    return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------- checks

OVERFULL = Fraction(3, 2)
"""A measure is reported as overfilled only past this many bars. PrIMuS has slightly overfull measures
(000105384-1_1_1 has 7 quarters in a 3/2 bar, as engraved) and no tuplet tokens (a measure of triplets
lasts 1.5 bars), while a missed barline doubles a measure."""

_SIGNATURES = ("clef", "key", "time")
_CONTENT = ("note", "gracenote", "rest", "multirest")
_Indexed = list[tuple[int, Symbol]]


def _at(i: int, sym: Symbol) -> str:
    return f"token {i + 1} ({sym.token})"


def _fmt(x: Fraction) -> str:
    return f"{float(x):g}" if (x * 2**10).denominator == 1 else str(x)


def problems(tokens: list[str]) -> list[str]:
    """One-line warnings for everything that keeps ``tokens`` from being a valid incipit ([] if valid).

    Conservative: notation the PrIMuS corpus really uses (clef changes, key and time changes at a
    barline, pickups, short last measures, whole rests filling any bar) is not reported.
    """
    if not tokens:
        return ["empty sequence: no tokens"]
    out: list[str] = []
    syms: _Indexed = []
    for i, tok in enumerate(tokens):
        try:
            syms.append((i, parse_token(tok)))
        except TokenError as e:
            out.append(f"token {i + 1}: {e}")
    if not syms:
        return out
    for check in (_header_problems, _placement_problems, _tie_problems, _measure_problems):
        out.extend(check(syms))
    if not any(s.kind in ("note", "rest", "multirest") for _, s in syms):
        out.append("no notes or rests")
    return out


def _header_problems(syms: _Indexed) -> list[str]:
    i, first = syms[0]
    if first.kind != "clef":
        return [f"missing clef at start: the sequence starts with {_at(i, first)}"]
    header = []
    for i, s in syms:
        if s.kind not in _SIGNATURES:
            break
        header.append((i, s))
    clefs = [(i, s) for i, s in header if s.kind == "clef"]
    return [f"duplicated clef at start: {_at(i, s)}" for i, s in clefs[1:]]


def _placement_problems(syms: _Indexed) -> list[str]:
    """Key and time signatures belong at the start of a measure, in the order key, time, once each."""
    out = []
    in_measure = False  # notes or rests since the last barline
    group: list[str] = []  # signature kinds in the current run of clef/key/time tokens
    for i, s in syms:
        if s.kind not in _SIGNATURES:
            group = []
        if s.kind == "barline":
            in_measure = False
        elif s.kind in _CONTENT:
            in_measure = True
        elif s.kind in ("key", "time"):
            name = "key signature" if s.kind == "key" else "time signature"
            if in_measure:
                out.append(f"{name} out of place: {_at(i, s)} is in the middle of a measure")
            elif s.kind in group:
                out.append(f"duplicated {name}: {_at(i, s)}")
            elif s.kind == "key" and "time" in group:
                out.append(f"key signature out of place: {_at(i, s)} comes after the time signature")
        if s.kind in _SIGNATURES:
            group.append(s.kind)
    return out


def _tie_problems(syms: _Indexed) -> list[str]:
    out = []
    for k, (i, s) in enumerate(syms):
        if s.kind != "tie":
            continue
        before = syms[k - 1][1] if k else None
        after = next((t for _, t in syms[k + 1:] if t.kind not in ("barline", *_SIGNATURES)), None)
        if before is None or before.kind != "note":
            out.append(f"tie not between two notes: {_at(i, s)} does not follow a note")
        elif after is None or after.kind != "note":
            out.append(f"tie not between two notes: {_at(i, s)} is not followed by a note")
        elif before.midi != after.midi:
            out.append(f"tie between different pitches: {_at(i, s)} joins {before.pitch} and {after.pitch}")
    return out


def _power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _measure_problems(syms: _Indexed) -> list[str]:
    """Overfull measures (see OVERFULL), multirests sharing a measure, measures of grace notes only;
    pickups and short measures are fine."""
    out = []
    bar: Fraction | None = None  # None: no time signature, or one whose bar length is not well defined
    meter = ""
    measure: _Indexed = []
    for i, s in [*syms, (-1, Symbol("barline", "barline"))]:
        if s.kind == "time":
            beat_type = s.meter[1]
            bar, meter = (s.bar_length, s.time) if _power_of_two(beat_type) else (None, "")
        if s.kind != "barline":
            measure.append((i, s))
            continue
        if problem := _measure_problem(measure, bar, meter):
            out.append(problem)
        measure = []
    return out


def _measure_problem(measure: _Indexed, bar: Fraction | None, meter: str) -> str | None:
    timed = [(i, s) for i, s in measure if s.kind in ("note", "rest", "multirest")]
    graces = [(i, s) for i, s in measure if s.kind == "gracenote"]
    if graces and not timed:
        return f"grace notes without a main note: the measure from {_at(*graces[0])} has only grace notes"
    if not timed:
        return None
    start = _at(*timed[0])
    multirests = [(i, s) for i, s in timed if s.kind == "multirest"]
    if multirests and len(timed) > 1:
        return f"multirest shares its measure with other notes or rests: {_at(*multirests[0])}"
    if multirests or bar is None or is_measure_rest([s for _, s in measure]):
        return None
    total = sum((s.quarter_length for _, s in timed), Fraction(0))
    if total > bar * OVERFULL:
        return (f"measure overfilled: the measure from {start} lasts {_fmt(total)} quarters, "
                f"more than {_fmt(OVERFULL)} bars of {meter} ({_fmt(bar)} quarters each); a missing barline?")
    return None


def is_measure_rest(measure: list[Symbol]) -> bool:
    """Whether a measure's only content is an undotted whole rest: the whole-measure rest, any bar length."""
    timed = [s for s in measure if s.kind in _CONTENT]
    return len(timed) == 1 and timed[0].kind == "rest" and timed[0].duration == "whole" and timed[0].dots == 0
