"""Log-mel features for the CTC core: ``[1, n_mels, T]`` (mel bins as image rows, 10 ms frames as columns).

torchaudio computes them for training (augmentation works on tensors); inference uses
:func:`log_mel_numpy`, the same computation in numpy (faster on short clips, and it needs no torch,
so the runtime-only install has it), pinned to torchaudio's to 1e-4 by a test.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .audio import SAMPLE_RATE

if TYPE_CHECKING:
    from torch import Tensor


@dataclass(frozen=True)
class FeatureConfig:
    """Log-mel settings; the defaults are 80 mels, 25 ms Hann windows every 10 ms at 16 kHz."""

    sample_rate: int = SAMPLE_RATE
    n_mels: int = 80
    win_ms: float = 25.0
    hop_ms: float = 10.0
    n_fft: int = 512
    f_min: float = 20.0
    f_max: float | None = None       # None = sample_rate / 2
    log_floor: float = 1e-6          # mel power below this is clamped before the log (~ -80 dBFS noise)
    normalize: str = "utterance"     # utterance: each mel bin to zero mean, unit variance over time | none

    def __post_init__(self):
        if self.n_mels < 1 or self.win_length > self.n_fft or self.hop_length < 1:
            raise ValueError(f"bad feature settings: n_mels={self.n_mels}, window {self.win_length} samples, "
                             f"hop {self.hop_length}, n_fft {self.n_fft}")
        if self.normalize not in ("utterance", "none"):
            raise ValueError(f"features normalize must be utterance or none, not {self.normalize!r}")

    @property
    def win_length(self) -> int:
        return round(self.sample_rate * self.win_ms / 1000)

    @property
    def hop_length(self) -> int:
        return round(self.sample_rate * self.hop_ms / 1000)

    @classmethod
    def from_dict(cls, d: dict) -> FeatureConfig:
        """Build from a task's preprocess dict, ignoring keys that are not feature settings."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


DEFAULT_FEATURES = FeatureConfig()


def num_frames(num_samples: int, cfg: FeatureConfig = DEFAULT_FEATURES) -> int:
    """Feature frames ``log_mel`` gives for ``num_samples`` samples (centred frames: ``1 + n // hop``)."""
    return 1 + num_samples // cfg.hop_length if num_samples > 0 else 0


def frame_seconds(cfg: FeatureConfig = DEFAULT_FEATURES) -> float:
    """Duration of one feature frame step in seconds (0.01 by default)."""
    return cfg.hop_length / cfg.sample_rate


@functools.lru_cache(maxsize=8)
def _mel(cfg: FeatureConfig):
    import torchaudio  # imported lazily: a few hundred ms, and only the speech task needs it

    return torchaudio.transforms.MelSpectrogram(
        sample_rate=cfg.sample_rate, n_fft=cfg.n_fft, win_length=cfg.win_length, hop_length=cfg.hop_length,
        f_min=cfg.f_min, f_max=cfg.f_max, n_mels=cfg.n_mels, power=2.0, center=True,
        pad_mode="constant",  # unlike reflect padding, works for clips shorter than half a window
        mel_scale="htk")


def log_mel(wave: np.ndarray | Tensor, cfg: FeatureConfig = DEFAULT_FEATURES) -> Tensor:
    """Mono float waveform ``[T_samples]`` at ``cfg.sample_rate`` -> float32 ``[1, n_mels, num_frames(T)]``."""
    import torch
    x = torch.as_tensor(np.asarray(wave, dtype=np.float32) if isinstance(wave, np.ndarray) else wave,
                        dtype=torch.float32)
    if x.ndim != 1 or x.numel() == 0:
        raise ValueError(f"log_mel needs a non-empty mono waveform [T], got shape {tuple(x.shape)}")
    with torch.no_grad():
        feats = _mel(cfg)(x).clamp_min(cfg.log_floor).log()
        if cfg.normalize == "utterance":
            feats = normalize(feats)
    return feats[None].contiguous()


def normalize(feats, min_std: float = 1e-3):
    """Per-utterance mean/variance normalisation of ``[..., n_mels, T]`` over time, bin by bin.

    Statistics are taken in float64 so a constant (e.g. floored) bin maps to exactly 0; ``min_std``
    keeps near-constant bins from being blown up.
    """
    if isinstance(feats, np.ndarray):  # float32 values, float64 sums (a float32 mean of a constant is exact)
        centred = feats - feats.mean(axis=-1, keepdims=True, dtype=np.float64).astype(feats.dtype)
        var = np.mean(np.square(centred), axis=-1, keepdims=True, dtype=np.float64)
        return centred / np.maximum(np.sqrt(var), min_std).astype(feats.dtype)
    x = feats.double()
    mean = x.mean(dim=-1, keepdim=True)
    std = x.std(dim=-1, keepdim=True, unbiased=False).clamp_min(min_std)
    return ((x - mean) / std).to(feats.dtype)


@functools.lru_cache(maxsize=8)
def mel_filters(cfg: FeatureConfig) -> np.ndarray:
    """HTK-scale triangular filters ``[n_freqs, n_mels]`` without area normalisation, as torchaudio's
    ``melscale_fbanks(norm=None, mel_scale="htk")`` makes them."""
    n_freqs = cfg.n_fft // 2 + 1
    f_max = cfg.f_max if cfg.f_max is not None else cfg.sample_rate / 2
    freqs = np.linspace(0, cfg.sample_rate // 2, n_freqs)
    mel = np.linspace(2595.0 * np.log10(1.0 + cfg.f_min / 700.0), 2595.0 * np.log10(1.0 + f_max / 700.0),
                      cfg.n_mels + 2)
    hz = 700.0 * (10 ** (mel / 2595.0) - 1.0)
    diff = np.diff(hz)
    slopes = hz[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    return np.maximum(0.0, np.minimum(down, up))


@functools.lru_cache(maxsize=8)
def _numpy_tables(cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """The analysis window (a periodic Hann window of ``win_length`` centred in ``n_fft``) and the mel
    filters, float32, made once per configuration."""
    window = np.zeros(cfg.n_fft, np.float32)
    left = (cfg.n_fft - cfg.win_length) // 2
    window[left:left + cfg.win_length] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(cfg.win_length) / cfg.win_length)
    return window, mel_filters(cfg).astype(np.float32)


@functools.cache
def _rfft():
    """scipy's real FFT when installed (float32 in, complex64 out: ~1.8x numpy 1.26's, which works
    in float64 whatever its input), else numpy's; the runtime-only install has no scipy."""
    try:
        from scipy.fft import rfft
    except ImportError:
        return np.fft.rfft
    return rfft


def log_mel_numpy(wave: np.ndarray, cfg: FeatureConfig = DEFAULT_FEATURES) -> np.ndarray:
    """The log-mel features of :func:`log_mel` computed with numpy: centred frames with zero padding,
    a periodic Hann window of ``win_length`` centred in ``n_fft``, power spectrum, HTK mel filters."""
    x = np.asarray(wave, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"log_mel needs a non-empty mono waveform [T], got shape {x.shape}")
    n_fft, hop = cfg.n_fft, cfg.hop_length
    window, filters = _numpy_tables(cfg)
    padded = np.pad(x, (n_fft // 2, n_fft // 2))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][: num_frames(len(x), cfg)]
    spec = _rfft()(frames * window, axis=-1)
    parts = np.square(spec.view(spec.real.dtype))  # re^2, im^2 interleaved
    power = (parts[:, 0::2] + parts[:, 1::2]).astype(np.float32, copy=False)
    feats = np.log(np.maximum(power @ filters, cfg.log_floor)).T
    if cfg.normalize == "utterance":
        feats = normalize(feats)
    return np.ascontiguousarray(feats, np.float32)[None]
