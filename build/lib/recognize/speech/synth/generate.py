"""Synthetic command clips and command sequences, deterministic in ``(seed, index)``, and datasets of them.

Every random choice (word, voice, speed, pitch, placement, pauses, noise) comes from one
``random.Random`` seeded with ``(kind, seed, index)``, so a sample is reproduced exactly on the same
set of installed voices, whatever the worker or order it is made in. Audio is mono float32 at 16 kHz.
"""
from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import os
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import SAMPLE_RATE, resample
from ..augment import colored_noise, mix_noise
from .voices import SynthesisError, Voice, voices_by_engine
from .words import WORDS, random_sequence

log = logging.getLogger("recognize")

KINDS = {"words": "word", "sequences": "seq"}  # kind -> file name prefix
MANIFEST = "manifest.tsv"
SETTINGS = "synth.json"
NOISE_COLORS = ("white", "pink", "brown")
_failed: set[tuple[str, str]] = set()  # (voice, text) pairs that failed in this process


@dataclass(frozen=True)
class SynthConfig:
    """Ranges of the random choices (uniform unless said otherwise)."""

    words: tuple[str, ...] = WORDS
    engine_weights: tuple[tuple[str, float], ...] = (
        ("espeak-ng", 0.2), ("mbrola", 0.2), ("flite", 0.2), ("pico", 0.15), ("festival", 0.25))
    speed: tuple[float, float] = (0.75, 1.25)        # tempo factor (TTS words are ~0.4 s, human ~0.5 s)
    pitch: tuple[float, float] = (-3.0, 3.0)         # semitones
    peak_db: tuple[float, float] = (-14.0, -1.0)     # speech peak level before noise
    clip_seconds: float = 1.0                        # word clips: at least this long ...
    margin_seconds: float = 0.04                     # ... with at least this much room each side
    word_snr_db: tuple[float, float] = (25.0, 50.0)  # low-level noise floor in word clips
    min_words: int = 2
    max_words: int = 5
    pause_seconds: tuple[float, float] = (0.15, 0.8)  # between the words of a sequence
    edge_seconds: tuple[float, float] = (0.1, 0.5)    # before the first and after the last word
    sequence_snr_db: tuple[float, float] = (5.0, 30.0)
    same_voice_p: float = 0.85                       # a sequence's word keeps the first word's voice
    word_jitter: float = 0.08                        # per-word speed factor jitter in a sequence (+-)
    real_noise_p: float = 0.5                        # share of real noise draws when noise arrays are given
    trim_db: float = 40.0                            # silence = frames this far below the loudest frame
    retries: int = 5                                 # other voices tried when one fails


@dataclass
class Sample:
    """One generated utterance: ``audio`` float32 ``[T]`` at 16 kHz, its transcript, main voice and
    ``spans``: ``(word, start_s, end_s)`` of each spoken word."""

    audio: np.ndarray
    text: str
    voice: str
    spans: list[tuple[str, float, float]] = field(default_factory=list)


def trim_silence(x: np.ndarray, sample_rate: int = SAMPLE_RATE, threshold_db: float = 40.0,
                 frame_seconds: float = 0.01, pad_seconds: float = 0.01) -> np.ndarray:
    """Cut leading/trailing frames more than ``threshold_db`` below the loudest frame, keeping ``pad``. ``[T]``."""
    frame = max(1, round(frame_seconds * sample_rate))
    count = len(x) // frame
    if count == 0:
        return x
    rms = np.sqrt(np.mean(x[: count * frame].astype(np.float64).reshape(count, frame) ** 2, axis=1))
    loud = np.flatnonzero(rms > max(float(rms.max()) * 10 ** (-threshold_db / 20), 1e-5))
    if not len(loud):
        return x[:0]
    pad = round(pad_seconds * sample_rate)
    return x[max(0, loud[0] * frame - pad): min(len(x), (loud[-1] + 1) * frame + pad)]


def sample_rng(kind: str, seed: int, index: int) -> random.Random:
    """The generator behind sample ``index`` of ``kind`` (``words``/``sequences``) for ``seed``."""
    return random.Random(f"recognize.synth:{kind}:{seed}:{index}")


def make_sample(kind: str, index: int, seed: int, config: SynthConfig = SynthConfig(),
                voices: dict[str, list[Voice]] | None = None, noises: Sequence[np.ndarray] = ()) -> Sample:
    """Sample ``index`` of ``kind`` (``words`` or ``sequences``); ``voices`` defaults to all installed."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (use {' or '.join(KINDS)})")
    voices = _usable(voices if voices is not None else voices_by_engine(), config)
    rng = sample_rng(kind, seed, index)
    return (_word if kind == "words" else _sequence)(rng, config, voices, noises)


def synth_word_clip(index: int, seed: int, config: SynthConfig = SynthConfig(),
                    voices: dict[str, list[Voice]] | None = None,
                    noises: Sequence[np.ndarray] = ()) -> tuple[np.ndarray, str]:
    """One word in a 1-s clip (longer if the word is) at a random offset with low noise: ``(audio, word)``."""
    s = make_sample("words", index, seed, config, voices, noises)
    return s.audio, s.text


def synth_sequence(index: int, seed: int, config: SynthConfig = SynthConfig(),
                   voices: dict[str, list[Voice]] | None = None,
                   noises: Sequence[np.ndarray] = ()) -> tuple[np.ndarray, str]:
    """2-5 words with pauses over background noise (generated, or drawn from ``noises``, 16 kHz arrays)
    at a random SNR: ``(audio, "go left stop")``."""
    s = make_sample("sequences", index, seed, config, voices, noises)
    return s.audio, s.text


# --- building samples -------------------------------------------------------------------------------------


def _usable(voices: dict[str, list[Voice]], config: SynthConfig) -> dict[str, list[Voice]]:
    out = {e: voices[e] for e, w in config.engine_weights if w > 0 and voices.get(e)}
    if not out:
        raise SynthesisError("no TTS voice available (run data/setup_tts.sh as root to install the engines)")
    return out


def _pick_voice(rng: random.Random, voices: dict[str, list[Voice]], config: SynthConfig) -> Voice:
    """An engine by weight among those installed, then one of its voices."""
    weights = dict(config.engine_weights)
    engines = list(voices)
    engine = rng.choices(engines, weights=[weights[e] for e in engines])[0]
    return rng.choice(voices[engine])


def _say(rng: random.Random, text: str, voice: Voice, speed: float, pitch: float,
         voices: dict[str, list[Voice]], config: SynthConfig) -> tuple[np.ndarray, Voice]:
    """``text`` spoken at 16 kHz with silence trimmed; another voice is drawn if one fails."""
    for attempt in range(config.retries + 1):
        try:
            audio, rate = voice.synthesize(text, speed, pitch)
            audio = trim_silence(resample(audio, rate, SAMPLE_RATE), SAMPLE_RATE, config.trim_db)
            if len(audio) >= SAMPLE_RATE // 20:
                return audio, voice
            error: Exception = SynthesisError(f"{voice.key}: under 50 ms of speech for {text!r}")
        except SynthesisError as e:
            error = e
        if attempt < config.retries:
            if (voice.key, text) not in _failed:  # e.g. mb-us3 cannot say "on": warn once per process
                _failed.add((voice.key, text))
                log.warning("%s; trying another voice", error)
            voice = _pick_voice(rng, voices, config)
    raise SynthesisError(f"no voice could speak {text!r}: {error}")


def _level(x: np.ndarray, rng: random.Random, config: SynthConfig) -> np.ndarray:
    peak = float(np.abs(x).max()) if len(x) else 0.0
    if peak <= 0:
        return x
    return (x * np.float32(10 ** (rng.uniform(*config.peak_db) / 20) / peak)).astype(np.float32)


def _add_noise(x: np.ndarray, rng: random.Random, snr_db: tuple[float, float], noises: Sequence[np.ndarray],
               config: SynthConfig) -> np.ndarray:
    if noises and rng.random() < config.real_noise_p:
        noise = np.asarray(noises[rng.randrange(len(noises))], dtype=np.float32)
    else:
        noise = colored_noise(len(x), rng, rng.choice(NOISE_COLORS))
    y = mix_noise(x, noise, rng.uniform(*snr_db), rng)
    peak = float(np.abs(y).max()) if len(y) else 0.0
    return (y * np.float32(0.99 / peak) if peak > 0.99 else y).astype(np.float32)


def _word(rng: random.Random, config: SynthConfig, voices: dict[str, list[Voice]],
          noises: Sequence[np.ndarray]) -> Sample:
    word = rng.choice(config.words)
    voice = _pick_voice(rng, voices, config)
    speech, voice = _say(rng, word, voice, rng.uniform(*config.speed), rng.uniform(*config.pitch), voices, config)
    speech = _level(speech, rng, config)
    margin = round(config.margin_seconds * SAMPLE_RATE)
    n = max(round(config.clip_seconds * SAMPLE_RATE), len(speech) + 2 * margin)
    start = rng.randint(margin, n - len(speech) - margin)
    clip = np.zeros(n, np.float32)
    clip[start: start + len(speech)] = speech
    span = (word, start / SAMPLE_RATE, (start + len(speech)) / SAMPLE_RATE)
    return Sample(_add_noise(clip, rng, config.word_snr_db, noises, config), word, voice.key, [span])


def _sequence(rng: random.Random, config: SynthConfig, voices: dict[str, list[Voice]],
              noises: Sequence[np.ndarray]) -> Sample:
    words = random_sequence(rng, config.words, config.min_words, config.max_words)
    main = _pick_voice(rng, voices, config)
    speed, pitch = rng.uniform(*config.speed), rng.uniform(*config.pitch)
    lo, hi = config.speed
    parts = [np.zeros(round(rng.uniform(*config.edge_seconds) * SAMPLE_RATE), np.float32)]
    at, spans = len(parts[0]), []
    for i, word in enumerate(words):
        voice = main if i == 0 or rng.random() < config.same_voice_p else _pick_voice(rng, voices, config)
        word_speed = min(hi, max(lo, speed * rng.uniform(1 - config.word_jitter, 1 + config.word_jitter)))
        audio, used = _say(rng, word, voice, word_speed, pitch + rng.uniform(-0.5, 0.5), voices, config)
        if i == 0:
            main = used
        audio = _level(audio, rng, config)
        parts.append(audio)
        spans.append((word, at / SAMPLE_RATE, (at + len(audio)) / SAMPLE_RATE))
        gap = config.pause_seconds if i < len(words) - 1 else config.edge_seconds
        parts.append(np.zeros(round(rng.uniform(*gap) * SAMPLE_RATE), np.float32))
        at += len(audio) + len(parts[-1])
    speech = np.concatenate(parts)
    peak = float(np.abs(speech).max())
    speech = speech * np.float32(10 ** (rng.uniform(*config.peak_db) / 20) / peak) if peak > 0 else speech
    audio = _add_noise(speech.astype(np.float32), rng, config.sequence_snr_db, noises, config)
    return Sample(audio, " ".join(words), main.key, spans)


# --- datasets ---------------------------------------------------------------------------------------------


def write_dataset(out_dir: str | Path, n: int, seed: int, kind: str = "words", workers: int = 2,
                  config: SynthConfig = SynthConfig(), noises: Sequence[np.ndarray] = (),
                  voices: dict[str, list[Voice]] | None = None) -> Path:
    """Write samples ``0..n-1`` as ``{word|seq}-NNNNNNN.wav`` (16-bit PCM, 16 kHz) and ``manifest.tsv``.

    The manifest has ``path``, ``text``, ``speaker`` (the voice) and ``duration`` columns, as
    ``dataset.manifest_items`` reads. Files already there are kept (resume); each wav is written to a
    temporary name and renamed; the transcript and voice also go in the wav's INFO chunk, so a resumed
    run rebuilds the manifest without re-synthesising. A folder made with another seed, kind, config
    or voice set is refused. Samples no voice could speak are left out with a warning. Returns the
    manifest path.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (use {' or '.join(KINDS)})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    voices = _usable(voices if voices is not None else voices_by_engine(), config)
    _check_settings(out, kind, seed, config, voices)
    for stale in out.glob(".*.wav.tmp"):
        stale.unlink()
    names = [f"{KINDS[kind]}-{i:07d}.wav" for i in range(n)]
    todo = [i for i in range(n) if not (out / names[i]).is_file()]
    log.info("synth %s: %d of %d to make in %s", kind, len(todo), n, out)
    rows: dict[int, tuple[str, str, float]] = {}
    args = (out, kind, seed, config, voices, noises)
    if workers <= 1 or len(todo) <= 1:
        _init_worker(*args)
        results = map(_job, todo)
        rows.update((i, r) for i, r in zip(todo, results) if r)
    else:
        with mp.get_context("fork").Pool(workers, _init_worker, args) as pool:
            for i, r in zip(todo, pool.imap(_job, todo, chunksize=4)):
                if r:
                    rows[i] = r
    failed = len(todo) - len(rows)
    for i in range(n):
        if i not in rows and (out / names[i]).is_file():
            rows[i] = _read_back(out / names[i])
    lines = ["path\ttext\tspeaker\tduration"]
    lines += [f"{names[i]}\t{text}\t{voice}\t{seconds:.4f}" for i, (text, voice, seconds) in sorted(rows.items())]
    manifest = out / MANIFEST
    _atomic_text(manifest, "\n".join(lines) + "\n")
    if failed:
        log.warning("synth %s: %d sample(s) could not be made and are not in the manifest", kind, failed)
    return manifest


_worker: tuple = ()


def _init_worker(*args) -> None:
    global _worker
    _worker = args


def _job(index: int) -> tuple[str, str, float] | None:
    out, kind, seed, config, voices, noises = _worker
    try:
        s = make_sample(kind, index, seed, config, voices, noises)
    except SynthesisError as e:
        log.warning("synth %s %d skipped: %s", kind, index, e)
        return None
    path = out / f"{KINDS[kind]}-{index:07d}.wav"
    tmp = out / f".{path.name}.tmp"
    with sf.SoundFile(str(tmp), "w", SAMPLE_RATE, 1, "PCM_16", format="WAV") as f:
        f.title, f.artist = s.text, s.voice
        f.write(s.audio)
    os.replace(tmp, path)
    return s.text, s.voice, len(s.audio) / SAMPLE_RATE


def _read_back(path: Path) -> tuple[str, str, float]:
    with sf.SoundFile(str(path)) as f:
        return f.title, f.artist, f.frames / f.samplerate


def _check_settings(out: Path, kind: str, seed: int, config: SynthConfig, voices: dict[str, list[Voice]]) -> None:
    keys = "\n".join(v.key for vs in voices.values() for v in vs)
    settings = {"kind": kind, "seed": seed, "config": json.loads(json.dumps(asdict(config))),
                "voices": {e: len(vs) for e, vs in voices.items()},
                "voices_sha1": hashlib.sha1(keys.encode()).hexdigest()}
    path = out / SETTINGS
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old != settings:
            diff = sorted(k for k in settings if old.get(k) != settings[k])
            raise ValueError(f"{out} holds a synthetic set made with other settings ({', '.join(diff)} differ); "
                             "use another folder or the same settings")
        return
    _atomic_text(path, json.dumps(settings, indent=1) + "\n")


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

