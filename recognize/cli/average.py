"""``recognize average MODEL... -o OUT``: one model whose weights are the mean of several of one run."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from .common import usage_error


def average_cmd(
    models: list[Path] = typer.Argument(..., help="Model files (.safetensors) or training checkpoints (.ckpt) "
                                        "of one run: the same architecture and vocabulary."),
    out: Path = typer.Option(..., "--out", "-o", help="The averaged model file (.safetensors)."),
    half: bool = typer.Option(False, "--half", help="Store the weights as float16 (half the file; loaded as "
                              "float32)."),
) -> None:
    """Average the weights of models of one run (e.g. its last epochs, kept with train.keep_epochs);
    one model with --half makes a float16 copy of it. Exit 0: written; 2: usage error (unreadable
    file, different architecture or vocabulary)."""
    from ..core.average import average_models
    from ..core.modelfile import save_model
    from ..core.runtime import ModelFileError
    if len(models) < 2 and not half:
        raise usage_error("give at least two models to average (or one with --half)")
    if out.suffix != ".safetensors":
        raise usage_error(f"{out}: the averaged model is written as .safetensors")
    try:
        net, vocab, meta = average_models(models)
    except ModelFileError as e:
        raise usage_error(str(e)) from None
    meta["averaged"] = {"command": "recognize average " + " ".join(shlex.quote(a) for a in sys.argv[2:]),
                        "count": len(models)}
    save_model(out, net, vocab, meta, half=half)
    what = f"mean of {len(models)} models" if len(models) > 1 else "a float16 copy"
    print(f"recognize: wrote {out} ({what})", file=sys.stderr)
