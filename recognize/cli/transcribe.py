"""``recognize transcribe PATH...``: spoken commands in audio files, with word timestamps."""
from __future__ import annotations

from dataclasses import replace
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

UNK_THRESHOLD = 0.6  # chosen on the recipe's validation speakers: benchmarks/speech_threshold.py


@with_decoding_options
def transcribe_cmd(
    paths: list[Path] = typer.Argument(..., help="Audio files or directories (searched recursively); "
                                       "- reads standard input."),
    model: Path = typer.Option(None, "--model", "-m", help="Model file (default: the shipped commands model)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output directory; without it results go to stdout."),
    formats: list[str] = typer.Option(["txt"], "--format", "-f", help="txt, json, tsv, srt, vtt, png (repeatable)."),
    vocabulary: str = typer.Option(None, "--vocabulary", "-V",
                                   help="Only these words: a file (one per line) or a list 'yes,no,stop' "
                                   "(the same as --lexicon)."),
    unk_threshold: float = typer.Option(UNK_THRESHOLD, "--unk-threshold", min=0.0, max=1.0,
                                        help="Words less confident than this are written <unk> (0 = never)."),
    decoding_options: DecodingOptions = None,
    device: str = DEVICE, batch_size: int = BATCH, threads: int = THREADS, workers: int = WORKERS,
) -> None:
    """Transcribe audio files. Exit 0: all done; 1: some inputs failed; 2: usage error."""
    from ..runner import Job, expand, process
    from ..speech import writers
    from ..speech.audio import AudioInputError, is_audio
    from ..speech.predict import Decoding, prepare, recognize
    check_formats(formats, writers.FORMATS, out)
    m = load(model, "speech", device, threads)
    options = replace(decoding_options, lexicon=decoding_options.lexicon or vocabulary)
    decoding = Decoding(make_decoder(m, model, options), unk_threshold)
    inputs, failures = expand(paths, is_audio, out)
    check_stdout(formats, out, len(inputs) + len(failures), writers.LINE_FORMATS)
    job = Job("transcribe", partial(prepare, preprocess=m.preprocess),
              lambda items: recognize(m, items, batch_size, decoding=decoding), writers.render, writers.extension,
              AudioInputError, writers.LINE_FORMATS, chunk=64)
    raise typer.Exit(process(job, inputs, formats, out, failures, workers).exit_code)
