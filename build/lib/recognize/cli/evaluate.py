"""``recognize eval -m MODEL DATA_DIR...``: error rates on ground-truth folders."""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import typer

from .common import (
    BATCH,
    DEVICE,
    THREADS,
    DecodingOptions,
    load,
    make_decoder,
    model_task,
    usage_error,
    with_decoding_options,
)


@with_decoding_options
def eval_cmd(
    data: list[Path] = typer.Argument(..., help="OCR: folders of name.png + name.gt.txt pairs. Speech: a "
                                      "Speech Commands tree, an FSDD folder or a manifest (.tsv/.jsonl). "
                                      "Music: PrIMuS / Camera-PrIMuS folders."),
    model: Path = typer.Option(None, "--model", "-m", help="Model file (default: the shipped model)."),
    normalize: list[str] = typer.Option(["exact", "quotes", "nocase"], "--normalize", "-n",
                                        help="Text normalisations to score with: exact, quotes, nocase."),
    errors: int = typer.Option(0, "--errors", help="Print the N worst lines of each set."),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
    split: str = typer.Option("all", "--split", help="Speech: train, valid, test or all (speaker-disjoint "
                              "by hash; FSDD: speaker names)."),
    seed: int = typer.Option(0, "--seed", help="Speech: seed of the speaker split (the recipe's)."),
    vocabulary: str = typer.Option(None, "--vocabulary", "-V", help="Speech: decode constrained to these words."),
    image: str = typer.Option("clean", "--image", help="Music: clean (<id>.png), distorted (<id>_distorted.jpg) "
                              "or both."),
    decoding_options: DecodingOptions = None,
    device: str = DEVICE, batch_size: int = BATCH, threads: int = THREADS,
) -> None:
    """Character/word/sequence error rates of a model on labelled data (its task picks the reader)."""
    import time

    from ..core.metrics import edits, error_rates
    from ..ocr.dataset import find_pairs
    from ..ocr.image import ImageInputError
    from ..ocr.predict import prepare, recognize
    from ..ocr.textnorm import NORMALIZERS
    task = model_task(model) if model is not None else ("omr" if _has_scores(data) else "ocr")

    options = replace(decoding_options, lexicon=decoding_options.lexicon or vocabulary)

    def decoder_for(m):
        return make_decoder(m, model, options)
    if task == "speech":
        raise typer.Exit(_eval_speech(data, model, split, seed, decoder_for, errors, as_json, device, batch_size,
                                      threads))
    if task == "omr":
        raise typer.Exit(_eval_omr(data, model, image, decoder_for, errors, as_json, device, batch_size, threads))
    bad = [n for n in normalize if n not in NORMALIZERS]
    if bad:
        raise usage_error(f"unknown normalisation {bad[0]!r} (choose from {', '.join(NORMALIZERS)})")
    m = load(model, "ocr", device, threads)
    dec = decoder_for(m)
    height = int(m.preprocess["height"])
    report, code = [], 0
    for folder in data:
        try:
            pairs = find_pairs(folder)
        except FileNotFoundError as e:
            print(f"recognize: error: {e}", file=sys.stderr)
            code = 1
            continue
        prepared, refs = [], []
        for img, text in pairs:
            try:
                prepared.append(prepare(img, height))
                refs.append(text)
            except ImageInputError as e:
                print(f"recognize: error: {img}: {e}", file=sys.stderr)
                code = 1
        t0 = time.perf_counter()
        hyps = [r.text for r in recognize(m, prepared, batch_size, decoder=dec)]
        secs = time.perf_counter() - t0
        entry = {"data": str(folder), "lines": len(refs), "seconds": round(secs, 3),
                 "lines_per_s": round(len(refs) / max(secs, 1e-9), 1), "decoder": dec.settings()}
        for n in normalize:
            f = NORMALIZERS[n]
            entry[n] = error_rates([f(r) for r in refs], [f(h) for h in hyps]).to_dict()
        if errors:
            f = NORMALIZERS[normalize[0]]
            worst = sorted(zip(refs, hyps, (p.source for p in prepared)), key=lambda t: -edits(f(t[0]), f(t[1])))
            entry["worst"] = [{"source": s, "ref": r, "hyp": h} for r, h, s in worst[:errors] if f(r) != f(h)]
        report.append(entry)
    _print_report(report, as_json, lambda e: f"{e['data']}  {e['lines']} lines  " + "  ".join(
        f"{n}: CER {100 * e[n]['cer']:.2f}% WER {100 * e[n]['wer']:.2f}% SeqER {100 * e[n]['seq']:.1f}%"
        for n in normalize) + f"  ({e['lines_per_s']} lines/s)")
    raise typer.Exit(code)


def _eval_speech(data: list[Path], model: Path, split: str, seed: int, decoder_for, errors: int,
                 as_json: bool, device: str, batch_size: int, threads: int) -> int:
    """Word error rate and utterance accuracy of a speech model on labelled recordings."""
    import time

    from ..core.metrics import edits, error_rates
    from ..speech.dataset import dataset_items
    from ..speech.predict import Decoding, prepare, recognize
    m = load(model, "speech", device, threads)
    decoding = Decoding(decoder_for(m))
    report, code = [], 0
    for path in data:
        try:
            items = dataset_items(path, split, seed)
        except (FileNotFoundError, ValueError) as e:
            print(f"recognize: error: {e}", file=sys.stderr)
            code = 1
            continue
        t0 = time.perf_counter()
        results = recognize(m, [prepare(it.key, m.preprocess) for it in items], batch_size, decoding=decoding)
        secs = time.perf_counter() - t0
        refs, hyps = [it.text for it in items], [r.text for r in results]
        audio = sum(r.duration for r in results)
        rates = error_rates(refs, hyps).to_dict()
        entry = {"data": str(path), "split": split, "utterances": len(refs), "audio_seconds": round(audio, 1),
                 "accuracy": round(1 - rates["seq"], 4), **rates, "decoder": decoding.settings(),
                 "rtf": round(secs / max(audio, 1e-9), 5)}
        if errors:
            worst = sorted(zip(refs, hyps, (it.key for it in items)), key=lambda t: -edits(t[0], t[1]))
            entry["worst"] = [{"source": s, "ref": r, "hyp": h} for r, h, s in worst[:errors] if r != h]
        report.append(entry)
    _print_report(report, as_json, lambda e: (
        f"{e['data']} ({e['split']})  {e['utterances']} utterances  accuracy {100 * e['accuracy']:.1f}%  "
        f"WER {100 * e['wer']:.2f}%  CER {100 * e['cer']:.2f}%  (RTF {e['rtf']})"))
    return code


def _has_scores(data: list[Path]) -> bool:
    """True when the folders hold PrIMuS label files (so the default model is the music one)."""
    return any(p.is_dir() and next(p.rglob("*.semantic"), None) is not None for p in data)


def _eval_omr(data: list[Path], model: Path | None, image: str, decoder_for, errors: int, as_json: bool,
              device: str, batch_size: int, threads: int) -> int:
    """Symbol (token) and sequence error rates of a music model on PrIMuS-layout folders."""
    from ..omr.dataset import IMAGES
    from ..omr.evaluate import evaluate_folder
    if image not in IMAGES:
        raise usage_error(f"unknown --image {image!r} (choose from {', '.join(IMAGES)})")
    m = load(model, "omr", device, threads)
    dec = decoder_for(m)
    report, code = [], 0
    for folder in data:
        try:
            entry, bad = evaluate_folder(m, folder, image, batch_size, errors, dec)
        except (FileNotFoundError, ValueError) as e:
            print(f"recognize: error: {e}", file=sys.stderr)
            code = 1
            continue
        code = 1 if bad else code
        report.append(entry)
    _print_report(report, as_json, lambda e: (
        f"{e['data']} ({e['encoding']}, {e['image']})  {e['incipits']} incipits  SER {100 * e['ser']:.2f}%  "
        f"SeqER {100 * e['seq']:.1f}%  ({e['incipits_per_s']} incipits/s)"))
    return code


def _print_report(report: list[dict], as_json: bool, summary) -> None:
    """The report as JSON, or one ``summary(entry)`` line per data set followed by its worst samples."""
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    for e in report:
        print(summary(e))
        for w in e.get("worst", []):
            print(f"  {w['source']}\n    ref: {w['ref']}\n    hyp: {w['hyp']}")
