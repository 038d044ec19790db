"""PrIMuS semantic tokens -> Plaine & Easie code that Verovio renders back to the same tokens.

With it any token sequence (a real ``.semantic`` file, an edited or random one) can be rendered with exact labels:
``mei_to_semantic(MEI of semantic_to_pae(tokens)) == tokens``. The PAE is the compact one-line form
``%G-2@3/4$bBEA '4C...`` that ``verovio.toolkit().loadData`` accepts with ``inputFrom: pae``.

Beams are not in the semantic encoding, so eighths and shorter are beamed by beat (a dotted quarter in compound
meters, the half in ``C/``, otherwise the denominator); a short first measure is a pickup, aligned to the end of
the bar. Accidentals are written where the sounding pitch differs from what the key signature and earlier
accidentals on the same step and octave in the measure imply, which is how Verovio reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .mei import FIGURES, LabelError

_PAE_DURS = {"quadruple_whole": "0", "double_whole": "9", "whole": "1", "half": "2", "quarter": "4",
             "eighth": "8", "sixteenth": "6", "thirty_second": "3", "sixty_fourth": "5",
             "hundred_twenty_eighth": "7"}
_LENGTHS = {"quadruple_whole": Fraction(4), "double_whole": Fraction(2)} | {
    name: Fraction(1, int(dur)) for dur, name in FIGURES.items() if dur.isdigit()}
_BEAMABLE = {"eighth", "sixteenth", "thirty_second", "sixty_fourth", "hundred_twenty_eighth"}
_OCTAVES = {1: ",,,", 2: ",,", 3: ",", 4: "'", 5: "''", 6: "'''", 7: "''''"}
_SHARP_KEYS = ["C", "G", "D", "A", "E", "B", "F#", "C#"]
_FLAT_KEYS = ["C", "F", "Bb", "Eb", "Ab", "Db", "Gb", "Cb"]
_SHARP_ORDER, _FLAT_ORDER = "FCGDAEB", "BEADGCF"
_PAE_ACCID = {"#": "x", "b": "b", "": "n"}


@dataclass
class _Item:
    """One note or rest of a measure, with what the PAE needs around it."""

    kind: str  # note, gracenote, rest, multirest, change
    text: str = ""  # multirest count or a header change (PAE, already written)
    step: str = ""
    alter: str = ""
    octave: int = 0
    figure: str = ""
    dots: int = 0
    fermata: bool = False
    tie: bool = False

    @property
    def length(self) -> Fraction:
        if self.kind not in ("note", "rest"):
            return Fraction(0)
        return _LENGTHS[self.figure] * (2 - Fraction(1, 2**self.dots))


def _parse_duration(text: str) -> tuple[str, int, bool]:
    fermata = text.endswith("_fermata")
    text = text.removesuffix("_fermata")
    figure = text.rstrip(".")
    if figure not in _PAE_DURS:
        raise LabelError(f"unknown duration {text!r}")
    return figure, len(text) - len(figure), fermata


def _parse_item(token: str) -> _Item:
    kind, _, value = token.partition("-")
    if kind in ("note", "gracenote"):
        pitch, _, duration = value.partition("_")
        step, alter, octave = pitch[0], pitch[1:-1], int(pitch[-1])
        if step not in "ABCDEFG" or alter not in ("", "#", "b"):
            raise LabelError(f"unknown pitch in {token!r}")
        figure, dots, fermata = _parse_duration(duration)
        return _Item(kind, step=step, alter=alter, octave=octave, figure=figure, dots=dots, fermata=fermata)
    if kind == "rest":
        figure, dots, fermata = _parse_duration(value)
        return _Item("rest", figure=figure, dots=dots, fermata=fermata)
    if kind == "multirest":
        return _Item("multirest", text=value)
    raise LabelError(f"unknown semantic token {token!r}")


def _key_alterations(name: str) -> dict[str, str]:
    if name in _SHARP_KEYS:
        return {step: "#" for step in _SHARP_ORDER[: _SHARP_KEYS.index(name)]}
    if name in _FLAT_KEYS:
        return {step: "b" for step in _FLAT_ORDER[: _FLAT_KEYS.index(name)]}
    raise LabelError(f"unknown key {name!r}")


def _header_pae(token: str) -> str:
    kind, _, value = token.partition("-")
    if kind == "clef":
        return f"%{value[0]}-{value[1:]}"
    if kind == "timeSignature":
        return "@" + {"C": "c", "C/": "c/"}.get(value, value)
    key = value.removesuffix("M")
    alterations = _key_alterations(key)
    if not alterations:
        return "$n"  # Verovio writes keySig sig="0": keySignature-CM
    sign = "x" if "#" in alterations.values() else "b"
    return "$" + sign + "".join(alterations)


def _beat(meter: str | None) -> Fraction:
    if meter in (None, "C"):
        return Fraction(1, 4)
    if meter == "C/":
        return Fraction(1, 2)
    count, unit = (int(x) for x in meter.split("/"))
    if unit >= 8 and count % 3 == 0:
        return Fraction(3, unit)
    return Fraction(1, unit)


def _meter_length(meter: str | None) -> Fraction | None:
    if meter is None:
        return None
    if meter in ("C", "C/"):
        return Fraction(1)
    count, unit = (int(x) for x in meter.split("/"))
    return Fraction(count, unit)


def _beam_groups(items: list[_Item], start: Fraction, beat: Fraction) -> list[tuple[int, int]]:
    """(first, last) indices of runs of beamable notes that start in the same beat."""
    groups: list[tuple[int, int]] = []
    run: list[int] = []
    run_beat = None
    onset = start
    for i, item in enumerate(items):
        this_beat = onset // beat
        if item.kind == "note" and item.figure in _BEAMABLE and (not run or this_beat == run_beat):
            run.append(i)
            run_beat = this_beat
        else:
            if len(run) > 1:
                groups.append((run[0], run[-1]))
            run = [i] if item.kind == "note" and item.figure in _BEAMABLE else []
            run_beat = this_beat
        onset += item.length
    if len(run) > 1:
        groups.append((run[0], run[-1]))
    return groups


class _Writer:
    def __init__(self) -> None:
        self.key: dict[str, str] = {}
        self.meter: str | None = None
        self.accidentals: dict[tuple[str, int], str] = {}
        self.previous: _Item | None = None

    def note(self, item: _Item) -> str:
        tied_over = self.previous is not None and self.previous.tie and (
            (self.previous.step, self.previous.octave) == (item.step, item.octave))
        expected = self.accidentals.get((item.step, item.octave), self.key.get(item.step, ""))
        accid = ""
        if not tied_over and item.alter != expected:
            accid = _PAE_ACCID[item.alter]
            self.accidentals[(item.step, item.octave)] = item.alter
        body = f"{_PAE_DURS[item.figure]}{'.' * item.dots}{accid}{item.step}"
        if item.fermata:
            body = f"({body})"
        prefix = "q" if item.kind == "gracenote" else ""
        return f"{prefix}{_OCTAVES[item.octave]}{body}{'+' if item.tie else ''}"

    def item(self, item: _Item) -> str:
        if item.kind == "rest":
            body = f"{_PAE_DURS[item.figure]}{'.' * item.dots}-"
            text = f"({body})" if item.fermata else body
        elif item.kind == "multirest":
            text = f"={item.text}"
        elif item.kind == "change":
            text = f" {item.text} "
        else:
            text = self.note(item)
        if item.kind != "change":
            self.previous = item
        return text

    def measure(self, items: list[_Item], first: bool) -> str:
        self.accidentals = {}
        start = Fraction(0)
        total, bar = sum((i.length for i in items), Fraction(0)), _meter_length(self.meter)
        if first and bar is not None and total < bar:
            start = bar - total  # a pickup: beats count from the end of the bar
        groups = _beam_groups(items, start, _beat(self.meter))
        opens = {a for a, _ in groups}
        closes = {b for _, b in groups}
        out = []
        for i, item in enumerate(items):
            out.append(("{" if i in opens else "") + self.item(item) + ("}" if i in closes else ""))
        return "".join(out)


def semantic_to_pae(tokens: list[str]) -> str:
    """Compact one-line PAE (``%clef@meter$key data``) for a PrIMuS semantic token sequence."""
    writer = _Writer()
    header: dict[str, str] = {}
    i = 0
    while i < len(tokens) and tokens[i].split("-")[0] in ("clef", "keySignature", "timeSignature"):
        header[tokens[i].split("-")[0]] = tokens[i]
        i += 1
    if "clef" not in header:
        raise LabelError("a PrIMuS sequence starts with a clef")
    if "keySignature" in header:
        writer.key = _key_alterations(header["keySignature"].split("-", 1)[1].removesuffix("M"))
    if "timeSignature" in header:
        writer.meter = header["timeSignature"].split("-", 1)[1]
    pae = "".join(_header_pae(header[k]) for k in ("clef", "timeSignature", "keySignature") if k in header)
    measures: list[str] = []
    items: list[_Item] = []
    for token in tokens[i:]:
        if token == "barline":
            measures.append(writer.measure(items, first=not measures) + "/")
            items = []
        elif token == "tie":
            if not items or items[-1].kind not in ("note", "gracenote"):
                raise LabelError("tie after something that is not a note")
            items[-1].tie = True
        elif token.split("-")[0] in ("clef", "keySignature", "timeSignature"):
            items.append(_Item("change", text=_header_pae(token)))
            kind, value = token.split("-", 1)
            if kind == "keySignature":
                writer.key = _key_alterations(value.removesuffix("M"))
            elif kind == "timeSignature":
                writer.meter = value
        else:
            items.append(_parse_item(token))
    if items:
        measures.append(writer.measure(items, first=not measures))
    return f"{pae} {''.join(measures)}"
