"""Running a speech model on audio files: features, length-sorted batches, word timestamps."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..core.data import pad_batch
from ..core.decode import Hypothesis, greedy_decode
from ..core.modelfile import LoadedModel
from .audio import load_audio
from .features import FeatureConfig, frame_seconds, log_mel
from .result import Transcript, Word


@dataclass
class Prepared:
    source: str
    tensor: torch.Tensor  # [1, n_mels, frames]
    duration: float       # seconds


def prepare(path: str | Path, preprocess: dict) -> Prepared:
    """Decode, resample and featurise one file; raises AudioInputError with a one-line reason."""
    cfg = FeatureConfig.from_dict(preprocess)
    wave = load_audio(path, cfg.sample_rate)
    return Prepared(str(path), log_mel(wave, cfg), len(wave) / cfg.sample_rate)


def words_from(hyp: Hypothesis, seconds_per_frame: float, duration: float) -> list[Word]:
    """Group tokens into words at spaces; a word spans its first token's start to its last token's end."""
    words, current = [], []
    for tok in [*hyp.tokens, None]:
        if tok is None or tok.text.isspace():
            if current:
                start, end = current[0].start * seconds_per_frame, current[-1].end * seconds_per_frame
                conf = sum(t.confidence for t in current) / len(current)
                words.append(Word("".join(t.text for t in current), round(start, 3),
                                  round(min(end, duration), 3), round(conf, 4)))
            current = []
        else:
            current.append(tok)
    return words


@torch.no_grad()
def recognize(model: LoadedModel, items: list[Prepared], batch_size: int = 16,
              budget: int = 80 * 60_000) -> list[Transcript]:
    """Transcribe prepared files in length-sorted batches; results come back in input order."""
    device = next(model.net.parameters()).device
    spf = frame_seconds(FeatureConfig.from_dict(model.preprocess)) * model.net.width_stride
    order = sorted(range(len(items)), key=lambda i: items[i].tensor.shape[-1])
    out: list[Transcript | None] = [None] * len(items)
    desc, decoder = model.describe(), {"name": "greedy"}
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < batch_size and \
                (end - start + 1) * items[order[end]].tensor.numel() <= budget:
            end += 1
        idx = order[start:end]
        x, lengths = pad_batch([items[i].tensor for i in idx])
        lp, out_lengths = model.net(x.to(device), lengths.to(device))
        for i, hyp in zip(idx, greedy_decode(lp, out_lengths, model.vocab)):
            p = items[i]
            words = words_from(hyp, spf, p.duration)
            out[i] = Transcript(p.source, round(p.duration, 3), " ".join(w.text for w in words), words, desc,
                                decoder)
        start = end
    return out  # type: ignore[return-value]
