"""Running a music model on staff images: the shared line runner plus symbol positions."""
from __future__ import annotations

from pathlib import Path

from ..core.decode import GreedyDecoder
from ..core.decoders import Decoder
from ..core.image import check_size, read_gray
from ..core.lines import PreparedImage, pixel_spans, prepare_array, run_lines
from ..core.runtime import LoadedModel
from .result import ScoreResult, Symbol

MIN_HEIGHT = 16       # pixels: a staff cannot be read from fewer rows
MAX_COLUMNS = 16_000  # columns after scaling to the model height
UNSURE = 0.8          # mean symbol confidence under which a reading is doubted (see doubt)


def prepare(path: str | Path, height: int) -> PreparedImage:
    """Read one single-staff image; raises ImageInputError with a one-line reason."""
    gray = read_gray(path)
    check_size(gray, height, "staff", MIN_HEIGHT, MAX_COLUMNS, "split it into systems", "staves")
    return prepare_array(gray, height, str(path))


def recognize(model: LoadedModel, items: list[PreparedImage], batch_size: int = 16,
              budget: int = 64 * 40_000, decoder: Decoder | None = None) -> list[ScoreResult]:
    """Read prepared staves in width-sorted batches; results come back in input order."""
    decoder = decoder or GreedyDecoder(model.vocab)
    desc, settings = model.describe(), decoder.settings()
    encoding = model.preprocess.get("encoding", "semantic")
    out = []
    for p, hyp in zip(items, run_lines(model, items, batch_size, budget, decoder)):
        symbols = [Symbol(t.text, x0, x1, round(t.confidence, 4))
                   for t, (x0, x1) in zip(hyp.tokens, pixel_spans(p, hyp, model.width_stride))]
        out.append(ScoreResult(p.source, p.width, p.height, encoding, symbols, round(hyp.confidence, 4),
                               desc, settings, hyp.nbest()))
    return out


def doubt(r: ScoreResult) -> str | None:
    """Why the reading is too unsure to be trusted as a staff of printed music, or None.

    The music model reads tokens into anything, a text line too; its mean confidence tells.
    Measured with the shipped model (``benchmarks/omr.py``): the 14 real PrIMuS incipits and the
    600 generated ones (clean and camera-distorted) all read above 0.81, and 1,782 of the 1,813 real
    text lines of ../shared/data/ocr below 0.8. A model of the user's own may be less sure of itself:
    this is a warning, the tokens are still written."""
    if r.symbols and r.confidence < UNSURE:
        return (f"unsure reading (mean confidence {r.confidence:.2f}, under {UNSURE}): "
                "is this one staff of printed music?")
    return None
