"""``recognize plot RUN_DIR``: the learning curves of a training run as a PNG."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from .common import usage_error


def plot_cmd(
    run: Path = typer.Argument(..., help="A training run directory (with history.jsonl)."),
    out: Path = typer.Option(None, "--out", "-o", help="PNG to write (default RUN_DIR/curves.png)."),
) -> None:
    """Draw loss, learning rate, validation error rates and throughput of a run."""
    from ..core.history import read
    from ..core.plots import learning_curves
    path = run / "history.jsonl" if run.is_dir() else run
    if not path.is_file():
        raise usage_error(f"{run}: no history.jsonl (not a training run directory)")
    records = read(path)
    if not records:
        raise usage_error(f"{path}: no records yet")
    target = out or path.parent / "curves.png"
    learning_curves(records, target, title=str(path.parent))
    print(f"recognize: wrote {target}", file=sys.stderr)
