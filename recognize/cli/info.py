"""``recognize info MODEL``."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import usage_error


def info_cmd(model: Path = typer.Argument(..., help="Model file."),
             as_json: bool = typer.Option(False, "--json", help="Print all metadata as JSON.")) -> None:
    """Show a model's task, architecture, vocabulary, training data and metrics."""
    from ..core.runtime import ModelFileError, file_sha256, read_metadata
    try:
        meta = read_metadata(model)
    except ModelFileError as e:
        raise usage_error(str(e)) from None
    if as_json:
        print(json.dumps(meta, indent=2, ensure_ascii=False))
        return
    tr, fe, rnn = meta.get("training", {}), meta["model"]["frontend"], meta["model"]["rnn"]
    blocks = "-".join(str(b["channels"]) for b in fe["blocks"])
    lines = [
        f"file        {model} ({model.stat().st_size / 1e6:.1f} MB, sha256 {file_sha256(model)[:16]})",
        f"task        {meta['task']}   name {meta.get('name')}   weights {meta.get('dtype')}",
        f"network     conv {blocks} (height {fe['height']}) + {rnn['layers']}x Bi{rnn['cell'].upper()}"
        f"({rnn['hidden']}) + CTC; {meta.get('parameters', 0) / 1e6:.2f} M parameters",
        f"vocabulary  {len(meta['vocab']['tokens'])} tokens ({meta['vocab']['tokenizer']}), blank = 0",
        f"preprocess  {json.dumps(meta.get('preprocess', {}))}",
        f"trained     {tr.get('epochs')} epochs, {tr.get('steps')} steps, {tr.get('samples_seen')} samples"
        f" on {tr.get('device')}",
        f"data        {json.dumps(tr.get('data', {}), ensure_ascii=False)}",
        f"command     {tr.get('command')}",
        f"metrics     {json.dumps(meta.get('metrics', {}))}",
    ]
    if "export" in meta:
        ex = meta["export"]
        lines.insert(2, f"exported    {ex['format']}{' ' + ex['quantize'] if ex.get('quantize') else ''}"
                        f"{' opset ' + str(ex['opset']) if ex.get('opset') else ''} from {ex['source']} "
                        f"(sha256 {ex['source_sha256'][:16]}), torch {ex['torch']}")
    print("\n".join(lines))
