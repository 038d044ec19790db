"""The decoding options on the commands, `recognize lm build` and `recognize tune`, end to end."""
import json

from typer.testing import CliRunner

from recognize.cli.app import app

from .helpers import WORDS, sentences, write_lines

runner = CliRunner()


def test_lm_build_writes_arpa_binary_and_sidecar(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(sentences(200, seed=3)) + "\n")
    r = runner.invoke(app, ["lm", "build", str(corpus), "-o", str(tmp_path / "w.arpa"), "--order", "3"])
    assert r.exit_code == 0, r.output
    arpa = (tmp_path / "w.arpa").read_text()
    assert arpa.startswith("\\data\\") and "\\3-grams:" in arpa and "\\end\\" in arpa
    meta = json.loads((tmp_path / "w.json").read_text())
    assert meta["unit"] == "word" and meta["order"] == 3 and set(meta["unigrams"]) == set(WORDS)
    assert "recognize lm build" in meta["source"]["command"]
    r = runner.invoke(app, ["lm", "build", str(corpus), "-o", str(tmp_path / "c.klm"), "-n", "5", "--unit", "char"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "c.klm").read_bytes()[:4] != b"\\dat"  # KenLM binary, not text
    r = runner.invoke(app, ["lm", "build", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "x.klm")])
    assert r.exit_code == 2 and "missing.txt" in r.stderr
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    r = runner.invoke(app, ["lm", "build", str(tmp_path / "binary.txt"), "-o", str(tmp_path / "x.klm")])
    assert r.exit_code == 2 and "binary.txt: not UTF-8 text" in r.stderr


def test_ocr_beam_with_lm_records_its_settings_and_nbest(tiny_model, tmp_path):
    lines = write_lines(tmp_path / "lines", sentences(4, seed=9))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(sentences(300, seed=4)) + "\n")
    assert runner.invoke(app, ["lm", "build", str(corpus), "-o", str(tmp_path / "c.klm"), "-n", "4",
                               "--unit", "char"]).exit_code == 0
    r = runner.invoke(app, ["ocr", "-m", str(tiny_model), str(lines[0]), "-f", "json", "--lm", str(tmp_path / "c.klm"),
                            "--alpha", "0.3", "--nbest", "3", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    d = doc["decoder"]
    assert (d["name"], d["backend"], d["alpha"], d["lm"]["unit"], d["nbest"]) == ("beam", "flashlight", 0.3, "char", 3)
    if doc["nbest"]:
        assert doc["nbest"][0]["text"] == doc["text"]
    greedy = runner.invoke(app, ["ocr", "-m", str(tiny_model), str(lines[0]), "-f", "json", "--device", "cpu"])
    assert json.loads(greedy.stdout)["decoder"] == {"name": "greedy"}


def test_an_nbest_list_widens_the_default_beam(tmp_path):
    from types import SimpleNamespace

    from recognize.cli.common import DecodingOptions, decoder_spec
    m, path = SimpleNamespace(task="ocr", meta={}), tmp_path / "model.safetensors"  # no shipped decoding config
    assert decoder_spec(m, path, DecodingOptions(decoder="beam")).beam_width == 8
    assert decoder_spec(m, path, DecodingOptions(nbest=12)).beam_width == 12
    assert decoder_spec(m, path, DecodingOptions(nbest=12, beam_width=4)).beam_width == 4  # as asked
    assert decoder_spec(SimpleNamespace(task="speech", meta={}), path, DecodingOptions(nbest=3)).beam_width == 50


def test_bad_decoding_options_are_usage_errors(tiny_model, tmp_path):
    line = write_lines(tmp_path / "l", ["the cat"])[0]
    base = ["ocr", "-m", str(tiny_model), str(line), "--device", "cpu"]
    for extra, message in ((["--lm", str(tmp_path / "none.klm")], "no such LM"),
                           (["--decoder", "wide"], "unknown decoder"),
                           (["--decoder", "beam", "--beam-backend", "cuda"], "cuda"),
                           (["--decoder", "beam", "--beam-backend", "flashlight", "--hotword", "cat"], "hotwords")):
        r = runner.invoke(app, base + extra)
        assert r.exit_code == 2 and message in r.stderr, (extra, r.stderr)


def test_tune_writes_a_config_the_commands_accept(tiny_model, tmp_path):
    dev = tmp_path / "dev"
    write_lines(dev, sentences(6, seed=11))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(sentences(300, seed=5)) + "\n")
    runner.invoke(app, ["lm", "build", str(corpus), "-o", str(tmp_path / "w.klm"), "-n", "3"])
    config = tmp_path / "best.json"
    r = runner.invoke(app, ["tune", "-m", str(tiny_model), "--lm", str(tmp_path / "w.klm"), str(dev), "-o", str(config),
                            "--alphas", "0 0.5", "--betas", "0 1", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    saved = json.loads(config.read_text())
    assert saved["decoding"]["lm"] == "w.klm" and len(saved["tuned"]["grid"]) == 4
    assert saved["tuned"]["best"] <= saved["tuned"]["greedy"] + 1e-9 or saved["decoding"]["alpha"] == 0
    r = runner.invoke(app, ["eval", "-m", str(tiny_model), str(dev), "--decoding", str(config), "--json",
                            "--device", "cpu"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)[0]["decoder"]
    assert d["backend"] == "pyctcdecode" and d["alpha"] == saved["decoding"]["alpha"]


def test_the_commands_models_decode_with_their_words_unless_told_otherwise(tmp_path):
    """exports/speech-commands*.decoding.json say "default": the words the model was trained on."""
    from pathlib import Path

    from recognize.speech.synth import vocabulary
    sample = Path(__file__).resolve().parents[1] / "data" / "samples" / "speech" / "four_commands.wav"

    def decoder(*args):
        r = runner.invoke(app, ["transcribe", str(sample), "-f", "json", "--device", "cpu", *args])
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)["decoder"]

    exports = Path(__file__).resolve().parents[1] / "exports"
    for model in (exports / "speech-commands.safetensors", *exports.glob("speech-commands-fast*.onnx")):
        got = decoder("-m", str(model))
        assert got["name"] == "beam" and got["lexicon_words"] == len(vocabulary()) == 35, (model, got)
    assert decoder("--decoder", "greedy")["name"] == "greedy"
    assert decoder("--vocabulary", "yes,no,go")["lexicon_words"] == 3
    m = tmp_path / "elsewhere.safetensors"  # the same model without its config beside it: greedy
    m.write_bytes((Path(__file__).resolve().parents[1] / "exports" / "speech-commands.safetensors").read_bytes())
    assert decoder("-m", str(m))["name"] == "greedy"
