"""``recognize omr PATH...``: read single-staff score images into tokens, MusicXML or MIDI."""
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
    usage_error,
    with_decoding_options,
)


@with_decoding_options
def omr_cmd(
    paths: list[Path] = typer.Argument(..., help="Staff images or directories (searched recursively); "
                                       "- reads standard input."),
    model: Path = typer.Option(None, "--model", "-m", help="Model file (default: the shipped semantic model)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output directory; without it results go to stdout."),
    formats: list[str] = typer.Option(["semantic"], "--format", "-f",
                                      help="semantic, agnostic, json, musicxml, midi, png (repeatable)."),
    decoding_options: DecodingOptions = None,
    device: str = DEVICE, batch_size: int = BATCH, threads: int = THREADS, workers: int = WORKERS,
) -> None:
    """Read monophonic single-staff scores. Exit 0: all done; 1: some inputs failed; 2: usage error."""
    from ..core.image import ImageInputError, is_image
    from ..omr import writers
    from ..omr.predict import doubt, prepare, recognize
    from ..runner import Job, expand, process
    check_formats(formats, writers.FORMATS, out)
    m = load(model, "omr", device, threads)
    encoding = m.preprocess.get("encoding", "semantic")
    for f in formats:
        if (why := writers.unusable(f, encoding)) is not None:
            raise usage_error(why)
    inputs, failures = expand(paths, is_image, out)
    check_stdout(formats, out, len(inputs) + len(failures), writers.LINE_FORMATS)
    dec = make_decoder(m, model, decoding_options)
    height = int(m.preprocess["height"])
    job = Job("omr", partial(prepare, height=height), lambda items: recognize(m, items, batch_size, decoder=dec),
              writers.render, writers.extension, ImageInputError, writers.LINE_FORMATS,
              warnings=lambda r: [why] if (why := doubt(r)) else [])
    raise typer.Exit(process(job, inputs, formats, out, failures, workers).exit_code)
