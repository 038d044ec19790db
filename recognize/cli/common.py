"""Helpers shared by the commands: model lookup, device/threads, usage errors."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

EXPORTS = Path(__file__).resolve().parents[2] / "exports"
DEFAULT_MODELS = {"ocr": "ocr-en.safetensors", "speech": "speech-commands.safetensors",
                  "omr": "omr-semantic.safetensors"}


def usage_error(message: str) -> typer.Exit:
    print(f"recognize: usage error: {message}", file=sys.stderr)
    return typer.Exit(2)


def default_model(task: str) -> Path:
    root = Path(os.environ.get("RECOGNIZE_MODELS", EXPORTS))
    return root / DEFAULT_MODELS[task]


def load(model: Path | None, task: str, device: str = "cpu", threads: int = 0):
    """Load ``model`` (or the task's shipped default) or exit 2 with the reason."""
    import torch

    from ..core.modelfile import ModelFileError, load_model
    from ..core.train import pick_device
    if threads:
        torch.set_num_threads(threads)
    path = model or default_model(task)
    try:
        dev = pick_device(device)
        m = load_model(path, dev)
    except (ModelFileError, RuntimeError) as e:
        raise usage_error(str(e)) from None
    if m.task != task:
        raise usage_error(f"{path}: is a {m.task} model, not a {task} model")
    return m


def model_task(path: Path) -> str | None:
    """The task a model file is for (None when it cannot be read: ``load`` then says why)."""
    from ..core.modelfile import ModelFileError, read_metadata
    try:
        return read_metadata(path).get("task")
    except (ModelFileError, OSError):
        return None


DEVICE = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N.")
THREADS = typer.Option(0, "--threads", help="CPU threads for torch (0 = all cores).")
BATCH = typer.Option(16, "--batch-size", "-b", help="Inputs per batch.")


def check_formats(formats: list[str], known, out: Path | None) -> None:
    bad = [f for f in formats if f not in known]
    if bad:
        raise usage_error(f"unknown format {bad[0]!r} (choose from {', '.join(known)})")
    if out is None and len(formats) > 1:
        raise usage_error("several --format values need --out DIR")


def lexicon_decoder(spec: str, vocab, beam_width: int = 50):
    """A word-list constrained decoder for ``--vocabulary`` or exit 2 with the reason."""
    from ..core.lexicon import LexiconDecoder, LexiconError, read_word_list
    try:
        return LexiconDecoder(read_word_list(spec), vocab, beam_size=beam_width)
    except (LexiconError, OSError, UnicodeDecodeError) as e:
        raise usage_error(str(e)) from None
