"""Running a speech model on audio files: features, length-sorted batches, word timestamps.

Files up to ``LONG_SECONDS`` (a command or a short sequence) are decoded whole and batched; longer
ones are streamed in overlapping windows (memory bounded by one window whatever the file's length)
and only their speech regions are read by the model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.batching import pad_arrays, sorted_batches
from ..core.decode import Hypothesis, greedy_decode
from ..core.decoders import Decoder
from ..core.runtime import LoadedModel
from .audio import AudioInputError, read_audio, stream_chunks
from .features import FeatureConfig, frame_seconds, log_mel_numpy
from .result import Transcript, Word
from .segment import QUIET_DB, frame_energy, level, speech_regions

LONG_SECONDS = 5.0    # longer files are streamed and cut into speech regions (training utterances: 1-5 s)
CHUNK_SECONDS = 12.0  # window read at a time from a long file
OVERLAP_SECONDS = 4.0  # > 2 x MAX_REGION_SECONDS / 2: a region is whole in the window that owns it
MAX_REGION_SECONDS = 3.5
UNKNOWN = "<unk>"


@dataclass
class Prepared:
    source: str
    features: np.ndarray | None  # [1, n_mels, frames] float32; None for a long file, streamed later
    duration: float              # seconds
    energy: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # dB per feature frame

    @property
    def streamed(self) -> bool:
        return self.features is None


@dataclass
class Decoding:
    """How hypotheses are made: ``decoder`` maps ``(log_probs, lengths)`` to hypotheses (greedy when
    None); words whose confidence is below ``threshold`` become ``<unk>``."""

    decoder: Decoder | None = None
    threshold: float = 0.0

    def decode(self, log_probs, lengths, vocab) -> list[Hypothesis]:
        return self.decoder(log_probs, lengths) if self.decoder else greedy_decode(log_probs, lengths, vocab)

    def settings(self) -> dict:
        d = self.decoder.settings() if self.decoder else {"name": "greedy"}
        return {**d, "unk_threshold": self.threshold} if self.threshold else d


def prepare(path: str | Path, preprocess: dict) -> Prepared:
    """Decode, resample and featurise one file; raises AudioInputError with a one-line reason.
    Long files are only checked here (header) and streamed when recognised."""
    cfg = FeatureConfig.from_dict(preprocess)
    info, wave = read_audio(path, cfg.sample_rate, max_seconds=LONG_SECONDS)
    if wave is None:
        return Prepared(str(path), None, info.seconds)
    return Prepared(str(path), log_mel_numpy(wave, cfg), len(wave) / cfg.sample_rate,
                    frame_energy(wave, cfg.hop_length))


def trim_to_speech(start: int, end: int, levels: np.ndarray, drop_db: float = 30.0, floor_db: float = 6.0,
                   max_gap: int = 10, floor: float | None = None) -> tuple[int, int]:
    """Shrink the feature-frame span ``[start, end)`` to the sound around its loudest frame: the run of
    frames within ``drop_db`` of it and ``floor_db`` above the utterance's quiet level (``floor``;
    by default the 10th percentile of ``levels``) that holds it, across dips of at most ``max_gap``
    frames (a stop's closure). ``levels``: dB per frame, smoothed as ``segment.level`` smooths it.

    CTC puts a word's first and last tokens anywhere inside the word, and a bidirectional model
    likes the edges of the input for them; the level tells where the word is really spoken. Taking
    the first and last loud frames anywhere in the span instead let bumps of the noise around a
    word in: on validation speakers, 24 of 118 real words read right in long files began or ended
    over 0.2 s outside their one-second clip, 2 with this (benchmarks/speech_long.py --split valid).
    """
    seg = levels[start:end]
    if not len(seg):
        return start, end
    floor = float(np.percentile(levels, 10)) if floor is None else floor
    active = np.flatnonzero((seg >= seg.max() - drop_db) & (seg >= floor + floor_db))
    if not len(active):  # then not the loudest frame either: nothing audible
        return start, end
    at = int(np.searchsorted(active, int(np.argmax(seg))))  # the loudest frame is active
    gaps = np.flatnonzero(np.diff(active) > max_gap + 1)  # a run ends at active[g] and one starts after it
    before, after = gaps[gaps < at], gaps[gaps >= at]
    first = active[before[-1] + 1] if len(before) else active[0]
    last = active[after[0]] if len(after) else active[-1]
    return start + int(first), start + int(last) + 1


def words_from(hyp: Hypothesis, seconds_per_frame: float, duration: float, energy: np.ndarray | None = None,
               hop_seconds: float = 0.01, threshold: float = 0.0) -> list[Word]:
    """Group tokens into words at spaces; a word spans its first token's start to its last token's end,
    trimmed to where there is sound when ``energy`` (dB per ``hop_seconds``) is given."""
    words, current = [], []
    smoothed = level(energy, hop_seconds) if energy is not None and len(energy) else None
    floor = float(np.percentile(smoothed, 10)) if smoothed is not None else 0.0
    for tok in [*hyp.tokens, None]:
        if tok is None or tok.text.isspace():
            if current:
                start, end = current[0].start * seconds_per_frame, current[-1].end * seconds_per_frame
                if smoothed is not None:
                    s, e = trim_to_speech(round(start / hop_seconds), round(end / hop_seconds), smoothed,
                                          max_gap=round(0.1 / hop_seconds), floor=floor)
                    start, end = s * hop_seconds, e * hop_seconds
                conf = sum(t.confidence for t in current) / len(current)
                text = "".join(t.text for t in current) if conf >= threshold else UNKNOWN
                words.append(Word(text, round(start, 3), round(min(end, duration), 3), round(conf, 4)))
            current = []
        else:
            current.append(tok)
    return words


def recognize(model: LoadedModel, items: list[Prepared], batch_size: int = 16, budget: int = 80 * 60_000,
              decoding: Decoding | None = None) -> list[Transcript | AudioInputError]:
    """Transcribe prepared files (short ones in length-sorted batches); results come back in input
    order. A long file that turns out unreadable mid-way gives its ``AudioInputError`` as result."""
    decoding = decoding or Decoding()
    cfg = FeatureConfig.from_dict(model.preprocess)
    out: list = [None] * len(items)
    for idx, x, lengths in _short_batches(items, batch_size, budget):
        for i, (words, nbest) in zip(idx, _run(model, x, lengths, [items[i].energy for i in idx], decoding)):
            out[i] = _transcript(model, items[i], _clip(words, items[i].duration), decoding, nbest)
    for i, p in enumerate(items):
        if p.streamed:
            try:
                out[i] = _transcript(model, p, _stream(model, p.source, cfg, decoding), decoding)
            except AudioInputError as e:
                out[i] = e
    return out


def _short_batches(items: list[Prepared], batch_size: int, budget: int):
    """``(indices, padded features, lengths)`` of the short (not streamed) files, in length-sorted
    batches of at most ``budget`` padded values."""
    short = [i for i, p in enumerate(items) if not p.streamed]
    for idx, x, lengths in sorted_batches([items[i].features for i in short], batch_size, budget):
        yield [short[j] for j in idx], x, lengths


def _run(model: LoadedModel, x: np.ndarray, lengths: np.ndarray, energies: list[np.ndarray],
         decoding: Decoding) -> list[tuple[list[Word], list[dict]]]:
    """Words (times relative to each input's start) and n-best list for a padded feature batch."""
    cfg = FeatureConfig.from_dict(model.preprocess)
    hop = frame_seconds(cfg)
    hyps = decoding.decode(*model.run(x, lengths), model.vocab)
    return [([], []) if silent(e) else
            (words_from(h, hop * model.width_stride, float(n) * hop, e, hop, decoding.threshold), h.nbest())
            for h, n, e in zip(hyps, lengths.tolist(), energies)]


def silent(energy: np.ndarray | None) -> bool:
    """Nothing to hear: every frame below ``QUIET_DB`` (digital silence, a muted input). The network
    never heard such input in training and may read a word into it; long files get no speech region
    there either (``segment.speech_regions``)."""
    return energy is not None and (not len(energy) or float(energy.max()) < QUIET_DB)


def _stream(model: LoadedModel, path: str, cfg: FeatureConfig, decoding: Decoding) -> list[Word]:
    """Words of a long file: overlapping windows are cut into speech regions (see ``segment``) and
    each region is read by the window that holds its middle in its own part, where it lies whole."""
    words: list[Word] = []
    hop, half = frame_seconds(cfg), OVERLAP_SECONDS / 2
    for chunk, last in _with_last(stream_chunks(path, CHUNK_SECONDS, OVERLAP_SECONDS, cfg.sample_rate)):
        t0 = chunk.start_seconds
        lo = t0 + half if t0 > 0 else 0.0
        hi = t0 + CHUNK_SECONDS - half if not last else float("inf")
        energy = frame_energy(chunk.audio, cfg.hop_length)
        regions = [(s, e) for s, e in speech_regions(energy, hop, max_region=MAX_REGION_SECONDS)
                   if lo <= t0 + (s + e) / 2 * hop < hi]
        if not regions:
            continue
        feats = [log_mel_numpy(chunk.audio[s * cfg.hop_length: e * cfg.hop_length], cfg) for s, e in regions]
        x, lengths = pad_arrays(feats)
        found = _run(model, x, lengths, [energy[s:e] for s, e in regions], decoding)
        for (s, _), (region_words, _) in zip(regions, found):
            offset = t0 + s * hop
            words += [Word(w.text, round(offset + w.start, 3), round(offset + w.end, 3), w.confidence)
                      for w in region_words]
    return words


def _with_last(chunks):
    """``(chunk, is_last)`` pairs, one chunk of lookahead."""
    prev = None
    for chunk in chunks:
        if prev is not None:
            yield prev, False
        prev = chunk
    if prev is not None:
        yield prev, True


def _clip(words: list[Word], duration: float) -> list[Word]:
    for w in words:
        w.end = min(w.end, round(duration, 3))
    return words


def _transcript(model: LoadedModel, p: Prepared, words: list[Word], decoding: Decoding,
                nbest: list[dict] | None = None) -> Transcript:
    return Transcript(p.source, round(p.duration, 3), " ".join(w.text for w in words), words, model.describe(),
                      decoding.settings(), nbest or [])


def clip_logits(model: LoadedModel, items: list[Prepared], batch_size: int = 16,
                budget: int = 80 * 60_000) -> list[np.ndarray]:
    """CTC log-probs ``[T, V]`` of short prepared clips, in input order (tuning and benchmarks)."""
    if any(p.streamed for p in items):
        raise ValueError(f"clips longer than {LONG_SECONDS:g} s cannot be used here")
    return model.log_probs([p.features for p in items], batch_size, budget)
