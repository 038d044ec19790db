"""Log-mel features for the CTC core: ``[1, n_mels, T]`` (mel bins as image rows, 10 ms frames as columns)."""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .audio import SAMPLE_RATE


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
    x = torch.as_tensor(np.asarray(wave, dtype=np.float32) if isinstance(wave, np.ndarray) else wave,
                        dtype=torch.float32)
    if x.ndim != 1 or x.numel() == 0:
        raise ValueError(f"log_mel needs a non-empty mono waveform [T], got shape {tuple(x.shape)}")
    with torch.no_grad():
        feats = _mel(cfg)(x).clamp_min(cfg.log_floor).log()
        if cfg.normalize == "utterance":
            feats = normalize(feats)
    return feats[None].contiguous()


def normalize(feats: Tensor, min_std: float = 1e-3) -> Tensor:
    """Per-utterance mean/variance normalisation of ``[..., n_mels, T]`` over time, bin by bin.

    Statistics are taken in float64 so a constant (e.g. floored) bin maps to exactly 0; ``min_std``
    keeps near-constant bins from being blown up.
    """
    x = feats.double()
    mean = x.mean(dim=-1, keepdim=True)
    std = x.std(dim=-1, keepdim=True, unbiased=False).clamp_min(min_std)
    return ((x - mean) / std).to(feats.dtype)
