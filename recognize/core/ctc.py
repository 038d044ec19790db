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
    ``cudnn``, ``cuda`` or ``cpu``. ``targets`` are the batch's labels concatenated (int32, any device).

    Lengths go to ATen as Python ints on the cuDNN path and the mean is taken here: with CPU length
    tensors, torch 2.11's own mean divides CUDA losses by CPU lengths and fails. The native path gets
    int64 targets: int32 targets and lengths on the GPU would select cuDNN's v8 CTC, whose gradients
    did not match the CPU's on an H200 (tests/core/test_cuda.py)."""
    lp = log_probs.float().transpose(0, 1)  # [T, N, V]
    dev = log_probs.device
    if cudnn and cudnn_eligible(log_probs, target_lengths, out_lengths):
        tgt = targets.to("cpu", torch.int32)
        in_len, tgt_len = out_lengths.to("cpu", torch.int32).tolist(), target_lengths.to("cpu", torch.int32).tolist()
        if torch._use_cudnn_ctc_loss(lp, tgt, in_len, tgt_len, 0):
            # contiguous: from the batch-first model's transposed view, the gradient of the per-token mean
            # did not match the CPU's on an H200 (torch 2.11; tests/core/test_cuda.py)
            losses = F.ctc_loss(lp.contiguous(), tgt, tuple(in_len), tuple(tgt_len), blank=0, reduction="none",
                                zero_infinity=True)
            return _mean_per_token(losses, target_lengths), "cudnn"
    losses = F.ctc_loss(lp, targets.to(dev, torch.long), out_lengths.to(dev, torch.long),
                        target_lengths.to(dev, torch.long), blank=0, reduction="none", zero_infinity=True)
    return _mean_per_token(losses, target_lengths), dev.type


def _mean_per_token(losses: Tensor, target_lengths: Tensor) -> Tensor:
    """ATen's ``reduction="mean"``: each loss divided by its target length, then the batch mean."""
    return (losses / target_lengths.to(losses.device, losses.dtype).clamp_min(1)).mean()
