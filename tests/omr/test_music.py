"""Round trips: semantic tokens → MusicXML / MIDI → parsed back with music21 → the same music."""
from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from recognize.omr.music import to_midi, to_musicxml, to_score
from recognize.omr.tokens import Symbol, parse, problems, split_tokens

converter = pytest.importorskip("music21.converter")
midi = pytest.importorskip("music21.midi")

PRIMUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "primus"

SEQUENCES = {
    "pickup, key, ties, grace, fermata, multirest": (
        "clef-C1 keySignature-EbM timeSignature-3/4 note-Bb4_quarter tie barline note-Bb4_quarter. "
        "gracenote-C5_eighth note-D5_eighth_fermata rest-quarter_fermata barline multirest-3 barline "
        "rest-whole barline note-E4_half tie note-E4_eighth note-E4_eighth barline note-Eb4_half. barline"),
    "common time, double dots, tie chain": (
        "clef-G2 keySignature-AM timeSignature-C note-C#5_quarter.. note-B4_sixteenth note-A4_half tie barline "
        "note-A4_whole tie barline note-A4_quarter note-G#4_eighth. note-F#4_sixteenth note-E4_half"),
    "cut time, sharps against the key": (
        "clef-G1 keySignature-FM timeSignature-C/ note-F5_half note-B4_half barline note-Bb4_whole_fermata barline"),
    "bass clef, 6/8 pickup, multirest-1": (
        "clef-F4 keySignature-GbM timeSignature-6/8 rest-eighth note-Db3_eighth barline multirest-1 barline "
        "note-Gb2_quarter. note-Ab2_eighth note-Bb2_sixteenth note-Cb3_sixteenth"),
    "alto clef, 3/2, grace before rest, breve, long": (
        "clef-C3 timeSignature-3/2 gracenote-G4_sixteenth rest-half note-A4_whole barline note-C4_double_whole "
        "barline timeSignature-4/1 note-D4_quadruple_whole"),
    "tenor, baritone, sub-bass, F3 clefs and key/time changes": (
        "clef-C4 keySignature-DM timeSignature-2/4 note-D4_quarter note-E4_quarter barline clef-C5 note-F#3_half "
        "barline keySignature-BbM timeSignature-3/8 clef-F5 note-Bb2_quarter. barline clef-F3 note-A2_eighth "
        "note-G2_sixteenth note-F2_thirty_second note-E2_sixty_fourth note-D2_hundred_twenty_eighth "
        "rest-hundred_twenty_eighth"),
    "mezzo-soprano clef, no key, no time": "clef-C2 note-G4_eighth gracenote-A4_eighth note-F4_eighth barline",
}

CLEF_SHAPES = {"C1": ("C", 1), "C2": ("C", 2), "C3": ("C", 3), "C4": ("C", 4), "C5": ("C", 5),
               "F3": ("F", 3), "F4": ("F", 4), "F5": ("F", 5), "G1": ("G", 1), "G2": ("G", 2)}


def real_sequences() -> dict[str, str]:
    if not PRIMUS.is_dir():
        return {}
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(PRIMUS.glob("*/*.semantic"))}


ALL = {**SEQUENCES, **real_sequences()}


def test_the_sequences_cover_every_feature():
    syms = [s for text in SEQUENCES.values() for s in parse(text.split())]
    assert {s.clef for s in syms if s.kind == "clef"} == set(CLEF_SHAPES)
    assert {s.time for s in syms if s.kind == "time"} >= {"C", "C/", "3/4", "6/8", "3/2", "2/4"}
    assert {s.duration for s in syms if s.kind in ("note", "rest")} >= {"quadruple_whole", "double_whole", "whole",
                                                                        "hundred_twenty_eighth"}
    assert {s.dots for s in syms} == {0, 1, 2}
    assert {s.kind for s in syms} == {"clef", "key", "time", "note", "gracenote", "rest", "multirest",
                                      "barline", "tie"}
    assert any(s.fermata and s.kind == "note" for s in syms) and any(s.fermata and s.kind == "rest" for s in syms)
    for text in SEQUENCES.values():
        assert problems(text.split()) == []


# ------------------------------------------------------------------------------ what the tokens say

def expected_events(tokens: list[str]) -> list[tuple]:
    """(kind, (step, alter, octave) | None, quarter length) in order; ties merged, a lone whole rest and
    each multirest measure lasting a full bar (4 quarters without a time signature)."""
    events: list[list] = []
    bar: Fraction | None = None
    measure_start, tie = 0, False
    for s in [*parse(tokens), Symbol("barline", "barline")]:
        if s.kind == "time":
            bar = s.bar_length
        elif s.kind == "tie":
            tie = True
        elif s.kind == "note" and tie:
            events[-1][2] += s.quarter_length
            tie = False
        elif s.kind in ("note", "gracenote"):
            events.append([s.kind, (s.step, s.alter, s.octave), s.quarter_length if s.kind == "note" else 0])
        elif s.kind == "rest":
            events.append(["rest", None, s.quarter_length])
        elif s.kind == "multirest":
            events += [["rest", None, bar or 4] for _ in range(s.count)]
        elif s.kind == "barline":
            measure = events[measure_start:]
            if bar and len(measure) == 1 and measure[0][0] == "rest" and measure[0][2] == 4:
                measure[0][2] = bar  # the whole-measure rest
            measure_start = len(events)
    return [(k, p, Fraction(q)) for k, p, q in events]


def expected_sounding(tokens: list[str]) -> list[tuple[int, Fraction, Fraction]]:
    """(MIDI pitch, onset, length) of the sounding notes: graces dropped, ties merged."""
    out, t = [], Fraction(0)
    for kind, p, q in expected_events(tokens):
        if kind == "note":
            step, alter, octave = p
            out.append((12 * (octave + 1) + "C D EF G A B".index(step) + alter, t, q))
        t += q
    return out


# ------------------------------------------------------------------------------ what comes back

def events_of(score) -> list[tuple]:
    out = []
    for n in score.parts[0].stripTies().recurse().notesAndRests:
        if n.isRest:
            out.append(("rest", None, Fraction(n.quarterLength)))
        else:
            kind = "gracenote" if n.duration.isGrace else "note"
            out.append((kind, (n.pitch.step, int(n.pitch.alter), n.pitch.octave), Fraction(n.quarterLength)))
    return out


def reparse_xml(tokens: list[str]):
    text, warnings = to_musicxml(tokens)
    assert text.startswith("<?xml") and "<score-partwise" in text
    return converter.parseData(text, format="musicxml"), warnings


def reparse_midi(data: bytes):
    return midi.translate.midiStringToStream(data, quantizePost=False)


def first_measure(score):
    return score.parts[0].getElementsByClass("Measure").first()


@pytest.mark.parametrize("name", ALL)
def test_musicxml_round_trip_keeps_pitches_and_durations(name):
    tokens = split_tokens(ALL[name])
    score, warnings = reparse_xml(tokens)
    assert warnings == problems(tokens)
    assert events_of(score) == expected_events(tokens)


@pytest.mark.parametrize("name", ALL)
def test_musicxml_round_trip_keeps_clef_key_time_and_pickup(name):
    tokens = split_tokens(ALL[name])
    syms = parse(tokens)
    score, _ = reparse_xml(tokens)
    part = score.parts[0]
    clefs = [(c.sign, c.line) for c in part.recurse().getElementsByClass("Clef")]
    assert clefs == [CLEF_SHAPES[s.clef] for s in syms if s.kind == "clef"]
    keys = [k.sharps for k in part.recurse().getElementsByClass("KeySignature")]
    assert keys == [s.fifths for s in syms if s.kind == "key"]
    times = [(t.numerator, t.denominator, t.symbol) for t in part.recurse().getElementsByClass("TimeSignature")]
    symbols = {"C": "common", "C/": "cut"}
    expected = [(*s.meter, symbols.get(s.time, "")) for s in syms if s.kind == "time"]
    assert times == expected
    # pickup: a first measure shorter than the bar is measure 0, padded on the left
    first = first_measure(score)
    own, _ = to_score(tokens)
    bar = next((s.bar_length for s in syms if s.kind == "time"), None)
    length = sum(q for _, _, q in expected_events(tokens[:_first_barline(tokens)]))
    if bar is not None and 0 < length < bar:
        assert first.number == 0 and first_measure(own).number == 0
        assert Fraction(first.paddingLeft) == Fraction(first_measure(own).paddingLeft) == bar - length
    else:
        assert first.number == first_measure(own).number == 1
        assert first.paddingLeft == first_measure(own).paddingLeft == 0


def _first_barline(tokens: list[str]) -> int:
    return tokens.index("barline") if "barline" in tokens else len(tokens)


@pytest.mark.parametrize("name", ALL)
def test_midi_round_trip_keeps_sounding_pitches_and_durations(name):
    tokens = split_tokens(ALL[name])
    data, warnings = to_midi(tokens)
    assert data[:4] == b"MThd" and warnings == problems(tokens)
    notes = reparse_midi(data).flatten().stripTies().notes  # the MIDI reader splits notes at its barlines
    got = [(n.pitch.midi, Fraction(n.offset), Fraction(n.quarterLength)) for n in notes]
    assert got == expected_sounding(tokens)


def note_ons(data: bytes) -> int:
    mf = midi.MidiFile()
    mf.readstr(data)
    return sum(1 for tr in mf.tracks for ev in tr.events
               if ev.type == midi.ChannelVoiceMessages.NOTE_ON and ev.velocity > 0)


def test_midi_has_one_note_per_tied_group_no_graces_and_the_tempo():
    tokens = SEQUENCES["common time, double dots, tie chain"].split()
    data, _ = to_midi(tokens)
    assert note_ons(data) == len(expected_sounding(tokens)) == 6
    tokens = SEQUENCES["pickup, key, ties, grace, fermata, multirest"].split()
    assert note_ons(to_midi(tokens)[0]) == 5
    for qpm in (100, 60):
        marks = reparse_midi(to_midi(tokens, tempo_qpm=qpm)[0]).recurse().getElementsByClass("MetronomeMark")
        assert [m.number for m in marks] == [qpm]


def test_musicxml_details():
    score, _ = reparse_xml(SEQUENCES["pickup, key, ties, grace, fermata, multirest"].split())
    part = score.parts[0]
    assert [m.number for m in part.getElementsByClass("Measure")] == list(range(8))
    notes = list(part.recurse().notesAndRests)
    fermatas = [n for n in notes if any(e.name == "fermata" for e in n.expressions)]
    assert [(n.isRest, fermatas[0].expressions[0].type) for n in fermatas] == [(False, "upright"), (True, "upright")]
    assert [n.duration.isGrace for n in notes].count(True) == 1
    e4 = [n for n in notes if n.isNote and n.pitch.nameWithOctave == "E4"]
    assert len(e4) == 3 and all(n.pitch.alter == 0 for n in e4)
    assert e4[0].pitch.accidental.name == "natural" and e4[0].pitch.accidental.displayStatus  # against E-flat major
    full = [n for n in notes if n.isRest and n.fullMeasure is True]
    assert len(full) == 4 and all(n.quarterLength == 3 for n in full)


def test_musicxml_marks_pickup_implicit_and_multirest():
    text, _ = to_musicxml(SEQUENCES["pickup, key, ties, grace, fermata, multirest"].split())
    assert '<measure implicit="yes" number="0">' in text
    assert '<multiple-rest use-symbols="no">3</multiple-rest>' in text
    assert text.count('<rest measure="yes" />') == 4
    assert '<fermata type="upright" />' in text


def test_overfull_measures_stay_as_written():
    # music21's own makeNotation would push the overflow into the next measure, on top of its notes
    tokens = ("clef-G2 timeSignature-3/2 note-C5_half note-C5_half note-C5_half note-D5_quarter barline "
              "note-E5_whole").split()
    score, _ = reparse_xml(tokens)
    measures = score.parts[0].getElementsByClass("Measure")
    assert [len(m.notes) for m in measures] == [4, 1]
    assert events_of(score) == expected_events(tokens)


def test_verovio_reads_the_musicxml():
    verovio = pytest.importorskip("verovio")
    text, _ = to_musicxml(SEQUENCES["pickup, key, ties, grace, fermata, multirest"].split())
    tk = verovio.toolkit()
    assert tk.loadData(text)
    mei = tk.getMEI()
    assert '<multiRest' in mei and 'num="3"' in mei and "<mRest" in mei
    assert mei.count("<tie ") == 2 and mei.count("<fermata ") == 2 and 'grace="' in mei
    assert 'metcon="false" n="0"' in mei  # the pickup measure


@pytest.mark.parametrize("tokens", [[], ["foo", "bar"], ["clef-G2"], ["tie", "barline", "barline"]])
def test_unusable_sequences_still_give_a_valid_score(tokens):
    score, warnings = reparse_xml(tokens)
    assert warnings and warnings == problems(tokens)
    assert len(score.parts[0].getElementsByClass("Measure")) == 1
    data, _ = to_midi(tokens)
    assert data[:4] == b"MThd" and note_ons(data) == 0


def test_invalid_tokens_are_skipped_with_a_warning():
    tokens = "clef-G2 timeSignature-2/4 note-C5_quarter note-Q5_quarter note-D5_quarter tie note-E5_quarter".split()
    score, warnings = reparse_xml(tokens)
    assert any("note-Q5_quarter" in w for w in warnings) and any("joins D5 and E5" in w for w in warnings)
    assert [n.nameWithOctave for n in score.recurse().notes] == ["C5", "D5", "E5"]
    assert all(n.tie is None for n in score.recurse().notes)


def test_import_is_cheap_and_nothing_is_written(tmp_path):
    """music21 is imported on first use, and converting writes no file (HOME, cwd, temp dir)."""
    home, work, tmp = (tmp_path / d for d in ("home", "work", "tmp"))
    for d in (home, work, tmp):
        d.mkdir()
    code = ("import sys; import recognize.omr.music as m; assert 'music21' not in sys.modules; "
            "m.to_musicxml(['clef-G2', 'note-C4_quarter']); m.to_midi(['clef-G2', 'note-C4_quarter'])")
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp), "XDG_CONFIG_HOME": str(home / ".config")}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    subprocess.run([sys.executable, "-c", code], cwd=work, env=env, check=True, timeout=60)
    assert [p for d in (home, work, tmp) for p in d.rglob("*")] == []


def test_grace_notes_only_measures_join_the_next_measure_or_are_dropped_at_the_end():
    tokens = "clef-G2 note-C4_quarter barline gracenote-D4_eighth barline note-E4_quarter barline gracenote-F4_eighth"
    score, warnings = reparse_xml(tokens.split())
    assert sum("has only grace notes" in w for w in warnings) == 2
    measures = score.parts[0].getElementsByClass("Measure")
    assert [[n.nameWithOctave for n in m.notes] for m in measures] == [["C4"], ["D4", "E4"]]


def test_music21_notices_stay_off_stderr(capfd):
    to_musicxml("clef-G2 timeSignature-C note-A3_quarter note-A#3_sixteenth note-A#3_sixteenth.".split())
    assert capfd.readouterr().err == ""


@pytest.mark.filterwarnings("ignore:.*is overfull")  # music21's reader on measures 3 tokens long
def test_every_primus_spelling_duration_clef_key_and_meter_converts(capfd):
    """Each pitch spelling, duration suffix, clef, key, rest and time signature of the PrIMuS vocabulary."""
    if not PRIMUS.is_dir():
        pytest.skip(f"no PrIMuS vocabulary at {PRIMUS}")
    syms = parse(split_tokens((PRIMUS / "vocabulary_semantic.txt").read_text(encoding="utf-8")))
    seen: set[tuple] = set()
    body = ["clef-G2", "timeSignature-4/4"]
    for s in syms:
        if s.kind in ("note", "gracenote"):
            keys = {(s.kind, s.pitch), (s.kind, s.duration, s.dots, s.fermata)}
            if keys <= seen:
                continue
            seen |= keys
        if s.kind in ("clef", "key", "note", "gracenote", "rest"):
            body += [s.token, "barline"] if len(body) % 4 == 0 else [s.token]
    sequences = [body] + [["clef-G2", s.token, "note-C4_quarter", "barline", "multirest-2", "barline", "rest-whole",
                           "barline", "note-D4_eighth"] for s in syms if s.kind == "time"]
    for tokens in sequences:
        score, _ = reparse_xml(tokens)
        assert events_of(score) == expected_events(tokens)
        assert note_ons(to_midi(tokens)[0]) == len(expected_sounding(tokens))
    assert len(body) > 300 and capfd.readouterr().err == ""
