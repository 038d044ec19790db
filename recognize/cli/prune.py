"""``recognize prune MODEL --channels 24,32,48,64 -o OUT``: a narrower front-end to fine-tune."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from .common import usage_error


def prune_cmd(
    model: Path = typer.Argument(..., help="The trained .safetensors model."),
    channels: str = typer.Option(..., "--channels", "-c", help="Output channels to keep in each conv block, "
                                 "comma-separated (e.g. 24,32,48,64)."),
    out: Path = typer.Option(..., "--out", "-o", help="The pruned model file (.safetensors)."),
) -> None:
    """Keep each conv block's most important channels (batch-norm scale). The pruned model reads
    worse until fine-tuned: recognize train RECIPE --init-from OUT, with the recipe's
    model.frontend.blocks set to the same channels. Exit 0: written; 2: usage error."""
    from ..core.modelfile import ModelFileError, carried_metadata, load_model, save_model
    from ..core.prune import prune_channels
    if out.suffix != ".safetensors":
        raise usage_error(f"{out}: the pruned model is written as .safetensors")
    try:
        keep = [int(c) for c in channels.split(",")]
        m = load_model(model, for_training=True)
        net = prune_channels(m.net, keep)
    except ValueError as e:
        raise usage_error(f"--channels {channels}: {e}") from None
    except ModelFileError as e:
        raise usage_error(str(e)) from None
    meta = carried_metadata(m.meta, drop=("metrics",))
    meta["pruned"] = {"command": "recognize prune " + " ".join(shlex.quote(a) for a in sys.argv[2:]),
                      "from": str(model), "channels": keep}
    save_model(out, net, m.vocab, meta)
    before, after = (sum(p.numel() for p in n.parameters()) for n in (m.net, net))
    print(f"recognize: wrote {out} ({before / 1e6:.2f} M -> {after / 1e6:.2f} M parameters); "
          "fine-tune it before use", file=sys.stderr)
