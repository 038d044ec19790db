from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from recognize.omr.tokens import (
    DURATIONS,
    Symbol,
    TokenError,
    parse,
    parse_token,
    problems,
    quarter_length,
    read_vocabulary,
    split_tokens,
)

PRIMUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "primus"


def real_files() -> list[Path]:
    if not PRIMUS.is_dir():
        pytest.skip(f"no PrIMuS samples at {PRIMUS}")
    return sorted(PRIMUS.glob("*/*.semantic"))


# ------------------------------------------------------------------------------------------ grammar

def test_durations_in_order_with_quarter_lengths():
    assert list(DURATIONS) == ["quadruple_whole", "double_whole", "whole", "half", "quarter", "eighth",
                               "sixteenth", "thirty_second", "sixty_fourth", "hundred_twenty_eighth"]
    values = list(DURATIONS.values())
    assert values[0] == 16 and values[4] == 1 and values[-1] == Fraction(1, 32)
    assert all(a == 2 * b for a, b in zip(values, values[1:]))


@pytest.mark.parametrize(("duration", "dots", "expected"), [
    ("quarter", 0, 1), ("quarter", 1, 1.5), ("quarter", 2, 1.75), ("eighth", 1, 0.75),
    ("half", 2, 3.5), ("double_whole", 1, 12), ("hundred_twenty_eighth", 0, 0.03125),
])
def test_quarter_length(duration, dots, expected):
    assert quarter_length(duration, dots) == expected


def test_note_with_accidental_dots_and_fermata():
    s = parse_token("note-Bb4_quarter._fermata")
    assert (s.kind, s.step, s.accidental, s.alter, s.octave) == ("note", "B", "b", -1, 4)
    assert (s.duration, s.dots, s.fermata, s.quarter_length) == ("quarter", 1, True, 1.5)
    assert s.pitch == "Bb4" and s.midi == 70


@pytest.mark.parametrize(("tok", "alter", "midi"), [
    ("note-C4_quarter", 0, 60), ("note-C#4_quarter", 1, 61), ("note-Cb4_quarter", -1, 59),
    ("note-F##4_half", 2, 67), ("note-Ebb5_half", -2, 74), ("note-EN4_eighth", 0, 64), ("note-A1_whole", 0, 33),
])
def test_pitch_spellings(tok, alter, midi):
    s = parse_token(tok)
    assert s.alter == alter and s.midi == midi


def test_other_kinds():
    g = parse_token("gracenote-C#5_eighth..")
    assert (g.kind, g.pitch, g.dots, g.quarter_length) == ("gracenote", "C#5", 2, 0.875)
    r = parse_token("rest-half._fermata")
    assert (r.kind, r.duration, r.dots, r.fermata) == ("rest", "half", 1, True)
    assert parse_token("multirest-1111") == Symbol("multirest", "multirest-1111", count=1111)
    assert parse_token("barline").kind == "barline" and parse_token("tie").kind == "tie"


@pytest.mark.parametrize("name", ["C1", "C2", "C3", "C4", "C5", "F3", "F4", "F5", "G1", "G2"])
def test_clefs(name):
    s = parse_token(f"clef-{name}")
    assert (s.kind, s.clef, s.clef_shape, s.clef_line) == ("clef", name, name[0], int(name[1]))


@pytest.mark.parametrize(("name", "fifths"), [
    ("CM", 0), ("GM", 1), ("F#M", 6), ("C#M", 7), ("FM", -1), ("EbM", -3), ("GbM", -6), ("CbM", -7),
])
def test_keys(name, fifths):
    s = parse_token(f"keySignature-{name}")
    assert (s.kind, s.key, s.fifths) == ("key", name, fifths)


@pytest.mark.parametrize(("text", "meter", "bar"), [
    ("C", (4, 4), 4), ("C/", (2, 2), 4), ("3/4", (3, 4), 3), ("6/8", (6, 8), 3), ("3/2", (3, 2), 6),
    ("12/16", (12, 16), 3), ("2/48", (2, 48), Fraction(1, 6)),
])
def test_time_signatures(text, meter, bar):
    s = parse_token(f"timeSignature-{text}")
    assert (s.kind, s.time, s.meter, s.bar_length) == ("time", text, meter, bar)


@pytest.mark.parametrize("tok", [
    "", "note", "note-H4_quarter", "note-C4_crotchet", "note-C4", "note-C#_quarter", "note-C4_quarter_staccato",
    "note-Cx4_quarter", "gracenote-C4_eighth_fermata", "rest-quarter....", "rest-C4_quarter", "multirest-0",
    "multirest-x", "clef-G3", "clef-X2", "keySignature-Am", "keySignature-E#M", "keySignature-H",
    "timeSignature-0/4", "timeSignature-3/", "timeSignature-C//", "Barline", "tie-", "slur",
])
def test_invalid_tokens_raise_naming_the_token(tok):
    with pytest.raises(TokenError) as e:
        parse_token(tok)
    assert repr(tok) in str(e.value)
    assert isinstance(e.value, ValueError)


def test_parse_stops_at_the_first_bad_token():
    assert [s.kind for s in parse(["clef-G2", "note-C4_quarter", "barline"])] == ["clef", "note", "barline"]
    with pytest.raises(TokenError, match="note-X4"):
        parse(["clef-G2", "note-X4_quarter"])


def test_split_tokens():
    assert split_tokens("clef-G2\tnote-C4_quarter\tbarline\t\n") == ["clef-G2", "note-C4_quarter", "barline"]
    assert split_tokens(" a  b\n c ") == ["a", "b", "c"]
    assert split_tokens("\t\n") == []


def test_read_vocabulary(tmp_path):
    path = tmp_path / "vocabulary.txt"
    path.write_text("barline\nclef-G2\n\nnote-C4_quarter\n", encoding="utf-8")
    assert read_vocabulary(path) == ["barline", "clef-G2", "note-C4_quarter"]


def test_the_whole_primus_vocabulary_parses():
    real_files()
    vocab = read_vocabulary(PRIMUS / "vocabulary_semantic.txt")
    assert len(vocab) == 1781
    kinds = [s.kind for s in parse(vocab)]
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "note": 1384, "gracenote": 210, "multirest": 98, "time": 39, "rest": 24, "key": 14, "clef": 10,
        "barline": 1, "tie": 1}


# ------------------------------------------------------------------------------------------ problems

VALID = {
    "plain": "clef-G2 keySignature-DM timeSignature-3/4 note-F#4_quarter note-A4_half barline note-D5_half. barline",
    "pickup, short last measure": "clef-F4 timeSignature-6/8 note-C3_eighth barline note-E3_quarter. rest-quarter. "
                                  "barline note-G3_quarter",
    "no key, no time": "clef-C3 note-C4_whole note-D4_half barline note-E4_double_whole",
    "tie across a barline": "clef-G2 timeSignature-2/4 note-E5_half tie barline note-E5_quarter note-D5_quarter",
    "tie chain": "clef-G2 timeSignature-C note-C5_whole tie barline note-C5_whole tie barline note-C5_half",
    "grace notes, fermatas": "clef-G1 timeSignature-C/ gracenote-D5_sixteenth note-C5_half_fermata "
                             "rest-half._fermata barline",
    "multirest, changes at barlines": "clef-C1 keySignature-EbM timeSignature-2/4 multirest-23 barline "
                                      "keySignature-GM timeSignature-3/8 clef-G2 note-B4_quarter. barline",
    "mid-measure clef change": "clef-G2 timeSignature-2/4 note-C5_quarter clef-F4 note-C3_quarter barline",
    "whole rest fills a 3/4 bar": "clef-G2 timeSignature-3/4 rest-whole barline note-C5_half.",
    "triplets, unencoded": "clef-G2 timeSignature-2/4 note-C5_eighth note-D5_eighth note-E5_eighth "
                           "note-F5_eighth note-G5_eighth note-A5_eighth barline",
    "odd meter": "clef-G2 timeSignature-2/48 note-C5_quarter note-C5_quarter note-C5_quarter barline",
}


@pytest.mark.parametrize("name", VALID)
def test_valid_sequences_have_no_problems(name):
    assert problems(VALID[name].split()) == []


def test_real_primus_files_have_no_problems():
    files = real_files()
    assert files
    for path in files:
        assert problems(split_tokens(path.read_text(encoding="utf-8"))) == [], path.name


INVALID = [
    ("", "empty sequence"),
    ("clef-G2 note-C4_quarter note-C4_sharp", "token 3: invalid token 'note-C4_sharp'"),
    ("note-C4_quarter barline", "missing clef at start"),
    ("timeSignature-3/4 clef-G2 note-C4_quarter", "missing clef at start"),
    ("clef-G2 clef-F4 note-C4_quarter", "duplicated clef at start: token 2 (clef-F4)"),
    ("clef-G2 timeSignature-3/4 keySignature-GM note-G4_quarter", "key signature out of place: token 3"),
    ("clef-G2 note-C4_quarter keySignature-GM note-G4_quarter", "key signature out of place: token 3"),
    ("clef-G2 note-C4_quarter timeSignature-3/4 note-G4_quarter", "time signature out of place: token 3"),
    ("clef-G2 timeSignature-3/4 timeSignature-3/4 note-C4_quarter", "duplicated time signature: token 3"),
    ("clef-G2 keySignature-GM keySignature-GM note-C4_quarter", "duplicated key signature: token 3"),
    ("clef-G2 note-C4_quarter tie note-D4_quarter", "tie between different pitches: token 3 (tie) joins C4 and D4"),
    ("clef-G2 note-C#4_quarter tie note-Db4_quarter barline tie note-C4_half",
     "tie not between two notes: token 6 (tie) does not follow a note"),
    ("clef-G2 note-C4_quarter tie rest-quarter", "tie not between two notes: token 3 (tie) is not followed"),
    ("clef-G2 note-C4_quarter tie gracenote-C4_eighth note-C4_quarter", "token 3 (tie) is not followed by a note"),
    ("clef-G2 note-C4_quarter tie", "token 3 (tie) is not followed by a note"),
    ("clef-G2 rest-quarter tie note-C4_quarter", "token 3 (tie) does not follow a note"),
    ("clef-G2 timeSignature-3/4 note-C4_half. note-D4_half. barline",
     "measure overfilled: the measure from token 3 (note-C4_half.) lasts 6 quarters"),
    ("clef-G2 timeSignature-C note-C4_double_whole barline", "lasts 8 quarters, more than 1.5 bars of C"),
    ("clef-G2 timeSignature-2/4 multirest-3 note-C4_quarter barline", "multirest shares its measure"),
    ("clef-G2 keySignature-GM timeSignature-2/4 barline", "no notes or rests"),
]


@pytest.mark.parametrize(("text", "expected"), INVALID)
def test_invalid_sequences_get_the_right_warning(text, expected):
    found = problems(text.split())
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_once_and_on_one_line():
    found = problems("note-C4_quarter tie note-D4_quarter foo clef-G2 clef-G2".split())
    assert len(found) == len(set(found)) == 3
    assert all("\n" not in p for p in found)


def test_a_valid_sequence_with_one_token_spoiled_reports_only_that():
    tokens = VALID["plain"].split()
    tokens[4] = "note-A4_hlaf"
    assert problems(tokens) == ["token 5: invalid token 'note-A4_hlaf': "
                                "expected note-<step><accidental><octave>_<duration><dots>[_fermata]"]
