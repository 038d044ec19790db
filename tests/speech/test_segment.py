"""Speech regions of long recordings and word spans trimmed to where there is sound."""
import numpy as np
import pytest

from recognize.speech.features import FeatureConfig, num_frames
from recognize.speech.predict import trim_to_speech
from recognize.speech.segment import frame_energy, level, speech_regions

SR, HOP = 16_000, 160


def bursts(spans, seconds=10.0, noise=1e-3, seed=0):
    """Noise with 0.2-amplitude tone bursts over ``spans`` (seconds)."""
    rng = np.random.default_rng(seed)
    x = noise * rng.standard_normal(round(seconds * SR)).astype(np.float32)
    for s, e in spans:
        t = np.arange(round(s * SR), round(e * SR))
        x[t] += 0.2 * np.sin(2 * np.pi * 300 * t / SR)
    return x


def test_energy_has_one_value_per_feature_frame():
    for n in (1, 159, 160, 16_000, 16_123):
        assert len(frame_energy(np.zeros(n, np.float32), HOP)) == num_frames(n, FeatureConfig())


def test_regions_around_bursts_with_padding():
    regions = speech_regions(frame_energy(bursts([(1.0, 1.5), (4.0, 4.4), (4.6, 5.0)]), HOP), 0.01, pad=0.2)
    # the 0.2-s gap is bridged; edges land within a frame or two of burst +- padding
    assert len(regions) == 2
    (s1, e1), (s2, e2) = regions
    assert abs(s1 - 80) <= 3 and abs(e1 - 170) <= 3 and abs(s2 - 380) <= 3 and abs(e2 - 520) <= 3


def test_silence_has_no_regions_and_long_speech_is_split():
    assert speech_regions(frame_energy(bursts([]), HOP), 0.01) == []
    assert speech_regions(np.zeros(0, np.float32), 0.01) == []
    regions = speech_regions(frame_energy(bursts([(0.5, 9.5)]), HOP), 0.01, max_region=3.0)
    assert len(regions) >= 3 and all(e - s <= 300 for s, e in regions)
    assert all(a[1] == b[0] for a, b in zip(regions, regions[1:]))  # split, nothing lost


def test_trim_to_speech_shrinks_but_never_grows():
    energy = level(frame_energy(bursts([(2.0, 2.5)]), HOP), HOP / SR)
    assert trim_to_speech(100, 400, energy) == pytest.approx((200, 251), abs=2)
    assert trim_to_speech(220, 240, energy) == (220, 240)
    assert trim_to_speech(600, 700, energy) == (600, 700)  # nothing audible: left alone


def test_trim_to_speech_keeps_the_sound_around_the_loudest_frame():
    hop = HOP / SR
    x = bursts([(2.0, 2.4), (2.45, 2.6)], noise=1e-3)  # a word with a 50-ms closure inside
    t = np.arange(round(1.5 * SR), round(1.55 * SR))
    x[t] += 0.02 * np.sin(2 * np.pi * 300 * t / SR)  # a click half a second before it, 20 dB down
    lv = level(frame_energy(x, HOP), hop)
    assert trim_to_speech(120, 300, lv, max_gap=10) == pytest.approx((200, 260), abs=3)
    assert trim_to_speech(120, 300, lv, max_gap=100)[0] == pytest.approx(150, abs=3)  # bridged: the click too


def test_a_click_is_no_speech_region_and_a_short_word_is():
    energy = frame_energy(bursts([(2.0, 2.02), (5.0, 5.15)]), HOP)  # a 20-ms click, a 150-ms word
    regions = speech_regions(energy, HOP / SR, pad=0.0)
    assert len(regions) == 1 and abs(regions[0][0] - 500) <= 3
