"""Speech output writers: txt, json, tsv, srt and vtt (one cue per recognised word)."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .result import Transcript

JSON_FORMAT = "recognize-speech/1"
LINE_FORMATS = ("txt",)  # one line per input: several inputs on stdout are prefixed with their paths


@dataclass(frozen=True)
class Writer:
    name: str
    extension: str
    render: Callable[[Transcript], str | bytes]
    binary: bool = False


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def render_txt(t: Transcript) -> str:
    return t.text + "\n"


def render_json(t: Transcript) -> str:
    return json.dumps({"format": JSON_FORMAT, **t.to_dict()}, ensure_ascii=False, indent=2) + "\n"


def render_tsv(t: Transcript) -> str:
    rows = ["word\tstart\tend\tconfidence"]
    rows += [f"{w.text}\t{w.start:.3f}\t{w.end:.3f}\t{w.confidence:.4f}" for w in t.words]
    return "\n".join(rows) + "\n"


def render_srt(t: Transcript) -> str:
    cues = [f"{i}\n{_clock(w.start, ',')} --> {_clock(w.end, ',')}\n{w.text}\n"
            for i, w in enumerate(t.words, 1)]
    return "\n".join(cues)


def render_vtt(t: Transcript) -> str:
    cues = [f"{_clock(w.start, '.')} --> {_clock(w.end, '.')}\n{w.text}\n" for w in t.words]
    return "WEBVTT\n\n" + "\n".join(cues)


PNG_MAX_SECONDS = 600.0  # a longer file's picture shows its first ten minutes
PNG_MIN_WIDTH = 400      # pixels


def render_png(t: Transcript) -> bytes:
    """The log-mel spectrogram with each word's span and times, coloured by confidence."""
    from PIL import Image

    from ..core.overlay import Span, draw, heatmap, png
    from .audio import stream_chunks
    from .features import FeatureConfig, frame_seconds, log_mel_numpy
    cfg = FeatureConfig(normalize="none")
    first = next(stream_chunks(t.source, PNG_MAX_SECONDS, 0.0, cfg.sample_rate), None)  # reads no further
    wave = first.audio if first is not None else np.zeros(0, np.float32)
    shown = len(wave) / cfg.sample_rate
    spec = heatmap(log_mel_numpy(wave, cfg)[0]) if len(wave) else Image.new("RGB", (100, cfg.n_mels))
    stretch = max(1, -(-PNG_MIN_WIDTH // spec.width))  # a one-second clip is 100 frames: widen it
    spec = spec.resize((spec.width * stretch, 2 * spec.height), Image.Resampling.NEAREST)
    hop = frame_seconds(cfg) / stretch
    spans = [Span(w.start / hop, w.end / hop, f"{w.text} {w.start:.2f}-{w.end:.2f}s", w.confidence)
             for w in t.words if w.start < shown]
    title = f"{t.text or '(nothing recognised)'}   {t.duration:.2f} s" + (
        f", first {shown:.0f} s shown" if shown < t.duration else "")
    return png(draw(spec, spans, vertical_labels=len(spans) > 1 and shown / max(len(spans), 1) < 1.0, title=title))


WRITERS: dict[str, Writer] = {w.name: w for w in (
    Writer("txt", ".txt", render_txt), Writer("json", ".json", render_json), Writer("tsv", ".tsv", render_tsv),
    Writer("srt", ".srt", render_srt), Writer("vtt", ".vtt", render_vtt),
    Writer("png", ".png", render_png, binary=True))}
FORMATS = tuple(WRITERS)


def render(t: Transcript, fmt: str) -> str | bytes:
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return WRITERS[fmt].render(t)


def extension(fmt: str) -> str:
    return WRITERS[fmt].extension
