"""Symbol and sequence error rates of a music model on a PrIMuS-layout folder."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ..core.decoders import Decoder
from ..core.image import ImageInputError
from ..core.metrics import error_rates
from ..core.runtime import LoadedModel
from .dataset import find_samples
from .predict import prepare, recognize


def evaluate_folder(model: LoadedModel, folder: str | Path, image: str = "clean", batch_size: int = 16,
                    decoder: Decoder | None = None) -> tuple[dict, int, tuple[list[str], list]]:
    """(report entry, number of unreadable images, (references, results)). SER is micro-averaged:
    total token edits over total reference tokens; SeqER is the share of incipits with any error.
    Raises FileNotFoundError or ValueError for a folder with no usable incipit."""
    height, encoding = int(model.preprocess["height"]), model.preprocess.get("encoding", "semantic")
    samples = find_samples(folder, encoding, image)
    prepared, refs, bad = [], [], 0
    for s in samples:
        try:
            prepared.append(prepare(s.image, height))
            refs.append(" ".join(s.tokens))
        except ImageInputError as e:
            print(f"recognize: error: {s.image}: {e}", file=sys.stderr)
            bad += 1
    t0 = time.perf_counter()
    results = recognize(model, prepared, batch_size, decoder=decoder)
    hyps = [" ".join(r.tokens) for r in results]
    secs = time.perf_counter() - t0
    rates = error_rates(refs, hyps)
    entry = {"data": str(folder), "encoding": encoding, "image": image, "incipits": len(refs),
             "ser": rates.ser, "seq": rates.seq, "seconds": round(secs, 3),
             "incipits_per_s": round(len(refs) / max(secs, 1e-9), 2),
             "decoder": results[0].decoder if results else {}}
    return entry, bad, (refs, results)
