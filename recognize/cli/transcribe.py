"""``recognize transcribe PATH...``: spoken commands in audio files, with word timestamps."""
from __future__ import annotations

from pathlib import Path

import typer

from .common import BATCH, DEVICE, THREADS, check_formats, lexicon_decoder, load

UNK_THRESHOLD = 0.5  # chosen on the recipe's validation speakers (see README, "Spoken commands")


def transcribe_cmd(
    paths: list[Path] = typer.Argument(..., help="Audio files or directories (searched recursively)."),
    model: Path = typer.Option(None, "--model", "-m", help="Model file (default: the shipped commands model)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output directory; without it results go to stdout."),
    formats: list[str] = typer.Option(["txt"], "--format", "-f", help="txt, json, tsv, srt, vtt (repeatable)."),
    vocabulary: str = typer.Option(None, "--vocabulary", "-V",
                                   help="Only these words: a file (one per line) or a list 'yes,no,stop'."),
    unk_threshold: float = typer.Option(UNK_THRESHOLD, "--unk-threshold", min=0.0, max=1.0,
                                        help="Words less confident than this are written <unk> (0 = never)."),
    beam_width: int = typer.Option(50, "--beam-width", min=1, help="Beam width of --vocabulary decoding."),
    device: str = DEVICE, batch_size: int = BATCH, threads: int = THREADS,
) -> None:
    """Transcribe audio files. Exit 0: all done; 1: some inputs failed; 2: usage error."""
    from ..runner import Job, expand, process
    from ..speech import writers
    from ..speech.audio import AudioInputError, is_audio
    from ..speech.predict import Decoding, prepare, recognize
    check_formats(formats, writers.FORMATS, out)
    m = load(model, "speech", device, threads)
    decoding = Decoding(lexicon_decoder(vocabulary, m.vocab, beam_width) if vocabulary else None, unk_threshold)
    inputs, failures = expand(paths, is_audio)
    job = Job("transcribe", lambda p: prepare(p, m.preprocess),
              lambda items: recognize(m, items, batch_size, decoding=decoding), writers.render, writers.extension,
              AudioInputError, chunk=64)
    raise typer.Exit(process(job, inputs, formats, out, failures).exit_code)
