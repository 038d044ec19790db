"""Semantic tokens → music21 score → MusicXML text or Standard MIDI bytes.

music21 is imported lazily (about 0.5 s). Everything is built and written in memory: nothing is
written to disk, no user configuration is read or created, no window is opened, nothing is fetched.
Invalid tokens are skipped with a warning; a sequence with nothing usable still gives a valid score
(one empty measure).
"""
from __future__ import annotations

import contextlib
import io
import warnings as pywarnings
from collections.abc import Iterator
from fractions import Fraction
from typing import TYPE_CHECKING

from .tokens import Symbol, TokenError, is_measure_rest, parse_token, problems

if TYPE_CHECKING:
    from music21 import note, stream

M21_DURATIONS = {
    "quadruple_whole": "longa", "double_whole": "breve", "whole": "whole", "half": "half", "quarter": "quarter",
    "eighth": "eighth", "sixteenth": "16th", "thirty_second": "32nd", "sixty_fourth": "64th",
    "hundred_twenty_eighth": "128th",
}
"""Semantic duration names → music21 duration types."""

DEFAULT_BAR = Fraction(4)  # length of a multirest's measures before any time signature


def to_score(tokens: list[str]) -> tuple[stream.Score, list[str]]:
    """A one-part music21 Score, and warnings: ``problems(tokens)``, which also names everything the
    score leaves out (invalid tokens, ties that do not join two notes of the same pitch, grace notes
    with no main note after them)."""
    return _build(tokens, for_midi=False)


def _build(tokens: list[str], for_midi: bool) -> tuple[stream.Score, list[str]]:
    warnings = problems(tokens)
    builder = _Builder(for_midi)
    for tok in tokens:
        try:
            sym = parse_token(tok)
        except TokenError:
            continue  # already reported by problems()
        builder.add(sym)
    return builder.finish(), warnings


def to_musicxml(tokens: list[str]) -> tuple[str, list[str]]:
    """MusicXML (partwise, UTF-8 text) and warnings."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    with _quiet():
        score, warnings = to_score(tokens)
        _notate(score)
        exporter = GeneralObjectExporter(score)
        exporter.makeNotation = False  # music21's would split overfull measures and misplace the overflow
        return exporter.parse().decode("utf-8"), warnings


def _notate(score: stream.Score) -> None:
    """The notation steps of music21's makeNotation that keep measures as they are: accidentals
    (naturals against the key, none repeated in a measure) and beams."""
    from music21.exceptions21 import Music21Exception

    for part in score.parts:
        part.makeAccidentals(inPlace=True)
        try:
            part.makeBeams(inPlace=True)
        except Music21Exception:  # odd meters (2/48) or overfull measures: leave unbeamed
            pass


def to_midi(tokens: list[str], tempo_qpm: float = 100) -> tuple[bytes, list[str]]:
    """Standard MIDI file bytes and warnings. Grace notes are left out (music21's MIDI writer
    mishandles them); music21 writes tied notes as one sounding note."""
    from music21 import midi, tempo

    with _quiet():
        score, warnings = _build(tokens, for_midi=True)
        first = score.parts[0].getElementsByClass("Measure").first()
        first.insert(0, tempo.MetronomeMark(number=tempo_qpm))
        return midi.translate.streamToMidiFile(score).writestr(), warnings


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence music21's own notices: it prints some straight to stderr (e.g. "beam: WARNING: Found a
    messed up beam pair" for irregular rhythms). The caller gets ``problems()`` instead. Swaps the
    process-wide sys.stderr for the duration: safe across processes, not across threads."""
    with pywarnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        pywarnings.simplefilter("ignore")
        yield


def _m21():
    """The music21 modules the builder needs (imported on first use)."""
    from music21 import clef, duration, expressions, key, meter, note, spanner, stream, tie

    return clef, duration, expressions, key, meter, note, spanner, stream, tie


def _ql(x: Fraction) -> float | Fraction:
    """A quarter length as music21 stores it (float when exact in binary, else Fraction)."""
    from music21.common.numberTools import opFrac

    return opFrac(x)


class _Builder:
    """Turns parsed symbols into measures: each barline closes one, what follows the last goes in a final one."""

    def __init__(self, for_midi: bool = False) -> None:
        self.for_midi = for_midi  # leave out grace notes (mishandled by music21's MIDI writer) and rest spanners
        (self.clef, self.duration, self.expressions, self.key, self.meter, self.note, self.spanner,
         self.stream, self.tie) = _m21()
        self.measures: list[stream.Measure] = []
        self.bars: list[Fraction | None] = []  # bar length in force in each closed measure
        self.current = self.stream.Measure()
        self.content: list[Symbol] = []  # timed symbols of the current measure
        self.bar: Fraction | None = None
        self.multirest = False  # the current measure is one of a multirest's
        self.last_note: note.Note | None = None  # the previous symbol, if it was a note
        self.tie_from: note.Note | None = None  # note waiting for the end of its tie
        self.rest_spanners: list = []

    # -- symbols
    def add(self, sym: Symbol) -> None:
        if self.multirest and sym.kind not in ("barline", "multirest"):
            self._close()  # a multirest's measures take nothing else
        if sym.kind in ("gracenote", "rest", "multirest"):
            self.tie_from = None  # a tie only joins two notes
        if sym.kind not in ("tie", "barline"):
            self.last_note = None
        getattr(self, f"_{sym.kind}")(sym)

    def _clef(self, sym: Symbol) -> None:
        self.current.append(self.clef.clefFromString(sym.clef))

    def _key(self, sym: Symbol) -> None:
        tonic = sym.tonic.replace("b", "-")
        self.current.append(self.key.Key(tonic, "major"))

    def _time(self, sym: Symbol) -> None:
        beats, beat_type = sym.meter
        ts = self.meter.TimeSignature(f"{beats}/{beat_type}")
        if sym.time in ("C", "C/"):
            ts.symbol = "common" if sym.time == "C" else "cut"
        self.current.append(ts)
        self.bar = sym.bar_length

    def _note(self, sym: Symbol) -> None:
        n = self.note.Note(_pitch_name(sym))
        if sym.accidental == "N":
            n.pitch.accidental = "natural"
        n.duration = self._duration(sym)
        self._fermata(n, sym)
        if self.tie_from is not None:
            self._join(self.tie_from, n)
        self.current.append(n)
        self.content.append(sym)
        self.last_note = n

    def _gracenote(self, sym: Symbol) -> None:
        if not self.for_midi:
            n = self.note.Note(_pitch_name(sym))
            n.duration = self._duration(sym)
            self.current.append(n.getGrace())
        self.content.append(sym)

    def _rest(self, sym: Symbol) -> None:
        r = self.note.Rest()
        r.duration = self._duration(sym)
        self._fermata(r, sym)
        self.current.append(r)
        self.content.append(sym)

    def _multirest(self, sym: Symbol) -> None:
        if self._timed():
            self._close()
        rests = []
        for k in range(sym.count):
            if k:
                self._close()
            r = self.note.Rest(quarterLength=_ql(self.bar or DEFAULT_BAR))
            r.fullMeasure = True
            self.current.append(r)
            rests.append(r)
        self.content.append(sym)
        self.multirest = True
        if not self.for_midi and len(rests) > 1:  # shown as one multi-measure rest (MusicXML <multiple-rest>)
            spanner = self.spanner.MultiMeasureRest(rests)
            spanner.useSymbols = False  # an H-bar with the count, as PrIMuS engraves it
            self.rest_spanners.append(spanner)

    def _barline(self, sym: Symbol) -> None:
        if not self._timed():
            return  # nothing to close: clefs, signatures and grace notes stay for the next measure
        self._close()

    def _tie(self, sym: Symbol) -> None:
        self.tie_from = self.last_note  # None (no tie) if the tie does not follow a note

    def _join(self, first: note.Note, second: note.Note) -> None:
        """Tie ``first`` to ``second`` if they have the same pitch."""
        self.tie_from = None
        if first.pitch.ps != second.pitch.ps:
            return
        first.tie = self.tie.Tie("continue" if first.tie is not None else "start")
        second.tie = self.tie.Tie("stop")

    # -- helpers
    def _timed(self) -> bool:
        """Whether the current measure has notes or rests (grace notes alone do not make a measure)."""
        return any(s.kind != "gracenote" for s in self.content)

    def _duration(self, sym: Symbol):
        return self.duration.Duration(M21_DURATIONS[sym.duration], dots=sym.dots)

    def _fermata(self, n: note.GeneralNote, sym: Symbol) -> None:
        if sym.fermata:
            fermata = self.expressions.Fermata()
            fermata.type = "upright"  # music21 defaults to "inverted" (below the staff)
            n.expressions.append(fermata)

    def _close(self) -> None:
        if self.content and self.bar is not None and is_measure_rest(self.content):
            r = self.current.notesAndRests.first()  # a whole rest: the whole-measure rest, whatever the bar
            r.duration = self.duration.Duration(quarterLength=_ql(self.bar))
            r.fullMeasure = True
        self.measures.append(self.current)
        self.bars.append(self.bar)
        self.current = self.stream.Measure()
        self.content = []
        self.multirest = False

    def finish(self) -> stream.Score:
        timed = self._timed()
        if not timed:  # grace notes with no main note are dropped (a measure of only those trips music21)
            for el in [el for el in self.current if el.duration.isGrace]:
                self.current.remove(el)
            self.content = []
        if timed or not self.measures:
            self._close()  # content after the last barline, or the only (maybe empty) measure
        else:  # clefs and signatures after the last barline end the last measure
            last = self.measures[-1]
            for el in list(self.current):
                last.append(el)
        self._number()
        part = self.stream.Part()
        for m in self.measures:
            part.append(m)
        for sp in self.rest_spanners:
            part.insert(0, sp)
        score = self.stream.Score()
        score.insert(0, part)
        return score

    def _number(self) -> None:
        """Number measures from 1, or from 0 after a pickup (a short first measure, as music21 reads one);
        pad the short first and last measures to the bar."""
        first, bar = self.measures[0], self.bars[0]
        pickup = bar is not None and 0 < first.highestTime < bar
        if pickup:
            first.paddingLeft = _ql(bar - Fraction(first.highestTime))
            first.showNumber = self.stream.enums.ShowNumber.NEVER  # MusicXML implicit="yes"
        for k, m in enumerate(self.measures):
            m.number = k if pickup else k + 1
        last, bar = self.measures[-1], self.bars[-1]
        if len(self.measures) > 1 and bar is not None and 0 < last.highestTime < bar:
            last.paddingRight = _ql(bar - Fraction(last.highestTime))


def _pitch_name(sym: Symbol) -> str:
    """music21 pitch name: Bb4 → B-4, F## → F##; a natural is set separately."""
    acc = {"b": "-", "bb": "--", "N": ""}.get(sym.accidental, sym.accidental)
    return f"{sym.step}{acc}{sym.octave}"
