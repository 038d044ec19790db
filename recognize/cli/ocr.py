"""``recognize ocr PATH...``: recognise text-line images."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from .common import BATCH, DEVICE, THREADS, load, usage_error

CHUNK = 256  # inputs read, recognised and written per round (bounds memory on huge folders)


def ocr_cmd(
    paths: list[Path] = typer.Argument(..., help="Line images or directories (searched recursively)."),
    model: Path = typer.Option(None, "--model", "-m", help="Model file (default: the shipped English model)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output directory; without it results go to stdout."),
    formats: list[str] = typer.Option(["txt"], "--format", "-f", help="txt, json, tsv, hocr, alto (repeatable)."),
    device: str = DEVICE, batch_size: int = BATCH, threads: int = THREADS,
) -> None:
    """OCR printed text-line images. Exit 0: all done; 1: some inputs failed; 2: usage error."""
    from ..ocr import writers
    from ..ocr.image import ImageInputError, is_image
    from ..ocr.predict import prepare, recognize
    from ..runner import Failure, Outcome, expand, output_path, report, write_atomic
    bad = [f for f in formats if f not in writers.FORMATS]
    if bad:
        raise usage_error(f"unknown format {bad[0]!r} (choose from {', '.join(writers.FORMATS)})")
    if out is None and len(formats) > 1:
        raise usage_error("several --format values need --out DIR")
    m = load(model, "ocr", device, threads)
    height = int(m.preprocess["height"])
    inputs, failures = expand(paths, is_image)
    outcome = Outcome(failures=list(failures))
    for f in failures:
        report(f)
    many = len(inputs) > 1
    progress = _progress(out is not None and sys.stderr.isatty(), len(inputs))
    with progress:
        bar = progress.add_task("ocr", total=len(inputs))
        for start in range(0, len(inputs), CHUNK):
            chunk, ready = inputs[start:start + CHUNK], []
            for inp in chunk:
                try:
                    ready.append((inp, prepare(inp.path, height)))
                except ImageInputError as e:
                    outcome.failures.append(Failure(str(inp.path), str(e)))
                    report(outcome.failures[-1])
                    progress.advance(bar)
            results = recognize(m, [p for _, p in ready], batch_size)
            for (inp, _), res in zip(ready, results):
                try:
                    rendered = {f: writers.render(res, f) for f in formats}
                    if out is None:
                        text = rendered[formats[0]]
                        print(f"{inp.path}\t{text}" if many and formats[0] == "txt" else text, end="")
                    else:
                        for f, text in rendered.items():
                            write_atomic(output_path(inp, out, writers.extension(f)), text)
                    outcome.done += 1
                except OSError as e:
                    outcome.failures.append(Failure(str(inp.path), f"cannot write output: {e}"))
                    report(outcome.failures[-1])
                progress.advance(bar)
    if outcome.failures:
        print(f"recognize: {outcome.done} done, {len(outcome.failures)} failed", file=sys.stderr)
    raise typer.Exit(outcome.exit_code)


def _progress(enabled: bool, total: int):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.speed:.1f} items/s" if total else ""), TimeRemainingColumn(),
                    console=Console(file=sys.stderr), disable=not enabled)
