"""``recognize lm build CORPUS... -o LM``: n-gram language models for beam search."""
from __future__ import annotations

import shlex
from pathlib import Path

import typer

from .common import usage_error

lm_app = typer.Typer(no_args_is_help=True, help="Build n-gram language models (KenLM, modified Kneser-Ney).")


@lm_app.command("build")
def build_cmd(
    corpus: list[Path] = typer.Argument(..., help="Text files, one sentence or line per line ('-' = stdin)."),
    out: Path = typer.Option(..., "--out", "-o", help="LM file: .arpa writes ARPA text, anything else KenLM "
                             "binary; a .json sidecar with the same stem says what the LM's units are."),
    order: int = typer.Option(4, "--order", "-n", min=1, max=6,
                              help="N-gram order (the decoders' KenLM reads at most 6)."),
    unit: str = typer.Option("word", "--unit", help="word, char (characters, for OCR) or token (music tokens)."),
    prune: str = typer.Option(None, "--prune", help="lmplz pruning thresholds per order, e.g. '0 0 1'."),
    memory: str = typer.Option("25%", "--memory", help="lmplz memory for sorting (e.g. 2G, 25%)."),
    quantize: int = typer.Option(None, "--quantize", "-q", min=2, max=25,
                                 help="Store the binary LM's probabilities in this many bits (8: about half "
                                 "the size)."),
) -> None:
    """Estimate an LM with KenLM's lmplz and write it (ARPA or binary) with its sidecar."""
    from ..core.lm import LMError, build, read_corpus
    try:
        thresholds = [int(x) for x in prune.split()] if prune else None
    except ValueError:
        raise usage_error(f"--prune takes integers, not {prune!r}") from None
    args = [*map(str, corpus), "-o", str(out), "--order", str(order), "--unit", unit]
    args += ["--prune", prune] if prune else []
    args += ["--quantize", str(quantize)] if quantize else []
    command = "recognize lm build " + " ".join(shlex.quote(a) for a in args)
    try:
        info = build(read_corpus(corpus), out, order, unit, memory=memory, prune=thresholds, quantize=quantize,
                     source={"corpus": [str(c) for c in corpus], "command": command})
    except (LMError, OSError, UnicodeDecodeError) as e:
        raise usage_error(str(e)) from None
    s = info.source
    print(f"{out}: {unit} {order}-gram LM of {s['lines']} lines, {s['tokens']} {unit}s, {s['types']} types "
          f"({out.stat().st_size / 1e6:.1f} MB)")
