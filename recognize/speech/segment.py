"""Finding where someone speaks in a long recording, so the model reads utterances like those it was
trained on (a few seconds, starting and ending near speech).

A bidirectional CTC model knows where its input ends and tends to emit an utterance's last token
on the last frame; fed 10-s windows of a long file it would stretch the window's last word to the
window's edge. Cutting the audio into speech regions first keeps every word's tokens next to it.
"""
from __future__ import annotations

import numpy as np

QUIET_DB = -70.0  # full scale = 0 dB; a 16-bit noise floor is about -90 dB


def frame_energy(wave: np.ndarray, hop: int) -> np.ndarray:
    """Level in dB of each ``hop``-sample frame, centred on sample ``i * hop`` like the features."""
    n = len(wave) // hop + 1
    padded = np.pad(np.asarray(wave, np.float32), (hop // 2, n * hop - len(wave) - hop // 2 + hop))
    frames = padded[: n * hop].reshape(n, hop)
    power = np.einsum("ij,ij->i", frames, frames) / np.float32(hop)  # float32 sums: ample for decibels
    return (10 * np.log10(power + np.float32(1e-10))).astype(np.float32, copy=False)


def smooth(energy: np.ndarray, frames: int) -> np.ndarray:
    """Moving average in the power domain over ``frames`` frames (odd), same length."""
    if frames <= 1 or len(energy) < 2:
        return energy
    power = 10 ** (energy.astype(np.float64) / 10)
    kernel = np.ones(frames) / frames
    return (10 * np.log10(np.convolve(np.pad(power, frames // 2, mode="edge"), kernel, "valid") + 1e-10)
            ).astype(np.float32)


def level(energy: np.ndarray, hop_seconds: float) -> np.ndarray:
    """The frame levels smoothed over 30 ms: a 10-ms frame of steady noise wanders by several dB,
    a syllable does not stop in 30 ms."""
    return smooth(energy, max(1, round(0.03 / hop_seconds)) | 1)


def speech_regions(energy: np.ndarray, hop_seconds: float, above_floor_db: float = 8.0,
                   min_gap: float = 0.3, pad: float = 0.25, min_speech: float = 0.1,
                   max_region: float = 8.0) -> list[tuple[int, int]]:
    """Frame ranges ``[start, end)`` where the level is ``above_floor_db`` over the recording's quiet
    level (its 10th percentile), gaps under ``min_gap`` s bridged, ``pad`` s added each side.

    Regions longer than ``max_region`` s are split at their quietest frame, so memory and the
    model's input length stay bounded in continuous speech. Sounds shorter than ``min_speech`` s
    (a click, a tap of the microphone) are no regions: alone, the model read a word into them
    (0.05 s let a click at the start of a real clip through, read as "up": benchmarks/speech_long.py
    --split valid at commit a3593b8, WER 3.33 -> 2.50 % with --vocabulary, no word lost).
    """
    if not len(energy):
        return []
    smoothed = level(energy, hop_seconds)
    floor = max(float(np.percentile(smoothed, 3)), QUIET_DB)
    active = np.flatnonzero(smoothed >= floor + above_floor_db)
    if not len(active):
        return []
    gap, p = round(min_gap / hop_seconds), round(pad / hop_seconds)
    breaks = np.flatnonzero(np.diff(active) > gap)
    starts = np.r_[active[0], active[breaks + 1]]
    ends = np.r_[active[breaks], active[-1]] + 1
    regions = []
    for s, e in zip(starts.tolist(), ends.tolist()):
        if (e - s) * hop_seconds < min_speech:
            continue
        s, e = max(0, s - p), min(len(energy), e + p)
        if regions and s <= regions[-1][1]:  # padding made them touch
            s = regions.pop()[0]
        regions.append((s, e))
    longest = max(1, round(max_region / hop_seconds))
    return [piece for r in regions for piece in _split(r, smoothed, longest)]


def _split(region: tuple[int, int], level: np.ndarray, longest: int) -> list[tuple[int, int]]:
    s, e = region
    if e - s <= longest:
        return [region]
    quarter = (e - s) // 4  # cut in the middle half, where the quietest frame is
    cut = s + quarter + int(np.argmin(level[s + quarter: e - quarter]))
    return _split((s, cut), level, longest) + _split((cut, e), level, longest)
