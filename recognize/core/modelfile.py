"""The model file: one ``.safetensors`` file with the weights and all metadata as JSON.

It rebuilds the network with no other argument and never unpickles code: the header holds
``recognize`` = JSON with the task, architecture, vocabulary, preprocessing, the resolved recipe,
a summary of the training data and the measured metrics.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .model import CTCModel, ModelConfig
from .runtime import FORMAT, LoadedModel, ModelFileError, check_header, file_sha256, read_metadata  # noqa: F401
from .vocab import Vocabulary

HEADER_KEYS = ("format", "model", "vocab", "dtype", "parameters")  # what save_model writes from the network


def carried_metadata(meta: dict, drop: tuple[str, ...] = ()) -> dict:
    """A model's metadata without what :func:`save_model` writes itself (and ``drop``): what a model
    made from it (averaged, pruned) keeps."""
    return {k: v for k, v in meta.items() if k not in HEADER_KEYS + drop}


def save_model(path: str | Path, net: CTCModel, vocab: Vocabulary, meta: dict, half: bool = False) -> Path:
    """Write weights + metadata atomically. ``meta`` must hold ``task``; the rest is free-form JSON."""
    if "task" not in meta:
        raise ValueError("model metadata needs a 'task'")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {**meta, "format": FORMAT, "model": net.cfg.to_dict(), "vocab": vocab.to_dict(),
              "dtype": "float16" if half else "float32", "parameters": sum(p.numel() for p in net.parameters())}
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in net.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata={"recognize": json.dumps(header, ensure_ascii=False)})
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def read_safetensors_metadata(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get("recognize")
    except Exception as e:  # safetensors raises several types for a damaged header
        raise ModelFileError(f"{path}: not a recognize model file ({e})") from None
    if raw is None:
        raise ModelFileError(f"{path}: safetensors file without recognize metadata")
    return check_header(json.loads(raw), path)


def load_model(path: str | Path, device: str | torch.device = "cpu", for_training: bool = False) -> LoadedModel:
    """Rebuild the network from the file alone, in eval mode and float32.

    Unless ``for_training``, batch norm is folded into the convolutions (same outputs, about half
    the front-end's time on CPU); such a network has no BatchNorm weights left to fine-tune.
    """
    path = Path(path)
    meta = read_safetensors_metadata(path)
    vocab = Vocabulary.from_dict(meta["vocab"])
    net = CTCModel(ModelConfig.from_dict(meta["model"]), len(vocab))
    tensors = {}
    with safe_open(str(path), framework="pt", device="cpu") as f:
        for k in f.keys():
            tensors[k] = f.get_tensor(k)
    state = {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ModelFileError(f"{path}: weights do not match the architecture "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    net = net.to(device).eval()
    if not for_training:
        net.frontend.fuse_batch_norm()
    if torch.device(device).type == "cpu":
        net.frontend.to(memory_format=torch.channels_last)  # matches the NHWC activations on CPU
    return LoadedModel(net, vocab, meta, path)
