"""The shipped music model on incipits generated at test time (a seed no recipe trains on)."""
import json

import pytest
from music21 import converter
from PIL import Image
from typer.testing import CliRunner

from recognize.cli import app
from recognize.cli.common import default_model
from recognize.core.metrics import error_rates
from recognize.ocr.synth.generate import synth_line
from recognize.omr.synth.generate import make_sample, write_sample

runner = CliRunner()
SEED, COUNT = 31337, 12


@pytest.fixture(scope="module")
def incipits(tmp_path_factory):
    root = tmp_path_factory.mktemp("incipits")
    samples = [make_sample(SEED, i, distorted=True) for i in range(COUNT)]
    for s in samples:
        write_sample(root, s)
    return root, samples


def test_reads_clean_and_photographed_incipits(incipits, tmp_path):
    root, samples = incipits
    out = tmp_path / "out"
    r = runner.invoke(app, ["omr", str(root), "-o", str(out), "-f", "semantic", "-f", "json", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    for kind, bound in (("", 0.15), ("_distorted", 0.2)):  # measured 8.3 % and 5.6 % (12 incipits)
        refs = [" ".join(s.semantic) for s in samples]
        hyps = [" ".join((out / s.id / f"{s.id}{kind}.semantic").read_text().split()) for s in samples]
        ser = error_rates(refs, hyps).ser
        assert ser <= bound, (kind, ser)
    doc = json.loads((out / samples[0].id / f"{samples[0].id}.json").read_text())
    xs = [sym["x0"] for sym in doc["symbols"]]
    assert xs == sorted(xs) and doc["symbols"][-1]["x1"] <= doc["width"]


def test_a_text_line_read_as_music_is_doubted_and_still_written(incipits, tmp_path):
    root, samples = incipits
    for i in range(3):
        Image.fromarray(synth_line(i, 7, 64)[0]).save(tmp_path / f"text{i}.png")
    r = runner.invoke(app, ["omr", str(root), str(tmp_path), "-o", str(tmp_path / "out"), "--device", "cpu"])
    assert r.exit_code == 0, r.output
    doubted = [ln for ln in r.stderr.splitlines() if "unsure reading" in ln]
    assert sorted(ln.split(": ")[2].rsplit("/", 1)[1] for ln in doubted) == ["text0.png", "text1.png", "text2.png"]
    assert all((tmp_path / "out" / f"text{i}.semantic").read_text().strip() for i in range(3))


def test_musicxml_and_midi_hold_the_notes_read(incipits, tmp_path):
    root, samples = incipits
    s = samples[0]
    out = tmp_path / "out"
    r = runner.invoke(app, ["omr", str(root / s.id / f"{s.id}.png"), "-o", str(out), "-f", "semantic",
                            "-f", "musicxml", "-f", "midi", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    read = (out / f"{s.id}.semantic").read_text().split()
    expected = [t.split("-", 1)[1].split("_")[0] for t in read if t.startswith(("note-", "gracenote-"))]
    score = converter.parse(out / f"{s.id}.musicxml")
    assert [n.pitch.nameWithOctave.replace("-", "b") for n in score.recurse().notes] == expected
    midi = converter.parse(out / f"{s.id}.mid", quantizePost=False)
    assert len(midi.recurse().notes) > 0 and (out / f"{s.id}.mid").read_bytes()[:4] == b"MThd"


def test_model_is_shipped_with_its_provenance():
    from recognize.core.modelfile import read_metadata
    meta = read_metadata(default_model("omr"))
    assert meta["task"] == "omr" and meta["preprocess"]["encoding"] == "semantic"
    assert "recognize train recipes/omr_semantic.yaml" in meta["training"]["command"]
    assert default_model("omr").stat().st_size <= 20_000_000
