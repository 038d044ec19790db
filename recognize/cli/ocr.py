"""``recognize ocr PATH...``: recognise text-line images."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import typer

from .common import (
    BATCH,
    DEVICE,
    THREADS,
    WORKERS,
    DecodingOptions,
    check_formats,
    check_stdout,
    load,
    make_decoder,
    with_decoding_options,
)


@with_decoding_options
def ocr_cmd(
    paths: list[Path] = typer.Argument(..., help="Line images or directories (searched recursively); "
                                       "- reads standard input."),
    model: Path = typer.Option(None, "--model", "-m", help="Model file (default: the shipped English model)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output directory; without it results go to stdout."),
    formats: list[str] = typer.Option(["txt"], "--format", "-f", help="txt, json, tsv, hocr, alto, png (repeatable)."),
    decoding_options: DecodingOptions = None,
    device: str = DEVICE, batch_size: int = BATCH, threads: int = THREADS, workers: int = WORKERS,
) -> None:
    """OCR printed text-line images. Exit 0: all done; 1: some inputs failed; 2: usage error."""
    from ..ocr import writers
    from ..ocr.image import ImageInputError, is_image
    from ..ocr.predict import prepare, recognize
    from ..runner import Job, expand, process
    check_formats(formats, writers.FORMATS, out)
    m = load(model, "ocr", device, threads)
    dec = make_decoder(m, model, decoding_options)
    height = int(m.preprocess["height"])
    inputs, failures = expand(paths, is_image, out)
    check_stdout(formats, out, len(inputs) + len(failures), writers.LINE_FORMATS)
    job = Job("ocr", partial(prepare, height=height), lambda items: recognize(m, items, batch_size, decoder=dec),
              writers.render, writers.extension, ImageInputError, writers.LINE_FORMATS)
    raise typer.Exit(process(job, inputs, formats, out, failures, workers).exit_code)
