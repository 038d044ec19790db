"""PrIMuS semantic and agnostic labels derived from Verovio's MEI.

PrIMuS exported its labels from the MEI that Verovio 2.0 wrote for each Plaine & Easie incipit. This module
does the same for that MEI 4 (2017, no ``accid.ges``, key and meter as ``scoreDef`` attributes) and for what
Verovio 6.4.1 writes today (``keySig``/``meterSig`` elements, ``<accid>`` children, ``mRest``), so that labels
never come from the PAE string itself.

Where PrIMuS's exporter differs from plain notation, its rule is kept:

* one ``barline`` between measures; after the last measure only when that measure is full (and, our addition,
  when Verovio draws it: a PAE that does not end with ``/`` gets ``right="invis"`` and no barline in the image);
* a tie is a ``tie`` token after its first note (semantic), ``slur.start``/``slur.end`` around the barline
  (agnostic);
* the agnostic order around a note is fermata, slur end, accidental, note, dots, slur start; a dot on a
  line note sits in the space above; rests are on L3 (the whole rest on L4), their dots on S3;
* multi-measure rests are their digits on S5 followed by ``multirest-L3``.

Choices of ours, where PrIMuS gives no example:

* a measure rest (``mRest``, what Verovio 6 makes of PAE ``=`` and ``=1``) is ``multirest-1`` in semantic,
  because it means one measure of rest (PrIMuS wrote that for its ``=1``), and ``rest.whole-L4`` in agnostic,
  because Verovio 6 draws a plain whole rest without a number;
* agnostic accidentals are the written ones (``accid``), i.e. what Verovio draws, cautionary ones included;
* key-signature positions are those Verovio draws (they match the real ``000051652-1_2_1.agnostic``; the
  PrIMuS exporter's table only differs for flats in the C2 clef);
* in a beam, grace notes are never the first or last member when the beam has ordinary notes: the
  vocabulary has ``gracenote.beamedBoth*`` by the dozen, two ``gracenote.beamedRight*`` and no
  ``gracenote.beamedLeft*``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from lxml import etree

MEI = "{http://www.music-encoding.org/ns/mei}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"

FIGURES = {"long": "quadruple_whole", "breve": "double_whole", "1": "whole", "2": "half", "4": "quarter",
           "8": "eighth", "16": "sixteenth", "32": "thirty_second", "64": "sixty_fourth",
           "128": "hundred_twenty_eighth"}
_LENGTHS = {"long": Fraction(4), "breve": Fraction(2)} | {d: Fraction(1, int(d)) for d in FIGURES if d.isdigit()}
_FLAGS = {"8": 1, "16": 2, "32": 3, "64": 4, "128": 5}
_NOTE_DURS = frozenset(FIGURES)
_REST_DURS = _NOTE_DURS - {"breve", "128"}  # no such rests in the published vocabularies

_CLEFS = {("G", 1), ("G", 2), ("C", 1), ("C", 2), ("C", 3), ("C", 4), ("C", 5), ("F", 3), ("F", 4), ("F", 5)}
_STEPS = "cdefgab"
_CLEF_PITCH = {"G": 4 * 7 + 4, "C": 4 * 7 + 0, "F": 3 * 7 + 3}  # diatonic index of G4, C4, F3
_SHARP_KEYS = ["C", "G", "D", "A", "E", "B", "F#", "C#"]
_FLAT_KEYS = ["C", "F", "Bb", "Eb", "Ab", "Db", "Gb"]  # Cb major is not in the vocabulary
_SHARP_ORDER, _FLAT_ORDER = "fcgdaeb", "beadgcf"
# Where Verovio draws the key-signature accidentals, per clef: (sharps, flats), read from its SVG.
_KEY_POSITIONS = {
    ("G", 1): ("L4 S2 S4 L3 S1 S3 L2", "L2 S3 S1 L3 L1 S2 S0"),
    ("G", 2): ("L5 S3 S5 L4 S2 S4 L3", "L3 S4 S2 L4 L2 S3 S1"),
    ("C", 1): ("S2 L1 L3 S1 S3 L2 L4", "L4 L2 S3 S1 L3 L1 S2"),
    ("C", 2): ("S3 L2 L4 S2 S4 L3 L5", "S1 L3 L1 S2 L4 L2 S3"),
    ("C", 3): ("S4 L3 L5 S3 L2 L4 S2", "S2 L4 L2 S3 S1 L3 L1"),
    ("C", 4): ("L2 L4 S2 S4 L3 L5 S3", "S3 L5 L3 S4 S2 L4 L2"),
    ("C", 5): ("L3 S1 S3 L2 L4 S2 S4", "S4 S2 L4 L2 S3 S1 L3"),
    ("F", 3): ("L3 S1 S3 L2 L4 S2 S4", "S4 S2 L4 L2 S3 S1 L3"),
    ("F", 4): ("L4 S2 S4 L3 S1 S3 L2", "L2 S3 S1 L3 L1 S2 S0"),
    ("F", 5): ("L5 S3 S5 L4 S2 S4 L3", "L3 S4 S2 L4 S5 S3 L5"),
}
_WRITTEN = {"s": "sharp", "f": "flat", "n": "natural"}
_ALTER = {"s": "#", "f": "b", "n": ""}
_REPEATS = {"rptstart", "rptend", "rptboth"}
_CONTROL_EVENTS = {"staff", "tie", "fermata"}


class LabelError(ValueError):
    """The MEI holds something the PrIMuS vocabularies cannot express (chord, tuplet, trill, ...)."""


def _pos(step: int) -> str:
    """Staff position name of a step count from the bottom line: 0 -> L1, 1 -> S1, -1 -> S0, -2 -> L0."""
    return f"L{step // 2 + 1}" if step % 2 == 0 else f"S{(step - 1) // 2 + 1}"


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


@dataclass(frozen=True)
class _Clef:
    shape: str
    line: int

    def position(self, pname: str, octave: int) -> int:
        """Steps above the bottom line."""
        return octave * 7 + _STEPS.index(pname) - _CLEF_PITCH[self.shape] + 2 * (self.line - 1)

    def semantic(self) -> list[str]:
        return [f"clef-{self.shape}{self.line}"]

    def agnostic(self, clef: _Clef) -> list[str]:
        return [f"clef.{self.shape}-L{self.line}"]


@dataclass(frozen=True)
class _Key:
    fifths: int

    def alterations(self) -> dict[str, str]:
        order, sign = (_SHARP_ORDER, "#") if self.fifths > 0 else (_FLAT_ORDER, "b")
        return {step: sign for step in order[: abs(self.fifths)]}

    def semantic(self) -> list[str]:
        name = _SHARP_KEYS[self.fifths] if self.fifths >= 0 else _FLAT_KEYS[-self.fifths]
        return [f"keySignature-{name}M"]

    def agnostic(self, clef: _Clef) -> list[str]:
        sharps, flats = _KEY_POSITIONS[(clef.shape, clef.line)]
        kind, positions = ("sharp", sharps) if self.fifths > 0 else ("flat", flats)
        return [f"accidental.{kind}-{p}" for p in positions.split()[: abs(self.fifths)]]


@dataclass(frozen=True)
class _Meter:
    count: int
    unit: int
    sym: str | None  # "C" (common), "C/" (cut) or None

    @property
    def length(self) -> Fraction:
        return Fraction(self.count, self.unit)

    def semantic(self) -> list[str]:
        return [f"timeSignature-{self.sym or f'{self.count}/{self.unit}'}"]

    def agnostic(self, clef: _Clef) -> list[str]:
        if self.sym:
            return [f"metersign.{self.sym}-L3"]
        return [f"digit.{self.count}-L4", f"digit.{self.unit}-L2"]


@dataclass(frozen=True)
class _Note:
    pitch: str  # e.g. "Bb4", sounding under key signature and measure accidentals
    position: int
    accid: str | None  # written (drawn) accidental: sharp, flat or natural
    dur: str
    dots: int
    grace: bool
    fermata: bool
    tie_start: bool
    tie_end: bool
    beam: str | None  # Right (first), Both (inner) or Left (last) member of a beam

    def semantic(self) -> list[str]:
        kind = "gracenote" if self.grace else "note"
        token = f"{kind}-{self.pitch}_{FIGURES[self.dur]}{'.' * self.dots}{'_fermata' if self.fermata else ''}"
        return [token, "tie"] if self.tie_start else [token]

    def agnostic(self, clef: _Clef) -> list[str]:
        pos = _pos(self.position)
        out = ["fermata.above-S6"] if self.fermata else []
        if self.tie_end:
            out.append(f"slur.end-{pos}")
        if self.accid:
            out.append(f"accidental.{self.accid}-{pos}")
        figure = f"beamed{self.beam}{_FLAGS.get(self.dur, 0)}" if self.beam else FIGURES[self.dur]
        out.append(f"{'gracenote' if self.grace else 'note'}.{figure}-{pos}")
        dot_step = self.position + 1 if self.position % 2 == 0 else self.position  # a line note's dot: space above
        out += [f"dot-{_pos(dot_step)}"] * self.dots
        if self.tie_start:
            out.append(f"slur.start-{pos}")
        return out


@dataclass(frozen=True)
class _Rest:
    dur: str
    dots: int
    fermata: bool

    def semantic(self) -> list[str]:
        return [f"rest-{FIGURES[self.dur]}{'.' * self.dots}{'_fermata' if self.fermata else ''}"]

    def agnostic(self, clef: _Clef) -> list[str]:
        out = ["fermata.above-S6"] if self.fermata else []
        out.append(f"rest.{FIGURES[self.dur]}-{'L4' if self.dur == '1' else 'L3'}")
        return out + ["dot-S3"] * self.dots


@dataclass(frozen=True)
class _MultiRest:
    num: int
    fermata: bool
    measure_rest: bool  # an mRest: drawn as a whole rest without a number

    def semantic(self) -> list[str]:
        return [f"multirest-{self.num}"]

    def agnostic(self, clef: _Clef) -> list[str]:
        fermata = ["fermata.above-S6"] if self.fermata else []
        if self.measure_rest:
            return [*fermata, "rest.whole-L4"]
        return [f"digit.{d}-S5" for d in str(self.num)] + fermata + ["multirest-L3"]


@dataclass(frozen=True)
class _Barline:
    def semantic(self) -> list[str]:
        return ["barline"]

    def agnostic(self, clef: _Clef) -> list[str]:
        return ["barline-L1"]


_Event = _Clef | _Key | _Meter | _Note | _Rest | _MultiRest | _Barline


def _clef_of(el: etree._Element) -> _Clef | None:
    if _local(el) == "clef":
        shape, line, dis = el.get("shape"), el.get("line"), el.get("dis")
    elif el.get("clef.shape") is None and (child := el.find(f"{MEI}clef")) is not None:
        shape, line, dis = child.get("shape"), child.get("line"), child.get("dis")
    else:
        shape, line, dis = el.get("clef.shape"), el.get("clef.line"), el.get("clef.dis")
    if shape is None:
        return None
    if dis is not None or line is None or not line.isdigit() or (shape, int(line)) not in _CLEFS:
        raise LabelError(f"clef {shape}{line}{' dis ' + dis if dis else ''} is not in the PrIMuS vocabulary")
    return _Clef(shape, int(line))


def _key_of(el: etree._Element) -> _Key | None:
    sig = el.get("key.sig")
    child = el if _local(el) == "keySig" else el.find(f"{MEI}keySig")
    if sig is None and child is not None:
        sig = child.get("sig")
        if sig is None and child.find(f"{MEI}keyAccid") is not None:
            raise LabelError("irregular key signature (keyAccid)")
    if sig is None:
        return None
    if sig in ("0", "none"):
        return _Key(0)
    if len(sig) < 2 or not sig[:-1].isdigit() or sig[-1] not in "sf":
        raise LabelError(f"key signature {sig!r} is not in the PrIMuS vocabulary")
    fifths = int(sig[:-1]) * (1 if sig[-1] == "s" else -1)
    if not -6 <= fifths <= 7:
        raise LabelError(f"key signature {sig!r} is not in the PrIMuS vocabulary")
    return _Key(fifths)


def _meter_of(el: etree._Element) -> _Meter | None:
    count, unit, sym, form = (el.get(f"meter.{a}") for a in ("count", "unit", "sym", "form"))
    child = el if _local(el) == "meterSig" else el.find(f"{MEI}meterSig")
    if count is None and sym is None and child is not None:
        count, unit, sym, form = (child.get(a) for a in ("count", "unit", "sym", "form"))
    if count is None and sym is None:
        return None
    if sym is not None:
        if sym not in ("common", "cut"):
            raise LabelError(f"meter symbol {sym!r} is not in the PrIMuS vocabulary")
        return _Meter(4, 4, "C") if sym == "common" else _Meter(2, 2, "C/")
    if form not in (None, "norm") or unit is None or not count.isdigit() or not unit.isdigit():
        raise LabelError(f"time signature {count}/{unit} ({form}) is not in the PrIMuS vocabulary")
    return _Meter(int(count), int(unit), None)


def _figure(el: etree._Element, allowed: frozenset[str] = _NOTE_DURS) -> tuple[str, int, Fraction]:
    dur, dots = el.get("dur"), int(el.get("dots", "0"))
    if dur not in allowed:
        raise LabelError(f"<{_local(el)}> with dur={dur!r} is not in the PrIMuS vocabulary")
    return dur, dots, _LENGTHS[dur] * (2 - Fraction(1, 2**dots))


def _id(el: etree._Element) -> str | None:
    return el.get(XML_ID)


def _is_grace(note: etree._Element) -> bool:
    return note.get("grace") is not None or any(_local(a) == "graceGrp" for a in note.iterancestors())


def _beam_roles(beam: etree._Element) -> dict[etree._Element, str]:
    """Right/Both/Left for each note of a beam (PrIMuS agnostic names, after the side the beam leaves to)."""
    notes = list(beam.iter(f"{MEI}note"))
    if len(notes) < 2:
        return {}
    ordinary = [n for n in notes if not _is_grace(n)] or notes
    first, last = ordinary[0], ordinary[-1]
    return {n: "Right" if n is first else "Left" if n is last else "Both" for n in notes}


class _Reader:
    """Walks one MEI score in document order and collects label events."""

    def __init__(self, score: etree._Element) -> None:
        self.events: list[_Event] = []
        self.ties_start: set[str] = set()
        self.ties_end: set[str] = set()
        self.fermatas: set[str] = set()
        self.beam_roles: dict[etree._Element, str] = {}
        self.clef: _Clef | None = None
        self.key = _Key(0)
        self.meter: _Meter | None = None
        self.pending: dict[str, _Event] = {}
        self.measures = 0
        self.last_right: str | None = None
        self.filled = Fraction(0)
        self.accidentals: dict[tuple[str, int], str] = {}
        self.last_pitch: tuple[str, int, str] | None = None
        self._control_events(score)
        self._header(score)
        for section in score.findall(f"{MEI}section"):
            self._section(section)
        if self.measures and self._measure_full() and self.last_right != "invis":
            self.events.append(_Barline())

    def _control_events(self, score: etree._Element) -> None:
        for measure in score.iter(f"{MEI}measure"):
            for el in _children(measure):
                tag = _local(el)
                if tag not in _CONTROL_EVENTS:
                    raise LabelError(f"<{tag}> is not in the PrIMuS vocabulary")
                if tag == "staff":
                    continue
                start, end = el.get("startid", "").lstrip("#"), el.get("endid", "").lstrip("#")
                if not start or (tag == "tie" and not end):
                    raise LabelError(f"<{tag}> without startid/endid")
                if tag == "tie":
                    self.ties_start.add(start)
                    self.ties_end.add(end)
                else:
                    if el.get("place") == "below":
                        raise LabelError("fermata below is not in the PrIMuS vocabulary")
                    self.fermatas.add(start)

    def _header(self, score: etree._Element) -> None:
        score_def = score.find(f"{MEI}scoreDef")
        staff_defs = [] if score_def is None else list(score_def.iter(f"{MEI}staffDef"))
        if len(staff_defs) != 1:
            raise LabelError(f"{len(staff_defs)} staves: PrIMuS incipits have one")
        self.clef = _clef_of(staff_defs[0])
        if self.clef is None:
            raise LabelError("no clef")
        self.events.append(self.clef)
        key = _key_of(score_def) or _key_of(staff_defs[0])
        if key is not None:
            self.key = key
            self.events.append(key)
        self.meter = _meter_of(score_def) or _meter_of(staff_defs[0])
        if self.meter is not None:
            self.events.append(self.meter)

    def _section(self, section: etree._Element) -> None:
        for el in _children(section):
            tag = _local(el)
            if tag == "measure":
                self._measure(el)
            elif tag == "scoreDef":
                self._score_def_change(el)
            elif tag == "section":
                self._section(el)
            elif tag not in ("sb", "pb"):
                raise LabelError(f"<{tag}> is not in the PrIMuS vocabulary")

    def _score_def_change(self, el: etree._Element) -> None:
        for staff_def in el.iter(f"{MEI}staffDef"):
            if (clef := _clef_of(staff_def)) is not None:
                self.pending["clef"] = clef
        staff_def = el.find(f".//{MEI}staffDef")
        for name, read in (("key", _key_of), ("meter", _meter_of)):
            value = read(el) or (read(staff_def) if staff_def is not None else None)
            if value is not None:
                self.pending[name] = value

    def _measure(self, measure: etree._Element) -> None:
        if {measure.get("left"), measure.get("right")} & _REPEATS:
            raise LabelError("repeat barlines are not in the PrIMuS vocabulary")
        staves = measure.findall(f"{MEI}staff")
        layers = [layer for staff in staves for layer in staff.findall(f"{MEI}layer")]
        if len(staves) != 1 or len(layers) != 1:
            raise LabelError("PrIMuS incipits have one staff and one layer")
        if self.measures:
            self.events.append(_Barline())
        self.measures += 1
        self.last_right = measure.get("right")
        self.filled = Fraction(0)
        self.accidentals = {}
        items = _children(layers[0])
        while items and _local(items[0]) == "clef":  # a clef change at the barline precedes key and meter
            if (clef := _clef_of(items.pop(0))) is not None:
                self.pending["clef"] = clef
        for name in ("clef", "key", "meter"):
            if name in self.pending:
                self._change(self.pending.pop(name))
        for el in items:
            self._item(el)

    def _change(self, event: _Event | None) -> None:
        if event is None:
            return
        if isinstance(event, _Clef):
            self.clef = event
        elif isinstance(event, _Key):
            if self.key.fifths and event != self.key:
                raise LabelError("key change that cancels accidentals (naturals are not labelled)")
            self.key = event
        elif isinstance(event, _Meter):
            self.meter = event
        self.events.append(event)

    def _item(self, el: etree._Element, grace: bool = False) -> None:
        tag = _local(el)
        if tag == "note":
            self._note(el, grace)
        elif tag == "rest":
            dur, dots, length = _figure(el, _REST_DURS)
            self.events.append(_Rest(dur, dots, self._fermata(el)))
            self.filled += length
        elif tag in ("mRest", "multiRest"):
            num = int(el.get("num", "1"))
            self.events.append(_MultiRest(num, self._fermata(el), tag == "mRest"))
            self.filled = self.meter.length if self.meter else Fraction(0)
        elif tag in ("beam", "graceGrp"):
            if tag == "beam" and not any(_local(a) == "beam" for a in el.iterancestors()):
                self.beam_roles.update(_beam_roles(el))
            for child in _children(el):
                self._item(child, grace or tag == "graceGrp")
        elif tag in ("clef", "keySig", "meterSig"):
            reader = {"clef": _clef_of, "keySig": _key_of, "meterSig": _meter_of}[tag]
            self._change(reader(el))
        elif tag == "chord":
            raise LabelError("chord: PrIMuS incipits are monophonic")
        elif tag == "tuplet":
            raise LabelError("tuplets are not in the PrIMuS vocabulary")
        else:
            raise LabelError(f"<{tag}> is not in the PrIMuS vocabulary")

    def _fermata(self, el: etree._Element) -> bool:
        if el.get("fermata") == "below":
            raise LabelError("fermata below is not in the PrIMuS vocabulary")
        return _id(el) in self.fermatas or el.get("fermata") is not None

    def _note(self, el: etree._Element, grace: bool) -> None:
        for child in _children(el):
            if _local(child) != "accid":
                raise LabelError(f"<{_local(child)}> in a note is not in the PrIMuS vocabulary")
        pname, octave = el.get("pname"), el.get("oct")
        if pname not in tuple(_STEPS) or octave is None or not octave.isdigit():
            raise LabelError(f"note without a usable pitch: pname={pname!r} oct={octave!r}")
        grace = grace or el.get("grace") is not None
        dur, dots, length = _figure(el)
        note_id, tie = _id(el), el.get("tie")
        tie_start = note_id in self.ties_start or tie in ("i", "m")
        tie_end = note_id in self.ties_end or tie in ("t", "m")
        written, alter = self._alteration(el, pname, int(octave), tie_end)
        fermata = self._fermata(el)
        if grace and fermata:
            raise LabelError("a grace note with a fermata is not in the PrIMuS vocabulary")
        self.events.append(_Note(
            pitch=f"{pname.upper()}{alter}{octave}", position=self.clef.position(pname, int(octave)),
            accid=_WRITTEN[written] if written else None, dur=dur, dots=dots, grace=grace, fermata=fermata,
            tie_start=tie_start, tie_end=tie_end, beam=self.beam_roles.get(el)))
        if not grace:
            self.filled += length

    def _alteration(self, el: etree._Element, pname: str, octave: int, tie_end: bool) -> tuple[str | None, str]:
        """The written accidental (if any) and the sounding one as '#', 'b' or ''.

        ``accid.ges`` wins; without it (MEI of 2017) the written accidental, then the tied-from note, then
        earlier accidentals on the same step and octave in the measure, then the key signature.
        """
        written, gestural = el.get("accid"), el.get("accid.ges")
        for accid in el.findall(f"{MEI}accid"):
            written, gestural = written or accid.get("accid"), gestural or accid.get("accid.ges")
        if written not in (None, *_WRITTEN) or gestural not in (None, *_ALTER):
            raise LabelError(f"accidental {written or gestural!r} is not in the PrIMuS vocabulary")
        if gestural is not None:
            alter = _ALTER[gestural]
        elif written is not None:
            alter = _ALTER[written]
        elif tie_end and self.last_pitch and self.last_pitch[:2] == (pname, octave):
            alter = self.last_pitch[2]
        else:
            alter = self.accidentals.get((pname, octave), self.key.alterations().get(pname, ""))
        if written is not None:
            self.accidentals[(pname, octave)] = _ALTER[written]
        self.last_pitch = (pname, octave, alter)
        return written, alter

    def _measure_full(self) -> bool:
        if self.meter is None:
            raise LabelError("no time signature: PrIMuS's final barline depends on it")
        return self.filled == self.meter.length


def _read(mei: str) -> list[_Event]:
    try:
        root = etree.fromstring(mei.encode("utf-8"), etree.XMLParser(remove_comments=True))
    except etree.XMLSyntaxError as exc:
        raise LabelError(f"not well-formed MEI: {exc}") from exc
    score = root.find(f".//{MEI}score")
    if score is None:
        raise LabelError("no <score> in the MEI")
    return _Reader(score).events


def _render(events: list[_Event], agnostic: bool) -> list[str]:
    out: list[str] = []
    clef = events[0]
    for event in events:
        if isinstance(event, _Clef):
            clef = event
        out += event.agnostic(clef) if agnostic else event.semantic()
    return out


def mei_to_labels(mei: str) -> tuple[list[str], list[str]]:
    """(semantic, agnostic) PrIMuS tokens of one MEI document, parsed once."""
    events = _read(mei)
    return _render(events, agnostic=False), _render(events, agnostic=True)


def mei_to_semantic(mei: str) -> list[str]:
    """PrIMuS semantic tokens (``clef-G2``, ``note-Bb4_quarter.``, ``barline``, ...) of one MEI document."""
    return _render(_read(mei), agnostic=False)


def mei_to_agnostic(mei: str) -> list[str]:
    """PrIMuS agnostic tokens (``clef.G-L2``, ``note.beamedRight1-S3``, ``dot-S4``, ...) of one MEI document."""
    return _render(_read(mei), agnostic=True)
