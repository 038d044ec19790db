"""The CTC loss on the fastest kernel its inputs allow.

PyTorch has three CTC kernels: CPU, native CUDA, and cuDNN's. ATen takes cuDNN's only when every
condition holds: log-probs float32 on a GPU, blank 0, concatenated int32 targets *on the CPU*,
every target at most 256 labels, and every input length equal to the padded length (cuDNN has no
per-sample input lengths). With length-bucketed batches the last one often holds (speech clips of
one second); :func:`ctc_loss` then hands ATen CPU int32 targets so that it picks cuDNN, and moves
them to the GPU for the native kernel otherwise. The loss is always computed in float32.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

CUDNN_MAX_TARGET = 256


def cudnn_eligible(log_probs: Tensor, target_lengths: Tensor, out_lengths: Tensor) -> bool:
    """Whether cuDNN's CTC can compute this batch (``log_probs`` ``[N, T, V]``)."""
    if not (log_probs.is_cuda and torch.backends.cudnn.enabled and torch.backends.cudnn.is_available()):
        return False
    return bool((target_lengths <= CUDNN_MAX_TARGET).all()) and bool((out_lengths == log_probs.shape[1]).all())


def ctc_loss(log_probs: Tensor, targets: Tensor, out_lengths: Tensor, target_lengths: Tensor,
             cudnn: bool = True) -> tuple[Tensor, str]:
    """Mean CTC loss per target token (fp32, infinite losses zeroed) and the kernel that computed it:
    ``cudnn``, ``cuda`` or ``cpu``. ``targets`` are the batch's labels concatenated (int32, any device)."""
    lp = log_probs.float().transpose(0, 1)  # [T, N, V]
    if cudnn and cudnn_eligible(log_probs, target_lengths, out_lengths):
        tgt = targets.to("cpu", torch.int32)
        in_len, tgt_len = out_lengths.to("cpu", torch.int32), target_lengths.to("cpu", torch.int32)
        if torch._use_cudnn_ctc_loss(lp, tgt, in_len.tolist(), tgt_len.tolist(), 0):
            return F.ctc_loss(lp, tgt, in_len, tgt_len, blank=0, reduction="mean", zero_infinity=True), "cudnn"
    dev = log_probs.device
    loss = F.ctc_loss(lp, targets.to(dev), out_lengths.to(dev), target_lengths.to(dev), blank=0,
                      reduction="mean", zero_infinity=True)
    return loss, dev.type
