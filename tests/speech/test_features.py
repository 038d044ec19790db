"""Log-mel features (shapes, frame count, normalisation, fit with the core model) and augmentation."""
from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
import torch

from recognize.core.model import ConvBlock, CTCModel, FrontendConfig, ModelConfig, RNNConfig
from recognize.speech import features
from recognize.speech.augment import (
    AugmentConfig,
    apply_gain,
    augment_features,
    augment_waveform,
    colored_noise,
    hard_clip,
    mix_noise,
    pitch_shift,
    reverberate,
    spec_augment,
    speed_perturb,
    time_shift,
)
from recognize.speech.features import FeatureConfig, frame_seconds, log_mel, log_mel_numpy, num_frames


def sine(freq: float, seconds: float, rate: int = 16_000, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(round(rate * seconds)) / rate)).astype(np.float32)


def peak_hz(x: np.ndarray, rate: int = 16_000) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spec.argmax()])


def speech_like(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """A voiced-ish test signal: harmonics under a syllable envelope, plus a little noise."""
    g = np.random.default_rng(seed)
    n = round(16_000 * seconds)
    t = np.arange(n) / 16_000
    x = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 8))
    env = np.clip(np.sin(np.pi * t / seconds), 0, None) ** 2
    return (0.3 * x * env + 0.003 * g.standard_normal(n)).astype(np.float32)


# --- features ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_mels", [64, 80])
def test_shape_dtype(n_mels):
    f = log_mel(speech_like(), FeatureConfig(n_mels=n_mels))
    assert f.shape == (1, n_mels, 101) and f.dtype == torch.float32 and not f.requires_grad
    assert torch.isfinite(f).all()


def test_frame_count_function_matches_features():
    cfg = FeatureConfig(n_mels=64)
    g = np.random.default_rng(0)
    for n in [1, 100, 159, 160, 161, 399, 400, 12_345, 16_000, 16_001, 47_999]:
        x = (0.1 * g.standard_normal(n)).astype(np.float32)
        assert log_mel(x, cfg).shape[-1] == num_frames(n, cfg), n
    assert num_frames(0) == 0 and frame_seconds() == pytest.approx(0.01)
    assert FeatureConfig().win_length == 400 and FeatureConfig().hop_length == 160


def test_utterance_normalisation():
    f = log_mel(speech_like())[0]
    assert f.mean(dim=-1).abs().max() < 1e-4
    std = f.std(dim=-1, unbiased=False)
    assert ((std - 1).abs() < 1e-3).float().mean() > 0.95  # all bins but perhaps floored ones


def test_silence_and_unnormalised():
    zeros = log_mel(np.zeros(8000, np.float32))
    assert torch.equal(zeros, torch.zeros_like(zeros))
    cfg = FeatureConfig(normalize="none")
    raw = log_mel(np.zeros(8000, np.float32), cfg)
    assert torch.allclose(raw, torch.full_like(raw, float(np.log(cfg.log_floor))))


def test_tone_lands_in_the_right_mel_bin():
    cfg = FeatureConfig(n_mels=64, normalize="none", f_min=0.0)
    f = log_mel(sine(1000, 0.5), cfg)[0].mean(-1)
    mel = lambda hz: 2595 * np.log10(1 + hz / 700)
    centres = np.linspace(mel(0), mel(8000), 64 + 2)[1:-1]
    assert abs(int(f.argmax()) - int(np.abs(centres - mel(1000)).argmin())) <= 1


def test_numpy_and_tensor_inputs_agree_and_bad_shapes():
    x = speech_like(0.3)
    assert torch.equal(log_mel(x), log_mel(torch.from_numpy(x)))
    with pytest.raises(ValueError):
        log_mel(np.zeros((2, 100), np.float32))
    with pytest.raises(ValueError):
        log_mel(np.zeros(0, np.float32))


def test_config_from_dict_and_validation():
    cfg = FeatureConfig.from_dict({"n_mels": 64, "noise": "x", "hop_ms": 10.0})
    assert cfg.n_mels == 64
    with pytest.raises(ValueError):
        FeatureConfig(n_mels=0)
    with pytest.raises(ValueError):
        FeatureConfig(normalize="global")


def test_features_feed_the_core_model():
    cfg = FeatureConfig(n_mels=64)
    xs = [log_mel(speech_like(s, i), cfg) for i, s in enumerate((1.0, 0.6))]
    lengths = torch.tensor([x.shape[-1] for x in xs])
    batch = torch.zeros(2, 1, 64, int(lengths.max()))
    for i, x in enumerate(xs):
        batch[i, ..., : x.shape[-1]] = x
    frontend = FrontendConfig(height=64, blocks=[ConvBlock(8, pool=(2, 2)), ConvBlock(8, pool=(4, 2))])
    model = CTCModel(ModelConfig(frontend, RNNConfig(layers=1, hidden=8)), num_classes=5).eval()
    with torch.no_grad():
        log_probs, out_lengths = model(batch, lengths)
    assert log_probs.shape[:2] == (2, 25) and out_lengths.tolist() == [25, 15]


# --- augmentation -----------------------------------------------------------------------------------------


def test_augment_is_deterministic_per_rng():
    x = speech_like()
    noises = [colored_noise(5000, random.Random(9), "pink")]
    cfg = AugmentConfig(speed_p=1, shift_p=1, reverb_p=1, noise_p=1, gain_p=1)
    a = augment_waveform(x, random.Random(42), cfg, noises)
    b = augment_waveform(x, random.Random(42), cfg, noises)
    c = augment_waveform(x, random.Random(43), cfg, noises)
    assert np.array_equal(a, b) and not (len(a) == len(c) and np.allclose(a, c))
    f = log_mel(x)
    assert torch.equal(augment_features(f, random.Random(1)), augment_features(f, random.Random(1)))
    assert np.array_equal(x, speech_like())  # the input is not modified


def test_speed_and_shift():
    x = sine(500, 1.0)
    fast = speed_perturb(x, 1.1)
    assert abs(len(fast) - 16_000 / 1.1) <= 1 and peak_hz(fast) == pytest.approx(550, abs=3)
    assert speed_perturb(x, 1.0) is x
    y = time_shift(x, 800)
    assert len(y) == len(x) and not y[:800].any() and np.array_equal(y[800:], x[:-800])
    z = time_shift(x, -800)
    assert np.array_equal(z[:-800], x[800:]) and not z[-800:].any()


def test_pitch_shift_keeps_duration():
    y = pitch_shift(sine(440, 0.5), 2.0)
    assert len(y) == 8000 and peak_hz(y) == pytest.approx(440 * 2 ** (2 / 12), abs=6)


def test_noise_mix_hits_the_snr():
    x = sine(300, 1.0)
    noise = colored_noise(4000, random.Random(0))
    assert np.sqrt(np.mean(noise ** 2)) == pytest.approx(1.0, rel=1e-3)
    for snr in (0.0, 10.0, 20.0):
        y = mix_noise(x, noise, snr, random.Random(1))
        added = y - x
        measured = 10 * np.log10(np.mean(x ** 2) / np.mean(added ** 2))
        assert measured == pytest.approx(snr, abs=0.05)
    quiet = mix_noise(np.zeros(1600, np.float32), noise, 10.0, random.Random(2))
    assert 0 < np.sqrt(np.mean(quiet ** 2)) < 0.1  # silence gets noise at a random low level


@pytest.mark.parametrize("color", ["white", "pink", "brown"])
def test_colored_noise_slopes(color):
    n = colored_noise(16_000, random.Random(3), color)
    spec = np.abs(np.fft.rfft(n)) ** 2
    low, high = spec[50:500].mean(), spec[5000:7000].mean()
    assert (low / high > 5) == (color != "white")


def test_reverb_keeps_length_and_level():
    x = speech_like(0.5)
    y = reverberate(x, 0.4, random.Random(0))
    assert len(y) == len(x) and np.sqrt(np.mean(y ** 2)) == pytest.approx(np.sqrt(np.mean(x ** 2)), rel=1e-3)


def test_hard_clip_flattens_the_peaks_at_full_scale():
    x = sine(300, 0.5) * 0.2
    y = hard_clip(x, 6.0)
    assert len(y) == len(x) and y.dtype == np.float32 and np.abs(y).max() == pytest.approx(1.0)
    flat = np.abs(y) >= 1.0
    assert 0.62 < flat.mean() < 0.71  # a sine driven to twice full scale (6 dB) is flat where |sin| >= 1/2: 2/3
    assert np.allclose(y[~flat], x[~flat] * 10 ** (6 / 20) / np.abs(x).max(), atol=1e-5)  # the rest: scaled only
    assert np.array_equal(hard_clip(np.zeros(100, np.float32), 6.0), np.zeros(100, np.float32))


def test_clipping_is_off_by_default_and_draws_nothing_then():
    """Recipes written before the clipping transform get the same augmented samples as before: with
    ``clip_p`` 0 the rng is not drawn for it, so the gain is the draw right after the five transforms'."""
    x = speech_like()
    off = AugmentConfig(speed_p=0, shift_p=0, noise_p=0, gain_p=1)
    assert off.clip_p == 0.0
    rng = random.Random(7)
    for _ in range(6):  # speed, pitch, shift, reverb, noise: skipped; gain: taken (p = 1)
        rng.random()
    expected = apply_gain(x, rng.uniform(*off.gain_db))
    assert np.array_equal(augment_waveform(x, random.Random(7), off), expected)

    on = dataclasses.replace(off, clip_p=1.0, gain_p=0.0)
    rng = random.Random(7)
    for _ in range(6):  # the five skipped transforms, then clipping: taken (p = 1)
        rng.random()
    expected = hard_clip(x, rng.uniform(*on.clip_drive_db))
    clipped = augment_waveform(x, random.Random(7), on)
    assert np.array_equal(clipped, expected) and (np.abs(clipped) >= 1.0).sum() > 1


def test_spec_augment_masks_within_limits():
    f = torch.randn(1, 80, 101) + 5
    out = spec_augment(f, random.Random(5), freq_masks=2, freq_width=10, time_masks=2, time_width=20,
                       time_ratio=0.1)
    assert out.shape == f.shape
    masked = out == 0
    assert masked.all(dim=-1).sum() <= 20          # whole mel rows: at most 2 x 10
    assert masked.all(dim=-2).sum() <= 20          # whole frames: at most 2 x min(20, 10)
    assert torch.equal(out[~masked], f[~masked])
    assert torch.equal(spec_augment(f, random.Random(5), 0, 10, 0, 20), f)


@pytest.mark.parametrize("samples", [100, 1600, 16_000, 48_123])
@pytest.mark.parametrize("normalize", ["utterance", "none"])
@pytest.mark.parametrize("fft", ["scipy", "numpy"])
def test_numpy_log_mel_is_torchaudios(samples, normalize, fft, monkeypatch):
    """The runtime-only install computes features with numpy (scipy's float32 FFT when installed,
    numpy's without): they must be torchaudio's."""
    if fft == "numpy":
        monkeypatch.setattr(features, "_rfft", lambda: np.fft.rfft)
    wave = (np.random.default_rng(samples).standard_normal(samples) * 0.1).astype(np.float32)
    cfg = FeatureConfig(normalize=normalize, f_max=7600.0 if normalize == "none" else None)
    ours, ref = log_mel_numpy(wave, cfg), log_mel(wave, cfg).numpy()
    assert ours.shape == ref.shape == (1, 80, num_frames(samples, cfg)) and ours.dtype == np.float32
    assert np.abs(ours - ref).max() < 2e-4
