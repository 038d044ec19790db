"""Weight averaging of models from one training run (icefall's ``--avg``, SWA without the BN pass).

Averaging the weights of a run's last epochs, or of its best model and a fine-tune of it, finds a
point in the middle of the basin they share; it usually generalises a little better than any one
of them and costs nothing at inference. The sources must have the same architecture and
vocabulary; batch-norm running statistics are averaged like the weights.
"""
from __future__ import annotations

from pathlib import Path

import torch

from .checkpoint import load_checkpoint
from .model import CTCModel, ModelConfig
from .modelfile import carried_metadata, load_model
from .runtime import ModelFileError, file_sha256, model_format
from .vocab import Vocabulary


def _source(path: Path) -> tuple[dict, dict, dict, dict]:
    """``(state, model config, vocab, metadata)`` of a model file or a training checkpoint."""
    if path.suffix == ".ckpt":
        try:
            ckpt = load_checkpoint(path)
        except (OSError, RuntimeError, KeyError, ValueError) as e:
            raise ModelFileError(f"{path}: not a readable training checkpoint ({e})") from None
        recipe = ckpt.get("recipe") or {}
        meta = {"task": recipe.get("task"), "name": recipe.get("name"), "recipe": recipe,
                "training": {"epochs": ckpt.get("epoch"), "steps": ckpt.get("step")}}
        return ckpt["model"], ModelConfig.from_dict(recipe.get("model") or {}).to_dict(), ckpt["vocab"], meta
    if model_format(path) != "safetensors":
        raise ModelFileError(f"{path}: average .safetensors models or .ckpt checkpoints, not exported models")
    m = load_model(path, for_training=True)  # batch norm not folded: the same parameters in every source
    return m.net.state_dict(), m.net.cfg.to_dict(), m.meta["vocab"], m.meta


def average_models(paths: list[str | Path]) -> tuple[CTCModel, Vocabulary, dict]:
    """The network whose floating-point weights are the mean of the sources', its vocabulary and
    metadata: the last source's (a model file's, when any is one) plus ``averaged_from``."""
    if not paths:
        raise ValueError("nothing to average")
    sources = [(Path(p), *_source(Path(p))) for p in paths]
    first, _, cfg0, vocab0, _ = sources[0]
    for path, _, cfg, vocab, _ in sources[1:]:
        if cfg != cfg0 or vocab != vocab0:
            what = "architecture" if cfg != cfg0 else "vocabulary"
            raise ModelFileError(f"{path}: its {what} differs from {first}'s: only models of one run can be averaged")
    total: dict[str, torch.Tensor] = {}
    for _, state, *_ in sources:
        for k, v in state.items():
            if v.is_floating_point():
                total[k] = total.get(k, 0) + v.double()
    vocab = Vocabulary.from_dict(vocab0)
    net = CTCModel(ModelConfig.from_dict(cfg0), len(vocab))
    last_state = sources[-1][1]
    net.load_state_dict({k: (total[k] / len(sources)).to(v.dtype) if k in total else v
                         for k, v in last_state.items()})
    metas = [meta for path, *_, meta in sources if path.suffix != ".ckpt"] or [sources[-1][4]]
    meta = carried_metadata(metas[-1], drop=("metrics",))  # metrics: measured on one source, not the average
    meta["averaged_from"] = [{"file": str(path), "sha256": file_sha256(path)[:16],
                              "epochs": (m.get("training") or {}).get("epochs"),
                              "valid": (m.get("metrics") or {}).get("valid")} for path, *_, m in sources]
    return net.eval(), vocab, meta
