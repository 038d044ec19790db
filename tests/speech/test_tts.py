"""Synthetic speech from offline TTS: voices per engine, deterministic word clips and sequences, datasets.

espeak-ng is required (``data/setup_tts.sh`` installs it); the other engines are tested when installed.
Generation tests use a few espeak-ng voices only, which keeps them to a few seconds.
"""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from recognize.speech.audio import SAMPLE_RATE
from recognize.speech.dataset import manifest_items, read_manifest
from recognize.speech.synth import (
    ENGINES,
    WORDS,
    SynthConfig,
    SynthesisError,
    Voice,
    synth_sequence,
    synth_word_clip,
    trim_silence,
    voices_by_engine,
    write_dataset,
)
from recognize.speech.synth.generate import make_sample


@pytest.fixture(scope="module")
def espeak() -> dict[str, list[Voice]]:
    found = voices_by_engine(("espeak-ng",))
    assert found, "espeak-ng has no English voice: run data/setup_tts.sh as root"
    names = {v.name: v for v in found["espeak-ng"]}
    return {"espeak-ng": [names[n] for n in ("en-us", "en-gb+f3", "en-gb-scotland+m3") if n in names]}


def window_rms(x: np.ndarray, seconds: float = 0.02) -> np.ndarray:
    n = round(seconds * SAMPLE_RATE)
    return np.sqrt(np.mean(x[: len(x) // n * n].reshape(-1, n) ** 2, axis=1))


def test_espeak_voices_are_accents_times_variants():
    voices = voices_by_engine()
    assert "espeak-ng" in voices, "espeak-ng missing: run data/setup_tts.sh as root"
    names = [v.name for v in voices["espeak-ng"]]
    accents = [n for n in names if "+" not in n]
    assert {"en-us", "en-gb"} <= set(accents)
    assert len(names) > 10 * len(accents)  # ~100 variants per accent
    assert all(v.engine == e for e, vs in voices.items() for v in vs)
    assert names == sorted(names)


@pytest.mark.parametrize("engine", ENGINES)
def test_each_engine_speaks(engine):
    voices = voices_by_engine((engine,)).get(engine)
    if not voices:
        assert engine != "espeak-ng", "espeak-ng missing: run data/setup_tts.sh as root"
        pytest.skip(f"{engine} not installed")
    voice = voices[0]
    x, rate = voice.synthesize("seven")
    assert x.dtype == np.float32 and x.ndim == 1 and rate >= 8000
    assert 0.2 < len(x) / rate < 2.0
    assert np.sqrt(np.mean(x ** 2)) > 0.005


def test_speed_and_pitch_change_the_audio():
    voice = Voice("espeak-ng", "en-us")
    slow, rate = voice.synthesize("forward", speed=0.75)
    fast, _ = voice.synthesize("forward", speed=1.25)
    assert len(trim_silence(slow, rate)) > 1.3 * len(trim_silence(fast, rate))
    high, _ = voice.synthesize("forward", pitch=3.0)
    assert not np.array_equal(high[: len(slow)], voice.synthesize("forward")[0][: len(slow)])


def test_mbrola_voice_missing_diphones_is_an_error():
    if Voice("mbrola", "mb-us3") not in voices_by_engine(("mbrola",)).get("mbrola", []):
        pytest.skip("mbrola-us3 not installed")
    with pytest.raises(SynthesisError, match="missing diphones"):
        Voice("mbrola", "mb-us3").synthesize("off")  # its database has no diphones for espeak's O2 vowel


def test_unknown_voice_is_an_error():
    for voice in (Voice("flite", "nope"), Voice("espeak-ng", "xx-nope"), Voice("nope", "x")):
        with pytest.raises(SynthesisError, match="no such voice"):
            voice.synthesize("go")  # flite and festival would otherwise fall back to a default voice


def test_trim_silence():
    tone = 0.5 * np.sin(np.arange(4000) * 0.2).astype(np.float32)
    x = np.concatenate([np.zeros(3000, np.float32), tone, np.full(5000, 1e-4, np.float32)])
    y = trim_silence(x, SAMPLE_RATE, pad_seconds=0.01)
    assert 4000 <= len(y) <= 4000 + 2 * 160 + 2 * 160
    assert len(trim_silence(np.zeros(800, np.float32))) == 0


def test_word_clip_is_deterministic_and_well_formed(espeak):
    a, text = synth_word_clip(5, 3, voices=espeak)
    b, text2 = synth_word_clip(5, 3, voices=espeak)
    assert text == text2 and text in WORDS and np.array_equal(a, b)
    assert a.dtype == np.float32 and a.ndim == 1 and len(a) >= SAMPLE_RATE
    assert np.abs(a).max() <= 1.0
    rms = window_rms(a)
    assert rms.max() > 0.01
    assert rms[0] < 0.1 * rms.max() and rms[-1] < 0.1 * rms.max()  # near silence at the edges
    s = make_sample("words", 5, 3, voices=espeak)
    (word, start, end), = s.spans
    middle = a[round(start * SAMPLE_RATE): round(end * SAMPLE_RATE)]
    assert word == text and np.sqrt(np.mean(middle ** 2)) > 3 * max(rms[0], rms[-1])
    others = {synth_word_clip(i, 3, voices=espeak)[1] for i in range(6)}
    assert len(others) > 1  # the index changes the word


def test_sequence_transcript_and_length(espeak):
    audio, text = synth_sequence(2, 0, voices=espeak)
    again, text2 = synth_sequence(2, 0, voices=espeak)
    assert text == text2 and np.array_equal(audio, again)
    words = text.split(" ")
    assert 2 <= len(words) <= 5 and all(w in WORDS for w in words)
    assert audio.dtype == np.float32 and np.abs(audio).max() <= 1.0
    fixed = dict(pause_seconds=(0.3, 0.3), edge_seconds=(0.2, 0.2))
    short = make_sample("sequences", 1, 0, SynthConfig(min_words=2, max_words=2, **fixed), espeak)
    long = make_sample("sequences", 1, 0, SynthConfig(min_words=5, max_words=5, **fixed), espeak)
    assert len(short.text.split()) == len(short.spans) == 2 and len(long.text.split()) == len(long.spans) == 5
    assert len(long.audio) > len(short.audio)
    starts = [s for _, s, _ in long.spans]
    assert starts == sorted(starts) and long.spans[-1][2] < len(long.audio) / SAMPLE_RATE


def test_sequence_with_real_noise(espeak):
    noise = [np.full(SAMPLE_RATE, 0.0, np.float32), np.random.default_rng(0).standard_normal(8000).astype(np.float32)]
    audio, text = synth_sequence(4, 1, SynthConfig(real_noise_p=1.0), espeak, noise)
    assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0 and text


def test_write_dataset_manifest_and_resume(tmp_path, espeak):
    out = tmp_path / "synth"
    manifest = write_dataset(out, 4, seed=9, kind="words", workers=1, voices=espeak)
    wavs = sorted(out.glob("*.wav"))
    assert [p.name for p in wavs] == [f"word-{i:07d}.wav" for i in range(4)]
    info = sf.info(str(wavs[0]))
    assert info.samplerate == SAMPLE_RATE and info.channels == 1 and info.subtype == "PCM_16"
    items = manifest_items(manifest)
    assert len(items) == 4 and all(it.text in WORDS and it.length > 0 for it in items)
    rows = read_manifest(manifest)
    assert all(r["speaker"].startswith("espeak-ng:") for r in rows)
    assert rows[0]["text"] == synth_word_clip(0, 9, voices=espeak)[1]

    before = {p.name: p.stat().st_mtime_ns for p in wavs}
    wavs[1].unlink()
    write_dataset(out, 6, seed=9, kind="words", workers=2, voices=espeak)
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.wav")}
    assert len(after) == 6 and not list(out.glob(".*.tmp"))
    assert all(after[n] == t for n, t in before.items() if n != wavs[1].name)  # kept, not remade
    again = read_manifest(manifest)
    assert [r["text"] for r in again[:4]] == [r["text"] for r in rows]
    assert len(manifest_items(manifest)) == 6

    with pytest.raises(ValueError, match="other settings"):
        write_dataset(out, 6, seed=10, kind="words", workers=1, voices=espeak)


def test_write_dataset_sequences(tmp_path, espeak):
    manifest = write_dataset(tmp_path, 2, seed=1, kind="sequences", workers=1, voices=espeak)
    rows = read_manifest(manifest)
    assert len(rows) == 2 and all(2 <= len(r["text"].split()) <= 5 for r in rows)
    assert all(float(r["duration"]) > 1.0 for r in rows)
