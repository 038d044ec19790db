"""PrIMuS labels derived from Verovio's MEI: real PrIMuS files where present, hand-checked PAE cases everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
import verovio

from recognize.omr.synth.mei import LabelError, mei_to_agnostic, mei_to_labels, mei_to_semantic
from recognize.omr.synth.pae_writer import semantic_to_pae

PRIMUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "primus"
needs_primus = pytest.mark.skipif(not PRIMUS.is_dir(), reason="../shared/data/primus is not present")
OPTIONS = {"inputFrom": "pae", "font": "Leipzig", "scale": 100, "pageWidth": 2100, "adjustPageHeight": True,
           "adjustPageWidth": True, "breaks": "none", "header": "none", "footer": "none"}

# (PAE, semantic, agnostic); every token checked by hand against the staff positions and the PrIMuS rules.
CASES = {
    "G2-sharp-key-accidentals-C-beams-tie-fermata": (
        "%G-2@c$xFC '4F{'8.xG'6nG}{'8B''8C}''4C+/''4C{''8nC''8C}''2(D)/",
        "clef-G2 keySignature-DM timeSignature-C note-F#4_quarter note-G#4_eighth. note-G4_sixteenth note-B4_eighth "
        "note-C#5_eighth note-C#5_quarter tie barline note-C#5_quarter note-C5_eighth note-C5_eighth "
        "note-D5_half_fermata barline",
        "clef.G-L2 accidental.sharp-L5 accidental.sharp-S3 metersign.C-L3 note.quarter-S1 accidental.sharp-L2 "
        "note.beamedRight1-L2 dot-S2 accidental.natural-L2 note.beamedLeft2-L2 note.beamedRight1-L3 "
        "note.beamedLeft1-S3 note.quarter-S3 slur.start-S3 barline-L1 slur.end-S3 note.quarter-S3 "
        "accidental.natural-S3 note.beamedRight1-S3 note.beamedLeft1-S3 fermata.above-S6 note.half-L4 barline-L1",
    ),
    "F4-flat-key-cut-multirest-rests-grace": (
        "%F-4@c/$bBE =3/2-4.-8-/q,8E,2E,2bA/1-/,2B(,2nB)/",
        "clef-F4 keySignature-BbM timeSignature-C/ multirest-3 barline rest-half rest-quarter. rest-eighth barline "
        "gracenote-Eb3_eighth note-Eb3_half note-Ab3_half barline rest-whole barline note-Bb3_half "
        "note-B3_half_fermata barline",
        "clef.F-L4 accidental.flat-L2 accidental.flat-S3 metersign.C/-L3 digit.3-S5 multirest-L3 barline-L1 "
        "rest.half-L3 rest.quarter-L3 dot-S3 rest.eighth-L3 barline-L1 gracenote.eighth-S3 note.half-S3 "
        "accidental.flat-L5 note.half-L5 barline-L1 rest.whole-L4 barline-L1 note.half-S5 fermata.above-S6 "
        "accidental.natural-S5 note.half-S5 barline-L1",
    ),
    # pickup, tie inside a measure, a measure rest, an acciaccatura, and an incomplete last measure (no barline)
    "C3-pickup-measure-rest-acciaccatura": (
        "%C-3@6/8$bBEAD ,8A/{,8.B'6C'8D},4B+,8B/=1/g'C,4.A",
        "clef-C3 keySignature-AbM timeSignature-6/8 note-Ab3_eighth barline note-Bb3_eighth. note-C4_sixteenth "
        "note-Db4_eighth note-Bb3_quarter tie note-Bb3_eighth barline multirest-1 barline gracenote-C4_eighth "
        "note-Ab3_quarter.",
        "clef.C-L3 accidental.flat-S2 accidental.flat-L4 accidental.flat-L2 accidental.flat-S3 digit.6-L4 "
        "digit.8-L2 note.eighth-L2 barline-L1 note.beamedRight1-S2 dot-S2 note.beamedBoth2-L3 note.beamedLeft1-S3 "
        "note.quarter-S2 slur.start-S2 slur.end-S2 note.eighth-S2 barline-L1 rest.whole-L4 barline-L1 "
        "gracenote.eighth-L3 note.quarter-L2 dot-S2",
    ),
    # grace notes in a beam are its inner members; a rest inside a beam is not a member
    "G2-grace-group-in-beam-rest-in-beam": (
        "%G-2@2/4 {qq''6DEr''8C'8B}'4A/{'8C'8-'8D}'8E/",
        "clef-G2 timeSignature-2/4 gracenote-D5_sixteenth gracenote-E5_sixteenth note-C5_eighth note-B4_eighth "
        "note-A4_quarter barline note-C4_eighth rest-eighth note-D4_eighth note-E4_eighth barline",
        "clef.G-L2 digit.2-L4 digit.4-L2 gracenote.beamedBoth2-L4 gracenote.beamedBoth2-S4 note.beamedRight1-S3 "
        "note.beamedLeft1-L3 note.quarter-S2 barline-L1 note.beamedRight1-L0 rest.eighth-L3 note.beamedLeft1-S0 "
        "note.eighth-L1 barline-L1",
    ),
    # a full last measure without a closing "/" is drawn without a barline (right="invis"): no label either
    "G2-full-last-measure-without-barline": (
        "%G-2@2/4 '4C4D/4E4F",
        "clef-G2 timeSignature-2/4 note-C4_quarter note-D4_quarter barline note-E4_quarter note-F4_quarter",
        "clef.G-L2 digit.2-L4 digit.4-L2 note.quarter-L0 note.quarter-S0 barline-L1 note.quarter-L1 note.quarter-S1",
    ),
    "clef-and-meter-changes": (
        "%G-2@2/4 '4C4D/%F-4 ,4C4D/@3/4 2C4D/",
        "clef-G2 timeSignature-2/4 note-C4_quarter note-D4_quarter barline clef-F4 note-C3_quarter note-D3_quarter "
        "barline timeSignature-3/4 note-C3_half note-D3_quarter barline",
        "clef.G-L2 digit.2-L4 digit.4-L2 note.quarter-L0 note.quarter-S0 barline-L1 clef.F-L4 note.quarter-S2 "
        "note.quarter-L3 barline-L1 digit.3-L4 digit.4-L2 note.half-S2 note.quarter-L3 barline-L1",
    ),
}

# Middle C (C4) under each of the ten PrIMuS clefs.
MIDDLE_C = {"G-1": "L-1", "G-2": "L0", "C-1": "L1", "C-2": "L2", "C-3": "L3", "C-4": "L4", "C-5": "L5",
            "F-3": "L5", "F-4": "L6", "F-5": "L7"}

# The MEI 4 that Verovio 2.0 wrote in 2017: key and meter on scoreDef, no accid.ges, @tie and @fermata.
MEI_2017 = """<?xml version="1.0" encoding="UTF-8"?>
<mei xmlns="http://www.music-encoding.org/ns/mei" meiversion="4.0.0"><music><body><mdiv><score>
<scoreDef key.sig="2s" meter.count="3" meter.unit="4"><staffGrp>
<staffDef n="1" lines="5" clef.shape="G" clef.line="2"/></staffGrp></scoreDef>
<section>
<measure right="single"><staff n="1"><layer n="1">
<note dur="4" oct="4" pname="f"/><note dur="4" oct="4" pname="f" accid="n"/><note dur="4" oct="4" pname="f" tie="i"/>
</layer></staff></measure>
<measure right="single"><staff n="1"><layer n="1">
<note dur="4" oct="4" pname="f" tie="t" fermata="above"/><note dur="2" oct="5" pname="c"/>
</layer></staff></measure>
</section></score></mdiv></body></music></mei>
"""
MEI_2017_SEMANTIC = ("clef-G2 keySignature-DM timeSignature-3/4 note-F#4_quarter note-F4_quarter note-F4_quarter tie "
                     "barline note-F4_quarter_fermata note-C#5_half barline")
MEI_2017_AGNOSTIC = ("clef.G-L2 accidental.sharp-L5 accidental.sharp-S3 digit.3-L4 digit.4-L2 note.quarter-S1 "
                     "accidental.natural-S1 note.quarter-S1 note.quarter-S1 slur.start-S1 barline-L1 fermata.above-S6 "
                     "slur.end-S1 note.quarter-S1 note.half-S3 barline-L1")

# Entries of the published vocabularies that the cases above use, for machines without ../shared.
VOCAB_EXCERPT = {
    kind: {t for case in CASES.values() for t in case[i].split()}
    | set((MEI_2017_SEMANTIC if kind == "semantic" else MEI_2017_AGNOSTIC).split())
    for i, kind in ((1, "semantic"), (2, "agnostic"))
}
VOCAB_EXCERPT["agnostic"] |= {f"clef.{c[0]}-L{c[2]}" for c in MIDDLE_C} | {f"note.whole-{p}" for p in MIDDLE_C.values()}
VOCAB_EXCERPT["agnostic"] |= {"digit.4-L4"}


def vocabulary(kind: str) -> set[str]:
    path = PRIMUS / f"vocabulary_{kind}.txt"
    return set(path.read_text().split()) if path.is_file() else VOCAB_EXCERPT[kind]


@pytest.fixture(scope="module")
def toolkit() -> verovio.toolkit:
    verovio.enableLog(verovio.LOG_OFF)
    tk = verovio.toolkit()
    tk.setOptions(OPTIONS)
    return tk


def pae_to_mei(tk: verovio.toolkit, pae: str) -> str:
    assert tk.validatePAE(pae) == {}, pae
    assert tk.loadData(pae), pae
    return tk.getMEI()


def assert_in_vocabulary(semantic: list[str], agnostic: list[str]) -> None:
    assert set(semantic) <= vocabulary("semantic"), set(semantic) - vocabulary("semantic")
    assert set(agnostic) <= vocabulary("agnostic"), set(agnostic) - vocabulary("agnostic")


@pytest.mark.parametrize("name", CASES)
def test_pae_cases(toolkit, name):
    pae, semantic, agnostic = CASES[name]
    mei = pae_to_mei(toolkit, pae)
    assert mei_to_semantic(mei) == semantic.split()
    assert mei_to_agnostic(mei) == agnostic.split()
    assert mei_to_labels(mei) == (semantic.split(), agnostic.split())
    assert_in_vocabulary(semantic.split(), agnostic.split())


@pytest.mark.parametrize("clef", MIDDLE_C)
def test_every_clef_places_middle_c(toolkit, clef):
    mei = pae_to_mei(toolkit, f"%{clef}@4/4 '1C/")
    shape, line = clef.split("-")
    assert mei_to_semantic(mei) == [f"clef-{shape}{line}", "timeSignature-4/4", "note-C4_whole", "barline"]
    agnostic = mei_to_agnostic(mei)
    assert agnostic == [f"clef.{shape}-L{line}", "digit.4-L4", "digit.4-L2", f"note.whole-{MIDDLE_C[clef]}",
                        "barline-L1"]
    assert_in_vocabulary([], agnostic)


def test_mei_of_2017_without_gestural_accidentals():
    assert mei_to_semantic(MEI_2017) == MEI_2017_SEMANTIC.split()
    assert mei_to_agnostic(MEI_2017) == MEI_2017_AGNOSTIC.split()


@pytest.mark.parametrize("pae, reason", [
    ("%G-2@2/4 '4C^E4D/", "chord"),
    ("%G-2@2/4 (3{'8CDE})4D/", "tuplet"),
    ("%G-2@2/4 '4Ct4D/", "trill"),
    ("%G-2@2/4 '4C4D://", "repeat"),
    ("%G-2@2/4 '4xxC4D/", "accidental"),
])
def test_what_primus_cannot_express_raises(toolkit, pae, reason):
    mei = pae_to_mei(toolkit, pae)
    with pytest.raises(LabelError, match=reason):
        mei_to_semantic(mei)


@pytest.mark.parametrize("name", CASES)
def test_semantic_to_pae_round_trip(toolkit, name):
    tokens = CASES[name][1].split()
    assert mei_to_semantic(pae_to_mei(toolkit, semantic_to_pae(tokens))) == tokens


def real_samples(suffix: str) -> list[Path]:
    return sorted(PRIMUS.glob(f"*/*{suffix}")) if PRIMUS.is_dir() else []


@needs_primus
@pytest.mark.parametrize("mei_path", real_samples(".mei"), ids=lambda p: p.stem)
def test_real_primus_labels_from_their_mei(mei_path):
    mei = mei_path.read_text()
    semantic = mei_path.with_suffix(".semantic").read_text().split()
    agnostic = mei_path.with_suffix(".agnostic").read_text().split()
    assert mei_to_semantic(mei) == semantic
    assert mei_to_agnostic(mei) == agnostic


@needs_primus
def test_vocabulary_excerpt_is_published():
    for kind in ("semantic", "agnostic"):
        assert VOCAB_EXCERPT[kind] <= vocabulary(kind)


@needs_primus
@pytest.mark.parametrize("path", real_samples(".semantic"), ids=lambda p: p.stem)
def test_real_semantic_round_trip(toolkit, path):
    tokens = path.read_text().split()
    mei = pae_to_mei(toolkit, semantic_to_pae(tokens))
    assert mei_to_semantic(mei) == tokens
    assert_in_vocabulary(tokens, mei_to_agnostic(mei))
