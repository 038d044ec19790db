"""Structured pruning of the convolutional front-end: a narrower model that starts from a trained one.

Each conv block keeps its most important output channels (batch-norm scale |gamma|, as in
"network slimming"; the filter's L1 norm without batch norm); the next block's filters, or the
projection after the last block, lose the matching inputs. The result is an ordinary model of the
narrower architecture: fine-tune it (``recognize train --init-from``) with a recipe that names
the same channel counts, and it runs as much faster as its convolutions are smaller.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .model import CTCModel


def channel_importance(block: nn.Sequential) -> torch.Tensor:
    conv = block[0]
    if len(block) > 1 and isinstance(block[1], nn.BatchNorm2d):
        return block[1].weight.detach().abs()
    return conv.weight.detach().abs().sum(dim=(1, 2, 3))


def prune_channels(net: CTCModel, channels: list[int]) -> CTCModel:
    """A copy of ``net`` (unfolded batch norm, i.e. loaded ``for_training``) whose conv blocks have
    ``channels[i]`` output channels each, keeping the most important ones in their order."""
    blocks = net.frontend.cfg.blocks
    if len(channels) != len(blocks):
        raise ValueError(f"give one channel count per conv block ({len(blocks)}), not {len(channels)}")
    for i, (c, b) in enumerate(zip(channels, blocks)):
        if not 1 <= c <= b.channels:
            raise ValueError(f"block {i + 1} has {b.channels} channels: keep 1 to {b.channels}, not {c}")
    cfg = copy.deepcopy(net.cfg)
    for b, c in zip(cfg.frontend.blocks, channels):
        b.channels = c
    small = CTCModel(cfg, net.num_classes)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    keep_in = None
    for i, (block, c) in enumerate(zip(net.frontend.convs, channels)):
        keep = channel_importance(block).argsort(descending=True)[:c].sort().values
        prefix = f"frontend.convs.{i}."
        for name, tensor in list(state.items()):
            if not name.startswith(prefix) or tensor.ndim == 0:  # BatchNorm's num_batches_tracked
                continue
            if name == prefix + "0.weight" and keep_in is not None:
                tensor = tensor[:, keep_in]
            state[name] = tensor[keep]
        keep_in = keep
    height = net.frontend.features // blocks[-1].channels  # features are laid out channel-major: c * H + h
    cols = (keep_in[:, None] * height + torch.arange(height)[None, :]).reshape(-1)
    if net.frontend.proj is not None:
        state["frontend.proj.weight"] = state["frontend.proj.weight"][:, cols]
    else:  # the first RNN layer reads the features directly
        for name in [k for k in state if k.startswith("rnn.rnns.0.weight_ih")]:
            state[name] = state[name][:, cols]
    small.load_state_dict(state)
    return small.eval()
