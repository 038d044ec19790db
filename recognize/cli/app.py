"""Typer application and the commands shared by every task."""
from __future__ import annotations

import logging
import sys

import typer
from rich.logging import RichHandler

from . import average, evaluate, export, info, lm, ocr, omr, plot, prune, train, transcribe, tune

app = typer.Typer(name="recognize", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Train, run and export CNN + BiRNN + CTC recognizers for text lines, speech and scores.")


@app.callback()
def _setup(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages.")) -> None:
    from rich.console import Console
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=Console(file=sys.stderr), show_path=False,
                                              show_time=False, markup=False)])


app.command("train")(train.train_cmd)
app.command("ocr")(ocr.ocr_cmd)
app.command("transcribe")(transcribe.transcribe_cmd)
app.command("omr")(omr.omr_cmd)
app.command("eval")(evaluate.eval_cmd)
app.command("info")(info.info_cmd)
app.command("tune")(tune.tune_cmd)
app.command("export")(export.export_cmd)
app.command("plot")(plot.plot_cmd)
app.command("average")(average.average_cmd)
app.command("prune")(prune.prune_cmd)
app.add_typer(lm.lm_app, name="lm")


def main() -> None:
    app()
