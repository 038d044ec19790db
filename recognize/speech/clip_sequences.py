"""Command sequences made of real recorded words: clips of one Speech Commands split, each cut to its
sound, joined with pauses into utterances of several commands.

The TTS sequences teach the model to read several commands in one utterance, but only in TTS
voices; on real voices it reads sequences far worse than single words (benchmarks/speech_long.py
--layout sequence). These are the same layout in the voices of the split's speakers (and only
theirs: the split is the speaker-disjoint one of ``speech_commands_items`` with the same seed).
Written once into the disk cache, with a manifest; the folder is stamped with what drew it.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from ..core.stamp import match_stamp
from .augment import colored_noise
from .dataset import speech_commands_items

VERSION = 1
RATE = 16_000
WORDS = (2, 4)            # commands per utterance
PAUSE = (0.1, 0.5)        # seconds between commands
EDGE = (0.1, 0.3)         # seconds before the first and after the last
FLOOR_DB = (-65.0, -50.0)  # pink noise under the pauses, dB full scale
FADE = 0.01               # seconds of fade at each cut


def cut(clip: np.ndarray) -> np.ndarray:
    """The clip from the start of its first speech region to the end of its last (0.1 s of margin),
    faded in and out; the whole clip when no region is found."""
    from .segment import frame_energy, speech_regions
    hop = RATE // 100
    regions = speech_regions(frame_energy(clip, hop), hop / RATE, pad=0.1)
    if regions:
        clip = clip[regions[0][0] * hop: regions[-1][1] * hop]
    fade = min(round(FADE * RATE), len(clip) // 2)
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    out = clip.astype(np.float32, copy=True)
    if fade:
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out


def join(clips: list[np.ndarray], rng: random.Random) -> np.ndarray:
    """The clips one after the other with pauses, over quiet pink noise."""
    gaps = [rng.uniform(*EDGE)] + [rng.uniform(*PAUSE) for _ in clips[1:]] + [rng.uniform(*EDGE)]
    n = sum(len(c) for c in clips) + sum(round(g * RATE) for g in gaps)
    audio = np.float32(10 ** (rng.uniform(*FLOOR_DB) / 20)) * colored_noise(n, rng, "pink").astype(np.float32)
    at = round(gaps[0] * RATE)
    for clip, gap in zip(clips, gaps[1:]):
        audio[at:at + len(clip)] += clip
        at += len(clip) + round(gap * RATE)
    peak = float(np.abs(audio).max())
    return audio * np.float32(0.99 / peak) if peak > 0.99 else audio


def write_clip_sequences(root: str | Path, out: Path, count: int, seed: int, split: str = "train") -> Path:
    """Write ``count`` utterances of the ``split`` (speaker hash with ``seed``) of the Speech Commands
    tree ``root`` into ``out`` (once: a complete folder is kept) and return its manifest."""
    import soundfile as sf

    from .audio import load_audio
    manifest = out / "manifest.tsv"
    match_stamp(out, {"version": VERSION, "root": str(Path(root).resolve()), "split": split, "seed": seed},
                "drawing.json", ["*.wav", "manifest.tsv"], "clip sequences")
    if manifest.is_file() and len(manifest.read_text(encoding="utf-8").splitlines()) == count + 1:
        return manifest
    words = speech_commands_items(root, split=split, seed=seed, silence=False)
    if not words:
        raise ValueError(f"{root}: no word clips in the {split} split to make sequences of")
    rng = random.Random(f"clip-sequences-{seed}-{split}")
    rows = ["path\ttext\tspeaker\tduration"]
    for i in range(count):
        picks = [words[rng.randrange(len(words))] for _ in range(rng.randint(*WORDS))]
        audio = join([cut(load_audio(it.key, RATE)) for it in picks], rng)
        name = f"seq-{i:07d}.wav"
        sf.write(out / name, audio, RATE, subtype="PCM_16")
        rows.append(f"{name}\t{' '.join(it.text for it in picks)}\t\t{len(audio) / RATE:.4f}")
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return manifest
