"""The shipped music model on incipits generated at test time (a seed no recipe trains on)."""
import json

import pytest
from music21 import converter
from typer.testing import CliRunner

from recognize.cli import app
from recognize.cli.common import default_model
from recognize.core.metrics import error_rates
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
    for kind, bound in (("", 0.03), ("_distorted", 0.15)):
        refs = [" ".join(s.semantic) for s in samples]
        hyps = [" ".join((out / s.id / f"{s.id}{kind}.semantic").read_text().split()) for s in samples]
        ser = error_rates(refs, hyps).ser
        assert ser <= bound, (kind, ser)
    doc = json.loads((out / samples[0].id / f"{samples[0].id}.json").read_text())
    xs = [sym["x0"] for sym in doc["symbols"]]
    assert xs == sorted(xs) and doc["symbols"][-1]["x1"] <= doc["width"]


def test_musicxml_of_a_read_incipit_has_its_notes(incipits, tmp_path):
    root, samples = incipits
    s = samples[0]
    path = tmp_path / "x.musicxml"
    r = runner.invoke(app, ["omr", str(root / s.id / f"{s.id}.png"), "-f", "musicxml", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    path.write_text(r.stdout)
    pitches = [n.pitch.nameWithOctave.replace("-", "b") for n in converter.parse(path).recurse().notes]
    expected = [t.split("-", 1)[1].split("_")[0] for t in s.semantic if t.startswith(("note-", "gracenote-"))]
    assert pitches == expected


def test_model_is_shipped_with_its_provenance():
    from recognize.core.modelfile import read_metadata
    meta = read_metadata(default_model("omr"))
    assert meta["task"] == "omr" and meta["preprocess"]["encoding"] == "semantic"
    assert "recognize train recipes/omr_semantic.yaml" in meta["training"]["command"]
    assert default_model("omr").stat().st_size <= 20_000_000
