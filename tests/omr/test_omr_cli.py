"""Plumbing of ``recognize omr`` and ``recognize eval`` on music models (a small model whose head
is biased towards one token, so its output is known: outputs, formats, exit codes, bad input)."""
import json

import pytest
import torch
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from recognize.cli import app
from recognize.core.model import ConvBlock, CTCModel, FrontendConfig, ModelConfig, RNNConfig
from recognize.core.modelfile import save_model
from recognize.core.vocab import Vocabulary

runner = CliRunner()
TOKENS = ["clef-G2", "note-C5_quarter", "barline"]


def model_file(path, encoding="semantic", favour="note-C5_quarter"):
    cfg = ModelConfig(FrontendConfig(height=32, blocks=[ConvBlock(4, pool=(2, 2)), ConvBlock(8, pool=(2, 2))]),
                      RNNConfig(layers=1, hidden=16))
    torch.manual_seed(0)
    vocab = Vocabulary(["<blank>", *TOKENS], tokenizer="whitespace")
    net = CTCModel(cfg, len(vocab))
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.fill_(-5.0)
        net.head.bias[vocab.tokens.index(favour)] = 5.0
    return save_model(path, net, vocab, {"task": "omr", "preprocess": {"height": 32, "encoding": encoding}})


@pytest.fixture(scope="module")
def omr_model(tmp_path_factory):
    return model_file(tmp_path_factory.mktemp("m") / "omr.safetensors")


def staff(path, width=400, height=120, staves=1):
    im = Image.new("L", (width, height * staves), 255)
    d = ImageDraw.Draw(im)
    for top in range(40, height * staves, height):
        for k in range(5):
            d.line([(5, top + 10 * k), (width - 5, top + 10 * k)], fill=0)
        for x in range(5, width, 80):  # barlines join the five lines into one band of ink
            d.line([(x, top), (x, top + 40)], fill=0, width=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    return path


def test_token_output_and_json(omr_model, tmp_path):
    img = staff(tmp_path / "in" / "a.png")
    r = runner.invoke(app, ["omr", str(img), "-m", str(omr_model), "--device", "cpu"])
    assert r.exit_code == 0, r.output
    assert r.stdout == "note-C5_quarter\n"
    r = runner.invoke(app, ["omr", str(img), "-m", str(omr_model), "-f", "json", "--device", "cpu"])
    doc = json.loads(r.stdout)
    assert doc["format"] == "recognize-omr/1" and doc["encoding"] == "semantic"
    (sym,) = doc["symbols"]
    assert sym["token"] == "note-C5_quarter" and 0 <= sym["x0"] < sym["x1"] <= 400 and sym["confidence"] > 0.9
    assert doc["problems"] and doc["model"]["task"] == "omr"


def test_every_format_written_and_music_formats_warn(omr_model, tmp_path):
    staff(tmp_path / "in" / "sub" / "b.png")
    staff(tmp_path / "in" / "c.jpg")
    out = tmp_path / "out"
    args = ["omr", str(tmp_path / "in"), "-m", str(omr_model), "-o", str(out), "--device", "cpu"]
    for f in ("semantic", "json", "musicxml", "midi"):
        args += ["-f", f]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "warning" in r.stderr and "clef" in r.stderr  # no clef: still written, with a warning
    for stem in ("sub/b", "c"):
        assert (out / f"{stem}.semantic").read_text() == "note-C5_quarter\n"
        assert "<score-partwise" in (out / f"{stem}.musicxml").read_text()
        assert (out / f"{stem}.mid").read_bytes()[:4] == b"MThd"
        json.loads((out / f"{stem}.json").read_text())


def test_several_inputs_on_stdout_are_prefixed(omr_model, tmp_path):
    a, b = staff(tmp_path / "a.png"), staff(tmp_path / "b.png")
    r = runner.invoke(app, ["omr", str(a), str(b), "-m", str(omr_model), "--device", "cpu"])
    assert r.exit_code == 0 and r.stdout.splitlines() == [f"{a}\tnote-C5_quarter", f"{b}\tnote-C5_quarter"]


def test_usage_errors(omr_model, tmp_path):
    img = staff(tmp_path / "a.png")
    base = ["omr", str(img), "-m", str(omr_model), "--device", "cpu"]
    for extra, message in ((["-f", "agnostic"], "needs a agnostic model"), (["-f", "pdf"], "unknown format"),
                           (["-f", "json", "-f", "midi"], "need --out")):
        r = runner.invoke(app, base + extra)
        assert r.exit_code == 2 and message in r.stderr, r.output
    r = runner.invoke(app, ["omr", str(img), str(img), "-m", str(omr_model), "-f", "midi", "--device", "cpu"])
    assert r.exit_code == 2 and "needs --out" in r.stderr
    agn = model_file(tmp_path / "agn.safetensors", encoding="agnostic")
    r = runner.invoke(app, ["omr", str(img), "-m", str(agn), "-f", "musicxml", "--device", "cpu"])
    assert r.exit_code == 2 and "needs a semantic model" in r.stderr


def test_bad_inputs_fail_alone(omr_model, tmp_path):
    good = staff(tmp_path / "in" / "good.png")
    (tmp_path / "in" / "empty.png").write_bytes(b"")
    (tmp_path / "in" / "text.png").write_text("not an image")
    Image.new("L", (8, 8), 255).save(tmp_path / "in" / "tiny.png")
    staff(tmp_path / "in" / "two.png", staves=2)
    out = tmp_path / "out"
    r = runner.invoke(app, ["omr", str(tmp_path / "in"), "-m", str(omr_model), "-o", str(out), "--device", "cpu"])
    assert r.exit_code == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("recognize: error:")]
    assert len(lines) == 4 and all(str(tmp_path) in ln for ln in lines)
    assert "empty file" in r.stderr and "not an image" in r.stderr and "too small for a staff" in r.stderr
    assert "2 staves one above the other" in r.stderr
    assert (out / "good.semantic").is_file() and good.is_file()
    assert sorted(p.name for p in out.iterdir()) == ["good.semantic"]


def test_eval_reports_symbol_and_sequence_error(omr_model, tmp_path):
    for sid, tokens in (("x1", ["note-C5_quarter"]), ("x2", ["clef-G2", "note-C5_quarter"])):
        staff(tmp_path / "set" / sid / f"{sid}.png")
        (tmp_path / "set" / sid / f"{sid}.semantic").write_text("\t".join(tokens) + "\t")
    r = runner.invoke(app, ["eval", "-m", str(omr_model), str(tmp_path / "set"), "--json", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    (entry,) = json.loads(r.stdout)
    assert entry["incipits"] == 2 and entry["ser"] == pytest.approx(1 / 3) and entry["seq"] == 0.5
