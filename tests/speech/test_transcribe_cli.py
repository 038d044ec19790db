"""Plumbing of ``recognize transcribe`` (an untrained model: outputs, exit codes, bad input)."""
import json

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from recognize.cli import app
from recognize.core.model import ConvBlock, CTCModel, FrontendConfig, ModelConfig, RNNConfig
from recognize.core.modelfile import save_model
from recognize.core.vocab import Vocabulary
from recognize.speech.task import base_tokens, preprocess_defaults

runner = CliRunner()


@pytest.fixture(scope="module")
def speech_model(tmp_path_factory):
    pre = {**preprocess_defaults(), "n_mels": 40}
    cfg = ModelConfig(FrontendConfig(height=40, blocks=[ConvBlock(4, pool=(2, 2)), ConvBlock(8, pool=(2, 2))]),
                      RNNConfig(layers=1, hidden=16))
    torch.manual_seed(0)
    vocab = Vocabulary(["<blank>", *base_tokens()])
    path = tmp_path_factory.mktemp("m") / "speech.safetensors"
    return save_model(path, CTCModel(cfg, len(vocab)), vocab, {"task": "speech", "preprocess": pre})


@pytest.fixture
def audio_dir(tmp_path):
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    t = np.arange(16000) / 16000
    sf.write(root / "a.wav", 0.3 * np.sin(2 * np.pi * 440 * t), 16000)
    sf.write(root / "sub" / "b.flac", 0.3 * np.sin(2 * np.pi * 300 * np.arange(44100 * 2) / 44100), 44100)
    return root


def test_transcribe_writes_every_format(speech_model, audio_dir, tmp_path):
    out = tmp_path / "out"
    args = ["transcribe", "-m", str(speech_model), "-o", str(out), "--device", "cpu", str(audio_dir)]
    for f in ("txt", "json", "tsv", "srt", "vtt"):
        args += ["-f", f]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == sorted(f"{s}.{e}" for s in ("a", "sub/b") for e in ("txt", "json", "tsv", "srt", "vtt"))
    doc = json.loads((out / "sub" / "b.json").read_text())
    assert doc["duration"] == pytest.approx(2.0, abs=0.01) and doc["model"]["task"] == "speech"


@pytest.mark.parametrize("fmt", ["WAV", "FLAC", "MP3"])
def test_audio_piped_in_is_read_by_its_content(speech_model, tmp_path, fmt):
    t = np.arange(24000) / 16000
    sf.write(tmp_path / "clip", 0.3 * np.sin(2 * np.pi * 440 * t), 16000, format=fmt)  # no suffix to go by
    r = runner.invoke(app, ["transcribe", "-m", str(speech_model), "--device", "cpu", "-f", "json", "-"],
                      input=(tmp_path / "clip").read_bytes())
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["source"] == "-" and doc["duration"] == pytest.approx(1.5, abs=0.06)


def test_bad_audio_fails_alone(speech_model, audio_dir, tmp_path):
    (audio_dir / "empty.wav").write_bytes(b"")
    (audio_dir / "text.wav").write_text("not audio at all\n")
    good = (audio_dir / "a.wav").read_bytes()
    (audio_dir / "cut.wav").write_bytes(good[:100])
    sf.write(audio_dir / "nan.wav", np.full(1600, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    out = tmp_path / "out"
    r = runner.invoke(app, ["transcribe", "-m", str(speech_model), "-o", str(out), str(audio_dir)])
    assert r.exit_code == 1
    failed = {line.split(": ")[2].rsplit("/", 1)[-1] for line in r.stderr.splitlines()
              if line.startswith("recognize: error:")}
    assert failed == {"empty.wav", "text.wav", "cut.wav", "nan.wav"}
    assert sorted(p.name for p in out.rglob("*.txt")) == ["a.txt", "b.txt"]


def test_ocr_model_is_refused_for_speech(tiny_model, audio_dir):
    r = runner.invoke(app, ["transcribe", "-m", str(tiny_model), str(audio_dir)])
    assert r.exit_code == 2 and "not a speech model" in r.stderr


def test_an_hour_is_streamed(speech_model, tmp_path):
    """A 1-hour file is only checked when prepared and read window by window."""
    from recognize.speech.predict import prepare
    path = tmp_path / "hour.wav"
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", 8000, 1, "PCM_16") as f:
        for minute in range(60):
            block = 0.002 * rng.standard_normal(8000 * 60)
            if minute % 10 == 0:
                block[8000 * 30: 8000 * 31] += 0.3 * np.sin(2 * np.pi * 300 * np.arange(8000) / 8000)
            f.write(block)
    assert prepare(path, {"n_mels": 40}).streamed
    r = runner.invoke(app, ["transcribe", "-m", str(speech_model), "-f", "json", "--device", "cpu", str(path)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["duration"] == pytest.approx(3600.0)
    assert all(0 <= w["start"] <= w["end"] <= 3600 for w in doc["words"])


def test_vocabulary_errors_are_usage_errors(speech_model, audio_dir):
    base = ["transcribe", "-m", str(speech_model), str(audio_dir / "a.wav")]
    r = runner.invoke(app, base + ["--vocabulary", "yes,Nö"])
    assert r.exit_code == 2 and "'Nö' cannot be spelled" in r.stderr
    r = runner.invoke(app, base + ["--vocabulary", " , "])
    assert r.exit_code == 2 and "no words" in r.stderr
    r = runner.invoke(app, base + ["--vocabulary", "yes,no", "-f", "json"])
    assert r.exit_code == 0
    d = json.loads(r.stdout)["decoder"]
    assert (d["name"], d["backend"], d["lexicon_words"]) == ("beam", "flashlight", 2)


def test_eval_reads_a_manifest(speech_model, audio_dir):
    manifest = audio_dir / "data.tsv"
    manifest.write_text("path\ttext\na.wav\tyes\nsub/b.flac\tgo left\n")
    r = runner.invoke(app, ["eval", "-m", str(speech_model), str(manifest), "--json", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    (entry,) = json.loads(r.stdout)
    assert entry["utterances"] == 2 and entry["audio_seconds"] == pytest.approx(3.0, abs=0.01)
    assert 0 <= entry["accuracy"] <= 1 and entry["wer"] >= 0 and entry["decoder"] == {"name": "greedy"}
    r = runner.invoke(app, ["eval", "-m", str(speech_model), str(audio_dir / "missing")])
    assert r.exit_code == 1 and "missing" in r.stderr
    r = runner.invoke(app, ["eval", "-m", str(speech_model), str(audio_dir / "a.wav")])
    assert r.exit_code == 1 and "a.wav: an audio file, not a labelled dataset" in r.stderr
    (audio_dir / "binary.tsv").write_bytes((audio_dir / "a.wav").read_bytes())
    r = runner.invoke(app, ["eval", "-m", str(speech_model), str(audio_dir / "binary.tsv")])
    assert r.exit_code == 1 and "binary.tsv: not a manifest" in r.stderr


def test_silence_gives_no_words(tmp_path):
    """A model that reads an "a" everywhere reads it in a tone, but nothing in digital silence or in
    noise 80 dB below full scale."""
    pre = {**preprocess_defaults(), "n_mels": 40}
    cfg = ModelConfig(FrontendConfig(height=40, blocks=[ConvBlock(4, pool=(2, 2))]), RNNConfig(layers=1, hidden=8))
    vocab = Vocabulary(["<blank>", *base_tokens()])
    net = CTCModel(cfg, len(vocab))
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.fill_(-5.0)
        net.head.bias[vocab.tokens.index("a")] = 5.0
    model = save_model(tmp_path / "a.safetensors", net, vocab, {"task": "speech", "preprocess": pre})
    t = np.arange(16000) / 16000
    sf.write(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * t), 16000)
    sf.write(tmp_path / "zeros.wav", np.zeros(16000), 16000)
    sf.write(tmp_path / "hiss.wav", 1e-4 * np.random.default_rng(0).standard_normal(16000), 16000, subtype="FLOAT")
    out = tmp_path / "out"
    r = runner.invoke(app, ["transcribe", "-m", str(model), "-o", str(out), "-f", "json", "--device", "cpu",
                            *(str(tmp_path / f"{n}.wav") for n in ("tone", "zeros", "hiss"))])
    assert r.exit_code == 0, r.output
    docs = {n: json.loads((out / f"{n}.json").read_text()) for n in ("tone", "zeros", "hiss")}
    assert docs["tone"]["text"] == "a" and len(docs["tone"]["words"]) == 1
    assert [(d["text"], d["words"]) for n, d in docs.items() if n != "tone"] == [("", [])] * 2
