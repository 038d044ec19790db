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
    report: Path = typer.Option(None, "--report", help="Write an HTML error report (metrics, confusions, the "
                                "worst samples with pictures) to DIR/index.html."),
    report_samples: int = typer.Option(20, "--report-samples", min=1, help="Worst samples in the report."),
    decoding_options: DecodingOptions = None,
    device: str = DEVICE, batch_size: int = BATCH, threads: int = THREADS,
) -> None:
    """Character/word/sequence error rates of a model on labelled data (its task picks the reader)."""
    import time

    from ..core.metrics import error_rates
    from ..ocr import writers
    from ..ocr.dataset import find_pairs
    from ..ocr.image import ImageInputError
    from ..ocr.predict import prepare, recognize
    from ..ocr.textnorm import NORMALIZERS
    task = model_task(model) if model is not None else ("omr" if _has_scores(data) else "ocr")

    options = replace(decoding_options, lexicon=decoding_options.lexicon or vocabulary)

    def decoder_for(m):
        return make_decoder(m, model, options)
    shown = max(errors, report_samples if report else 0)
    if task == "speech":
        raise typer.Exit(_eval_speech(data, model, split, seed, decoder_for, errors, as_json, device, batch_size,
                                      threads, report, shown))
    if task == "omr":
        raise typer.Exit(_eval_omr(data, model, image, decoder_for, errors, as_json, device, batch_size, threads,
                                   report, shown))
    bad = [n for n in normalize if n not in NORMALIZERS]
    if bad:
        raise usage_error(f"unknown normalisation {bad[0]!r} (choose from {', '.join(NORMALIZERS)})")
    m = load(model, "ocr", device, threads)
    dec = decoder_for(m)
    height = int(m.preprocess["height"])
    entries, sections, code = [], [], 0
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
        results = recognize(m, prepared, batch_size, decoder=dec)
        hyps = [r.text for r in results]
        secs = time.perf_counter() - t0
        entry = {"data": str(folder), "lines": len(refs), "seconds": round(secs, 3),
                 "lines_per_s": round(len(refs) / max(secs, 1e-9), 1), "decoder": dec.settings()}
        normed = {n: ([NORMALIZERS[n](r) for r in refs], [NORMALIZERS[n](h) for h in hyps]) for n in normalize}
        for n, (nrefs, nhyps) in normed.items():
            entry[n] = error_rates(nrefs, nhyps).to_dict()
        nrefs, nhyps = normed[normalize[0]]  # the worst lines and the report go by the first normalisation
        entries.append(entry)
        sections.append(_section("ocr", f"{folder} (normalisation {normalize[0]})", {
            "lines": len(refs), **{k: entry[normalize[0]][k] for k in ("cer", "wer", "seq")},
            "lines/s": entry["lines_per_s"]}, results, nrefs, nhyps, writers, entry, errors, shown, report))
    _write_report(report, "ocr", sections, m)
    _print_report(entries, as_json, lambda e: f"{e['data']}  {e['lines']} lines  " + "  ".join(
        f"{n}: CER {100 * e[n]['cer']:.2f}% WER {100 * e[n]['wer']:.2f}% SeqER {100 * e[n]['seq']:.1f}%"
        for n in normalize) + f"  ({e['lines_per_s']} lines/s)")
    raise typer.Exit(code)


def _section(task: str, name: str, metrics: dict, results: list, refs: list[str], hyps: list[str], writers,
             entry: dict, errors: int, shown: int, report: Path | None):
    """The report section of one data set: the ``shown`` worst samples (drawn with the task's png
    writer when a report is asked for); the first ``errors`` of them also go to ``entry["worst"]``."""
    from .. import report as html_report
    samples = html_report.worst(task, [r.source for r in results], refs, hyps, shown,
                                lambda i: writers.render(results[i], "png") if report else None,
                                audio=task == "speech" and report is not None)
    if errors:
        entry["worst"] = [{"source": w.source, "ref": w.ref, "hyp": w.hyp} for w in samples[:errors]]
    confusions = html_report.confusions(task, refs, hyps) if report else []
    return html_report.Section(name, metrics, samples, confusions, len(refs))


def _write_report(out: Path | None, task: str, sections: list, m) -> None:
    if out is None:
        return
    from .. import report as html_report
    path = html_report.write(out, task, f"recognize eval: {task} error report", sections, m.describe())
    print(f"recognize: report written to {path}", file=sys.stderr)


def _eval_speech(data: list[Path], model: Path, split: str, seed: int, decoder_for, errors: int,
                 as_json: bool, device: str, batch_size: int, threads: int, report: Path | None = None,
                 shown: int = 0) -> int:
    """Word error rate and utterance accuracy of a speech model on labelled recordings."""
    import time

    from ..core.metrics import error_rates
    from ..speech import writers
    from ..speech.audio import AudioInputError
    from ..speech.dataset import dataset_items
    from ..speech.predict import Decoding, prepare, recognize
    m = load(model, "speech", device, threads)
    decoding = Decoding(decoder_for(m))
    entries, sections, code = [], [], 0
    for path in data:
        try:
            items = dataset_items(path, split, seed)
        except (FileNotFoundError, ValueError) as e:
            print(f"recognize: error: {e}", file=sys.stderr)
            code = 1
            continue
        for why in getattr(items, "skipped", []):  # unreadable files found while listing
            print(f"recognize: error: {why}", file=sys.stderr)
            code = 1
        t0 = time.perf_counter()
        prepared, kept = [], []
        for it in items:
            try:
                prepared.append(prepare(it.key, m.preprocess))
                kept.append(it)
            except AudioInputError as e:
                print(f"recognize: error: {it.key}: {e}", file=sys.stderr)
                code = 1
        results = []
        for it, r in zip(kept, recognize(m, prepared, batch_size, decoding=decoding)):
            if isinstance(r, AudioInputError):  # a long file found unreadable while streamed
                print(f"recognize: error: {it.key}: {r}", file=sys.stderr)
                code = 1
            else:
                results.append((it, r))
        secs = time.perf_counter() - t0
        items, results = [it for it, _ in results], [r for _, r in results]
        refs, hyps = [it.text for it in items], [r.text for r in results]
        audio = sum(r.duration for r in results)
        rates = error_rates(refs, hyps).to_dict()
        entry = {"data": str(path), "split": split, "utterances": len(refs), "audio_seconds": round(audio, 1),
                 "accuracy": round(1 - rates["seq"], 4), **rates, "decoder": decoding.settings(),
                 "rtf": round(secs / max(audio, 1e-9), 5)}
        entries.append(entry)
        sections.append(_section("speech", f"{path} ({split})", {
            "utterances": len(refs), "accuracy": entry["accuracy"], "wer": rates["wer"], "cer": rates["cer"],
            "real-time factor": entry["rtf"]}, results, refs, hyps, writers, entry, errors, shown, report))
    _write_report(report, "speech", sections, m)
    _print_report(entries, as_json, lambda e: (
        f"{e['data']} ({e['split']})  {e['utterances']} utterances  accuracy {100 * e['accuracy']:.1f}%  "
        f"WER {100 * e['wer']:.2f}%  CER {100 * e['cer']:.2f}%  (RTF {e['rtf']})"))
    return code


def _has_scores(data: list[Path]) -> bool:
    """True when the folders hold PrIMuS label files (so the default model is the music one)."""
    return any(p.is_dir() and next(p.rglob("*.semantic"), None) is not None for p in data)


def _eval_omr(data: list[Path], model: Path | None, image: str, decoder_for, errors: int, as_json: bool,
              device: str, batch_size: int, threads: int, report: Path | None = None, shown: int = 0) -> int:
    """Symbol (token) and sequence error rates of a music model on PrIMuS-layout folders."""
    from ..omr import writers
    from ..omr.dataset import IMAGES
    from ..omr.evaluate import evaluate_folder
    if image not in IMAGES:
        raise usage_error(f"unknown --image {image!r} (choose from {', '.join(IMAGES)})")
    m = load(model, "omr", device, threads)
    dec = decoder_for(m)
    entries, sections, code = [], [], 0
    for folder in data:
        try:
            entry, bad, (refs, results) = evaluate_folder(m, folder, image, batch_size, dec)
        except (FileNotFoundError, ValueError) as e:
            print(f"recognize: error: {e}", file=sys.stderr)
            code = 1
            continue
        code = 1 if bad else code
        hyps = [" ".join(r.tokens) for r in results]
        entries.append(entry)
        sections.append(_section("omr", f"{folder} ({entry['encoding']}, {image})", {
            "incipits": entry["incipits"], "ser": entry["ser"], "seq": entry["seq"],
            "incipits/s": entry["incipits_per_s"]}, results, refs, hyps, writers, entry, errors, shown, report))
    _write_report(report, "omr", sections, m)
    _print_report(entries, as_json, lambda e: (
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
