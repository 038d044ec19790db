"""Audio decoding: formats, rates, channels, resampling, bad inputs and chunked streaming (generated files)."""
from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from recognize.speech import audio
from recognize.speech.audio import (
    AudioInputError,
    audio_info,
    load_audio,
    resampled_length,
    stream_chunks,
)


def sine(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(x: np.ndarray, rate: int = 16_000) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spec.argmax()])


def write(path, x: np.ndarray, rate: int, channels: int = 1, **kw) -> str:
    data = np.repeat(x[:, None], channels, axis=1) if channels > 1 else x
    sf.write(str(path), data, rate, **kw)
    return str(path)


CASES = [  # (suffix, rate, channels, subtype) -- lossless
    ("wav", 8_000, 1, "PCM_16"),
    ("wav", 16_000, 2, "PCM_24"),
    ("wav", 44_100, 1, "FLOAT"),
    ("wav", 96_000, 8, "PCM_24"),
    ("wav", 48_000, 2, "PCM_32"),
    ("flac", 44_100, 2, "PCM_16"),
    ("flac", 96_000, 1, "PCM_24"),
]


@pytest.mark.parametrize("suffix,rate,channels,subtype", CASES)
def test_lossless_any_rate_depth_channels(tmp_path, suffix, rate, channels, subtype):
    x = sine(440, rate, 0.5)
    path = write(tmp_path / f"a.{suffix}", x, rate, channels, subtype=subtype)
    info = audio_info(path)
    assert (info.sample_rate, info.channels, info.frames) == (rate, channels, len(x))
    y = load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert len(y) == resampled_length(len(x), rate) == info.resampled_frames() == 8000
    assert abs(peak_hz(y) - 440) <= 2
    mid = y[800:-800]  # away from the resampler's edges
    assert np.sqrt(np.mean(mid ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


@pytest.mark.parametrize("fmt,suffix,rate", [("OGG", "ogg", 44_100), ("OGG", "ogg", 22_050), ("MP3", "mp3", 44_100)])
def test_lossy_formats(tmp_path, fmt, suffix, rate):
    if fmt not in sf.available_formats():
        pytest.skip(f"libsndfile {sf.__libsndfile_version__} cannot write {fmt}")
    path = write(tmp_path / f"a.{suffix}", sine(1000, rate, 0.5), rate, 2, format=fmt)
    y = load_audio(path)
    assert abs(len(y) - 8000) <= 1200  # mp3 adds encoder padding
    assert abs(peak_hz(y) - 1000) <= 3


def test_resampling_44k_sine_to_16k(tmp_path):
    path = write(tmp_path / "sine.wav", sine(1000, 44_100, 1.0), 44_100, subtype="FLOAT")
    y = load_audio(path)
    assert len(y) == 16_000
    assert peak_hz(y) == pytest.approx(1000, abs=1)
    ideal = sine(1000, 16_000, 1.0)
    assert np.abs(y[200:-200] - ideal[200:-200]).max() < 2e-3


def test_downmix_is_channel_mean(tmp_path):
    x = sine(300, 96_000, 0.25)
    data = np.zeros((len(x), 8), np.float32)
    data[:, 0], data[:, 3] = x, 0.5 * x
    sf.write(str(tmp_path / "multi.wav"), data, 96_000, subtype="PCM_24")
    y = load_audio(tmp_path / "multi.wav")
    ref = load_audio(write(tmp_path / "ref.wav", x * (1.5 / 8), 96_000, subtype="FLOAT"))
    assert np.abs(y - ref).max() < 1e-4


def test_other_target_rate(tmp_path):
    y = load_audio(write(tmp_path / "a.wav", sine(440, 44_100, 0.5), 44_100), sample_rate=8_000)
    assert len(y) == 4_000 and abs(peak_hz(y, 8_000) - 440) <= 2


# --- bad inputs -------------------------------------------------------------------------------------------


def one_line_error(path, match: str, **kw) -> str:
    with pytest.raises(AudioInputError, match=match) as e:
        load_audio(path, **kw)
    msg = str(e.value)
    assert "\n" not in msg and str(path) not in msg
    return msg


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    one_line_error(tmp_path / "empty.wav", "empty file")


def test_missing_file_and_directory(tmp_path):
    one_line_error(tmp_path / "nope.wav", "no such file")
    one_line_error(tmp_path, "directory")


def test_text_named_wav(tmp_path):
    (tmp_path / "notes.wav").write_text("these are not the samples you are looking for\n" * 20)
    one_line_error(tmp_path / "notes.wav", r"not an audio file \(it looks like text\)")


def test_binary_junk(tmp_path):
    (tmp_path / "junk.wav").write_bytes(bytes(range(256)) * 8)
    one_line_error(tmp_path / "junk.wav", r"not an audio file \(format not recognised\)")


def test_truncated_wav(tmp_path):
    path = write(tmp_path / "full.wav", sine(440, 16_000, 1.0), 16_000)
    data = open(path, "rb").read()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    one_line_error(tmp_path / "cut.wav", "truncated file")
    with pytest.raises(AudioInputError, match="truncated"):
        audio_info(tmp_path / "cut.wav")
    (tmp_path / "header.wav").write_bytes(data[:30])
    one_line_error(tmp_path / "header.wav", "cannot decode audio")


def test_truncated_flac(tmp_path):
    path = write(tmp_path / "full.flac", sine(440, 44_100, 2.0), 44_100)
    data = open(path, "rb").read()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) // 2])
    one_line_error(tmp_path / "cut.flac", "cannot decode audio|truncated")


def test_truncated_mp3_strict_and_lenient(tmp_path):
    if "MP3" not in sf.available_formats():
        pytest.skip("no mp3 support in libsndfile")
    path = write(tmp_path / "full.mp3", sine(440, 44_100, 3.0), 44_100, format="MP3")
    data = open(path, "rb").read()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 2])
    one_line_error(tmp_path / "cut.mp3", "truncated file")
    y = load_audio(tmp_path / "cut.mp3", strict=False)
    assert 0.8 < len(y) / 16_000 < 2.2
    assert np.abs(y).max() <= 1.0  # no stale buffer contents past the real end


def test_zero_length_audio(tmp_path):
    write(tmp_path / "zero.wav", np.zeros(0, np.float32), 16_000)
    one_line_error(tmp_path / "zero.wav", "0-length")
    assert audio_info(tmp_path / "zero.wav").frames == 0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(tmp_path, bad):
    x = sine(440, 16_000, 0.5)
    x[1234] = bad
    write(tmp_path / "bad.wav", x, 16_000, subtype="FLOAT")
    one_line_error(tmp_path / "bad.wav", "NaN or infinite")


def test_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path / "secret.wav", sine(440, 16_000, 0.1), 16_000)
    os.chmod(path, 0)
    if os.geteuid() == 0:  # root reads any file: make the permission check see what a user would
        import recognize.speech.audio as audio
        real = os.access
        monkeypatch.setattr(audio.os, "access", lambda p, mode: False if str(p) == str(path) else real(p, mode))
    try:
        one_line_error(path, "cannot read file")
    finally:
        os.chmod(path, 0o644)


def test_fallback_decoder(tmp_path, monkeypatch):
    """When libsndfile fails on an mp3-like suffix, audioread decodes it (here its raw wav backend)."""
    x = sine(440, 22_050, 0.5)
    ref = load_audio(write(tmp_path / "ref.wav", x, 22_050, 2, subtype="PCM_16"))
    disguised = tmp_path / "clip.mp3"
    disguised.write_bytes((tmp_path / "ref.wav").read_bytes())

    def refuse(path):
        raise RuntimeError("Format not recognised")

    monkeypatch.setattr(audio, "_SoundFileSource", refuse)
    y = load_audio(disguised)
    assert np.abs(y - ref).max() < 1e-4
    assert audio_info(disguised).format == "audioread"
    with pytest.raises(AudioInputError, match="looks like text"):  # text is still reported as text
        (tmp_path / "t.mp3").write_text("hello\n" * 50)
        load_audio(tmp_path / "t.mp3")


def test_a_format_nothing_installed_can_decode_says_what_would(tmp_path, monkeypatch):
    import audioread

    def no_backend(path):
        raise audioread.NoBackendError()

    monkeypatch.setattr(audioread, "audio_open", no_backend)
    clip = tmp_path / "voice.m4a"
    clip.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(AudioInputError, match=r"does not read \.m4a .* \(install ffmpeg"):
        load_audio(clip)


# --- streaming --------------------------------------------------------------------------------------------


def joined(chunks, overlap_samples: int) -> np.ndarray:
    parts = [c.audio if i == 0 else c.audio[overlap_samples:] for i, c in enumerate(chunks)]
    return np.concatenate(parts)


@pytest.mark.parametrize("rate,channels,seconds,overlap", [(44_100, 2, 1.0, 0.25), (16_000, 1, 0.7, 0.0),
                                                          (8_000, 1, 1.0, 0.5), (96_000, 8, 0.5, 0.1)])
def test_stream_equals_whole_file(tmp_path, rate, channels, seconds, overlap):
    g = np.random.default_rng(0)
    x = (sine(700, rate, 3.3) + 0.05 * g.standard_normal(round(rate * 3.3))).astype(np.float32)
    path = write(tmp_path / "long.wav", x, rate, channels, subtype="PCM_24")
    whole = load_audio(path)
    chunks = list(stream_chunks(path, seconds, overlap))
    size, step = round(seconds * 16_000), round((seconds - overlap) * 16_000)
    assert [c.start for c in chunks] == [i * step for i in range(len(chunks))]
    assert all(len(c.audio) == size for c in chunks[:-1]) and 0 < len(chunks[-1].audio) <= size
    assert chunks[-1].end == len(whole)
    assert chunks[1].start_seconds == pytest.approx(seconds - overlap)
    assert np.abs(joined(chunks, size - step) - whole).max() < 1e-5


def test_stream_short_file_is_one_chunk(tmp_path):
    path = write(tmp_path / "short.wav", sine(440, 22_050, 0.3), 22_050)
    chunks = list(stream_chunks(path, 30.0, 1.0))
    assert len(chunks) == 1 and chunks[0].start == 0
    assert np.abs(chunks[0].audio - load_audio(path)).max() < 1e-5


def test_stream_errors(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioInputError, match="empty"):
        next(stream_chunks(tmp_path / "empty.wav", 1.0))
    x = sine(440, 16_000, 3.0)
    x[-100] = np.nan
    write(tmp_path / "nan.wav", x, 16_000, subtype="FLOAT")
    got = []
    with pytest.raises(AudioInputError, match="NaN"):
        for c in stream_chunks(tmp_path / "nan.wav", 1.0):
            got.append(c)
    assert len(got) >= 1  # chunks before the bad block came out
    with pytest.raises(ValueError):
        next(stream_chunks(tmp_path / "nan.wav", 1.0, overlap=1.0))


def test_stream_memory_is_bounded(tmp_path):
    """120 s at 8 kHz (7.7 MB as 16 kHz float32) streams in 2-s chunks with a small peak."""
    g = np.random.default_rng(1)
    path = write(tmp_path / "two_minutes.wav", (0.1 * g.standard_normal(8_000 * 120)).astype(np.float32), 8_000)
    tracemalloc.start()
    try:
        total = sum(len(c.audio) for c in stream_chunks(path, 2.0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 16_000 * 120
    assert peak < 1_500_000
