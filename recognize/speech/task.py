"""Spoken commands as a task of the shared CTC core: data sources, features and augmentation."""
from __future__ import annotations

import dataclasses
import logging
import random
import string
from pathlib import Path

import numpy as np
import torch

from ..core.config import DataConfig, DataSource
from ..core.data import Item
from ..tasks import Task
from .audio import load_audio
from .augment import AugmentConfig, augment_features, augment_waveform
from .dataset import fsdd_items, manifest_items, noise_files, speech_commands_items
from .features import FeatureConfig, log_mel

log = logging.getLogger("recognize")
_NOISES: list[np.ndarray] = []  # background noise for augmentation, loaded by prepare_training
_AUGMENT = [AugmentConfig()]    # the recipe's data.augment_options, set by prepare_training


def preprocess_defaults() -> dict:
    return dataclasses.asdict(FeatureConfig())


def base_tokens() -> list[str]:
    return list(string.ascii_lowercase + " '")


def items(source: DataSource, preprocess: dict, cache: Path) -> list[Item]:
    cfg, opt = FeatureConfig.from_dict(preprocess), source.options
    if source.kind == "speech_commands":
        return speech_commands_items(source.path, split=opt.get("split", "train"), words=opt.get("words"),
                                     silence=opt.get("silence", True), seed=source.seed, features=cfg,
                                     limit=source.count)
    if source.kind == "fsdd":
        return fsdd_items(source.path, speakers=opt.get("speakers"), exclude=opt.get("exclude", ()),
                          features=cfg, limit=source.count)
    if source.kind == "manifest":
        return manifest_items(source.path, split=opt.get("split", "all"), seed=source.seed, features=cfg,
                              limit=source.count)
    if source.kind == "clip_sequences":
        from .clip_sequences import write_clip_sequences
        split = opt.get("split", "train")
        out = cache / "speech-clip-sequences" / f"seed{source.seed}-{split}"
        return manifest_items(write_clip_sequences(source.path, out, source.count, source.seed, split), features=cfg)
    if source.kind in ("synth_words", "synth_sequences"):
        from .synth.generate import write_dataset
        out = cache / "speech-synth" / f"{source.kind}-seed{source.seed}"
        write_dataset(out, source.count, source.seed, kind=source.kind.split("_")[1],
                      workers=int(opt.get("workers", 2)))
        return manifest_items(out / "manifest.tsv", features=cfg, limit=source.count)
    raise ValueError(f"speech data source kind must be speech_commands, fsdd, manifest, clip_sequences, "
                     f"synth_words or synth_sequences, not {source.kind!r}")


def prepare_training(data: DataConfig, preprocess: dict) -> None:
    """Load the background noise of every training source that offers it (``options.noise: true``) and
    take the recipe's augmentation settings (``data.augment_options``: fields of ``AugmentConfig``)."""
    known = {f.name for f in dataclasses.fields(AugmentConfig)}
    unknown = sorted(set(data.augment_options) - known)
    if unknown:
        raise ValueError(f"data.augment_options: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    _AUGMENT[0] = AugmentConfig(**{k: tuple(v) if isinstance(v, list) else v
                                   for k, v in data.augment_options.items()})
    _NOISES.clear()
    sr = FeatureConfig.from_dict(preprocess).sample_rate
    for src in data.train:
        if src.kind == "speech_commands" and src.options.get("noise", True):
            for path in noise_files(src.path, split=src.options.get("split", "train"), seed=src.seed):
                _NOISES.append(load_audio(path, sr))
    if _NOISES:
        log.info("%d background-noise recordings loaded for augmentation", len(_NOISES))


def load(key: str, preprocess: dict, rng: random.Random | None) -> torch.Tensor:
    cfg = FeatureConfig.from_dict(preprocess)
    wave = load_audio(key, cfg.sample_rate)
    if rng is None:
        return log_mel(wave, cfg)
    aug = _AUGMENT[0]
    return augment_features(log_mel(augment_waveform(wave, rng, aug, _NOISES, cfg.sample_rate), cfg), rng, aug)


TASK = Task(name="speech", preprocess_defaults=preprocess_defaults, items=items, load=load,
            base_tokens=base_tokens, tokenizer="chars", metric="wer", prepare_training=prepare_training)
