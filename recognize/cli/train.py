"""``recognize train RECIPE``."""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import typer

from .common import usage_error


def train_cmd(
    recipe: Path = typer.Argument(..., help="Recipe YAML file (see recipes/)."),
    out: Path = typer.Option(None, "--out", "-o", help="Run directory (default runs/<recipe name>)."),
    overrides: list[str] = typer.Option([], "--set", help="Override a recipe key: --set train.lr=3e-4."),
    resume: Path = typer.Option(None, "--resume", help="Continue exactly from a training checkpoint (last.ckpt)."),
    init_from: Path = typer.Option(None, "--init-from", help="Fine-tune from a model file (vocabulary may grow)."),
    max_steps: int = typer.Option(0, "--max-steps", help="Stop after this many steps (0 = no limit)."),
    cache: Path = typer.Option(Path("data/cache"), "--cache", help="Where generated training data is kept."),
    print_config: bool = typer.Option(False, "--print-config", help="Print the resolved recipe and exit."),
) -> None:
    """Train a model from a recipe; writes model.safetensors, last.ckpt and history.jsonl.

    Several processes: torchrun --nproc_per_node N -m recognize train RECIPE ... (NCCL on GPUs, gloo on
    CPU). SIGTERM/SIGINT write a checkpoint and exit 143/130; --resume continues exactly."""
    from ..core.config import ConfigError, load_recipe, to_yaml
    from ..core.train import train
    try:
        r = load_recipe(recipe, overrides)
    except ConfigError as e:
        raise usage_error(str(e)) from None
    if print_config:
        print(to_yaml(r), end="")
        return
    if resume and init_from:
        raise usage_error("--resume and --init-from exclude each other")
    command = "recognize train " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    run_dir = out or Path("runs") / r.name
    try:
        result = train(r, run_dir, resume=resume, init_from=init_from, command=command, cache_dir=cache,
                       max_steps=max_steps)
    except ConfigError as e:  # a data source that cannot be read
        raise usage_error(str(e)) from None
    if result.interrupted:  # SIGTERM/SIGINT: a checkpoint was written; exit as the signal would (128 + n)
        print(f"recognize: interrupted at step {result.steps}; continue with: recognize train {recipe} "
              f"-o {run_dir} --resume {run_dir / 'last.ckpt'}", file=sys.stderr)
        raise typer.Exit(128 + result.interrupted)
    if os.environ.get("RANK", "0") == "0":
        print(f"{result.model_path}\tbest {r.task} metric {result.best_metric:.4f} after {result.epochs} epoch(s)")
