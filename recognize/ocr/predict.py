"""Running an OCR model on line images: the shared line runner plus glyph positions."""
from __future__ import annotations

from pathlib import Path

from ..core.decode import GreedyDecoder, Hypothesis
from ..core.decoders import Decoder
from ..core.lines import PreparedImage, pixel_spans, run_lines
from ..core.lines import prepare_array as _prepare_array
from ..core.runtime import LoadedModel
from .image import check_size, read_gray
from .result import Glyph, LineResult

Prepared = PreparedImage


def prepare(path: str | Path, height: int, name: str | None = None) -> Prepared:
    """Read and normalise one line image; raises ImageInputError with a one-line reason."""
    return prepare_array(read_gray(path), height, name or str(path))


def prepare_array(gray, height: int, name: str) -> Prepared:
    check_size(gray, height)
    return _prepare_array(gray, height, name)


def to_result(p: Prepared, hyp: Hypothesis, stride: int, model: dict, decoder: dict) -> LineResult:
    """Map CTC frame spans back to pixel columns of the original image."""
    glyphs = [Glyph(t.text, x0, x1, round(t.confidence, 4))
              for t, (x0, x1) in zip(hyp.tokens, pixel_spans(p, hyp, stride))]
    return LineResult(p.source, p.width, p.height, hyp.text, round(hyp.confidence, 4), glyphs, model, decoder,
                      hyp.nbest())


def recognize(model: LoadedModel, items: list[Prepared], batch_size: int = 16,
              budget: int = 48 * 40_000, decoder: Decoder | None = None) -> list[LineResult]:
    """Recognise prepared lines in length-sorted batches; results come back in input order."""
    decoder = decoder or GreedyDecoder(model.vocab)
    desc, settings = model.describe(), decoder.settings()
    hyps = run_lines(model, items, batch_size, budget, decoder)
    return [to_result(p, h, model.width_stride, desc, settings) for p, h in zip(items, hyps)]
