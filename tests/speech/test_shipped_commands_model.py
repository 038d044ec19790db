"""The shipped commands model on generated speech: commands in a 60-s file with their times, odd formats."""
import json
import random

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from recognize.cli import app
from recognize.cli.common import default_model
from recognize.speech.augment import colored_noise
from recognize.speech.synth.generate import SynthConfig, make_sample
from recognize.speech.synth.voices import voices_by_engine

runner = CliRunner()
COMMANDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
SR = 16_000

pytestmark = pytest.mark.skipif(not voices_by_engine().get("flite") and not voices_by_engine().get("pico"),
                                reason="needs flite or pico2wave (make setup installs them)")


def spoken(word: str, index: int):
    """``word`` by a clear TTS voice in a 1-s clip, and where in the clip it is spoken."""
    cfg = SynthConfig(words=(word,), engine_weights=(("flite", 1.0), ("pico", 1.0)), word_snr_db=(40.0, 50.0))
    s = make_sample("words", index, seed=77, config=cfg)
    return s.audio, s.spans[0][1], s.spans[0][2]


@pytest.fixture(scope="module")
def minute(tmp_path_factory):
    """60 s of quiet noise with the ten core commands at known times: ``(path, [(word, start, end)])``."""
    rng = random.Random(5)
    audio = 0.003 * colored_noise(60 * SR, rng, "pink")
    truth = []
    for k, word in enumerate(COMMANDS):
        clip, s, e = spoken(word, k)
        at = 2.0 + 5.6 * k + rng.uniform(-0.5, 0.5)
        i = round(at * SR)
        audio[i: i + len(clip)] += clip
        truth.append((word, at + s, at + e))
    path = tmp_path_factory.mktemp("minute") / "commands.wav"
    sf.write(path, audio, SR, subtype="PCM_16")
    return path, truth


@pytest.mark.parametrize("vocabulary", [None, ",".join(COMMANDS)])
def test_every_command_in_a_minute_with_its_time(minute, vocabulary):
    path, truth = minute
    args = ["transcribe", str(path), "-f", "json", "--device", "cpu", "--unk-threshold", "0"]
    r = runner.invoke(app, args + (["--vocabulary", vocabulary] if vocabulary else []))
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["duration"] == pytest.approx(60.0)
    got = [(w["text"], w["start"], w["end"]) for w in doc["words"]]
    assert [w for w, _, _ in got] == [w for w, _, _ in truth], got
    for (word, s, e), (_, gs, ge) in zip(truth, got):
        assert abs(gs - s) <= 0.2 and abs(ge - e) <= 0.2, (word, (s, e), (gs, ge))


def test_eight_channels_at_96k(tmp_path):
    clip, _, _ = spoken("stop", 0)
    import soxr
    hi = soxr.resample(clip, SR, 96_000)
    multi = np.stack([hi * g for g in np.linspace(0.4, 1.0, 8)], axis=1)
    path = tmp_path / "eight.flac"
    sf.write(path, multi, 96_000, subtype="PCM_24")
    r = runner.invoke(app, ["transcribe", str(path), "--device", "cpu"])
    assert r.exit_code == 0 and r.stdout == "stop\n", r.output


def test_model_is_shipped_with_its_provenance():
    from recognize.core.modelfile import read_metadata
    meta = read_metadata(default_model("speech"))
    assert meta["task"] == "speech" and "recognize train" in meta["training"]["command"]
    assert default_model("speech").stat().st_size <= 20_000_000
