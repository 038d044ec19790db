"""``recognize tune -m MODEL --lm LM DEV_DATA...``: pick the LM weight and word bonus on a dev set."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from .common import (
    BATCH,
    BEAM_BACKEND,
    BEAM_WIDTH,
    DEVICE,
    LEXICON,
    THREADS,
    DecodingOptions,
    decoder_spec,
    load,
    model_task,
    usage_error,
)


def _floats(text: str, option: str) -> list[float]:
    try:
        return [float(x) for x in text.replace(",", " ").split()]
    except ValueError:
        raise usage_error(f"{option} takes numbers, not {text!r}") from None


def tune_cmd(
    data: list[Path] = typer.Argument(..., help="Labelled dev data, read as `recognize eval` reads it."),
    model: Path = typer.Option(None, "--model", "-m", help="Model file (default: the shipped model of the data)."),
    lm: str = typer.Option(..., "--lm", help="KenLM language model (from `recognize lm build`)."),
    out: Path = typer.Option(Path("decoding.json"), "--out", "-o", help="Decoding config to write."),
    alphas: str = typer.Option("0 0.25 0.5 0.75 1 1.5 2", "--alphas", help="LM weights to try."),
    betas: str = typer.Option("-1 0 1 2 3", "--betas", help="Word bonuses to try."),
    beam_backend: str = BEAM_BACKEND, beam_width: int = BEAM_WIDTH, lexicon: str = LEXICON,
    normalize: str = typer.Option("quotes", "--normalize", "-n", help="OCR: exact, quotes or nocase."),
    split: str = typer.Option("valid", "--split", help="Speech: train, valid, test or all."),
    seed: int = typer.Option(0, "--seed", help="Speech: seed of the speaker split."),
    image: str = typer.Option("clean", "--image", help="Music: clean, distorted or both."),
    limit: int = typer.Option(None, "--limit", help="Use at most N samples of each folder."),
    device: str = DEVICE, batch_size: int = BATCH, threads: int = THREADS,
) -> None:
    """Grid-search --alpha/--beta for beam search with an LM; writes the best as a decoding config
    that ocr, transcribe, omr and eval take with --decoding."""
    from ..core.decode import GreedyDecoder
    from ..core.decoders import DecoderError, resolve, write_spec
    from ..core.tuning import grid_search, score, stored_batches
    from ..devsets import dev_logits
    a_values, b_values = _floats(alphas, "--alphas"), _floats(betas, "--betas")
    task = model_task(model) if model is not None else None
    m = load(model, task or _task_of(data), device, threads)
    spec = decoder_spec(m, model, DecodingOptions("beam", beam_backend, beam_width, lm, lexicon=lexicon))
    try:
        resolve(spec, m.vocab, m.device)  # a bad LM or combination is reported before the network runs
    except DecoderError as e:
        raise usage_error(str(e)) from None
    sets = []
    for d in data:
        try:
            sets.append(dev_logits(m, d, batch_size, normalize=normalize, split=split, seed=seed, image=image,
                                   limit=limit))
        except (FileNotFoundError, ValueError, KeyError) as e:
            raise usage_error(str(e) if str(d) in str(e) else f"{d}: {e}") from None  # readers name the path
    lps = [lp for s in sets for lp in s.lps]
    refs = [r for s in sets for r in s.refs]
    metric = sets[0].error
    greedy, _ = score(GreedyDecoder(m.vocab), stored_batches(lps), refs, metric)
    name = sets[0].metric.upper()
    print(f"{len(refs)} samples; greedy {name} {100 * greedy.error:.3f}%", file=sys.stderr)

    def show(s, r) -> None:
        print(f"  alpha {s.alpha:<5g} beta {s.beta:<5g} {name} {100 * r.error:.3f}%  ({r.per_second:.0f}/s)",
              file=sys.stderr)
    try:
        best, tried = grid_search(spec, m.vocab, lps, refs, metric, a_values, b_values, m.device, show)
    except DecoderError as e:
        raise usage_error(str(e)) from None
    err = min(t["error"] for t in tried)
    write_spec(best, out, {"tuned": {"data": [s.name for s in sets], "samples": len(refs), "metric": sets[0].metric,
                                     "greedy": round(greedy.error, 6), "best": err, "grid": tried}})
    print(f"{out}: alpha {best.alpha:g} beta {best.beta:g}: {name} {100 * err:.3f}% (greedy {100 * greedy.error:.3f}%)")


def _task_of(data: list[Path]) -> str:
    from .evaluate import _has_scores
    return "omr" if _has_scores(data) else "ocr"
