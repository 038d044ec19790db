"""One optimisation step that survives bad batches: out-of-memory splits, non-finite losses and gradients.

- Out of memory on a batch (GPU or CPU allocator): the batch is split in two halves and each is
  run in turn, accumulating gradients weighted so that the step equals the whole batch's (the CTC
  loss is a mean over samples); halves that still do not fit are split again, and a single sample
  that does not fit is skipped and reported. Under DDP only the last part synchronises gradients.
- A non-finite loss or gradient norm: the optimizer step is skipped (the model and optimizer are
  left as they were) and reported. Under DistributedDataParallel every process still runs its
  backward pass (a skipped backward would leave the others waiting in the gradient all-reduce);
  gradients are averaged across processes, so all of them see the same non-finite norm and skip
  together.
"""
from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass, field

import torch
from torch import Tensor

from .ctc import ctc_loss

log = logging.getLogger("recognize")


@dataclass
class StepStats:
    """What happened in one step (summed over an epoch for the history)."""

    loss: float = 0.0          # the batch's mean loss (nan when skipped)
    samples: int = 0           # samples whose gradients were used
    skipped_nonfinite: int = 0
    oom_splits: int = 0
    oom_skipped: int = 0       # samples dropped because even alone they did not fit
    fp16_overflows: int = 0    # fp16 steps skipped by the gradient scaler (it then lowers its scale)
    kernels: dict = field(default_factory=dict)  # CTC kernel -> calls

    @property
    def applied(self) -> bool:
        return self.samples > 0 and self.skipped_nonfinite == 0 and self.fp16_overflows == 0


class _Restart(Exception):
    def __init__(self, batch: dict, size: int):
        super().__init__(size)
        self.batch, self.size = batch, size


def is_oom(e: BaseException) -> bool:
    return isinstance(e, torch.cuda.OutOfMemoryError) or (
        isinstance(e, RuntimeError) and ("out of memory" in str(e) or "can't allocate memory" in str(e)))


def sub_batch(batch: dict, idx: list[int]) -> dict:
    """The samples ``idx`` of a collated batch (targets re-concatenated)."""
    tl = batch["target_lengths"].tolist()
    starts = [sum(tl[:i]) for i in range(len(tl))]
    targets = torch.cat([batch["targets"][starts[i]: starts[i] + tl[i]] for i in idx]) if idx else batch["targets"][:0]
    width = int(batch["lengths"][idx].max())
    return {"x": batch["x"][idx, ..., :width], "lengths": batch["lengths"][idx], "targets": targets,
            "target_lengths": batch["target_lengths"][idx], "index": batch["index"][idx]}


@dataclass
class Stepper:
    """Runs forward/backward/update for the training loop. ``net`` may be wrapped in DDP."""

    net: torch.nn.Module
    opt: torch.optim.Optimizer
    device: torch.device
    clip: float = 5.0
    amp: str = "none"            # none | bf16 | fp16
    cudnn_ctc: bool = True
    distributed: bool = False
    scaler: torch.amp.GradScaler | None = None

    def __post_init__(self):
        if self.amp == "fp16" and self.scaler is None:
            self.scaler = torch.amp.GradScaler(self.device.type)

    def _autocast(self):
        if self.amp == "none":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16 if self.amp == "bf16" else torch.float16)

    def _backward(self, batch: dict, weight: float, stats: StepStats, sync: bool) -> Tensor:
        """Forward and backward of ``batch``, its loss scaled by ``weight``; returns the loss (a tensor on
        the device, not read back: a read here would keep the CPU from queueing work ahead of the GPU).
        A non-finite loss gives non-finite gradients, which :meth:`step` finds and skips; under DDP they
        reach every process, so all of them skip the step."""
        self._in_backward = False
        x = batch["x"].to(self.device, non_blocking=True)
        lengths = batch["lengths"].to(self.device)
        ctx = self.net.no_sync() if self.distributed and not sync else contextlib.nullcontext()
        with ctx:
            with self._autocast():
                lp, out_lengths = self.net(x, lengths)
            loss, kernel = ctc_loss(lp, batch["targets"], out_lengths, batch["target_lengths"], self.cudnn_ctc)
            stats.kernels[kernel] = stats.kernels.get(kernel, 0) + 1
            scaled = loss * weight
            self._in_backward = True  # gradients may now be partly accumulated
            (self.scaler.scale(scaled) if self.scaler else scaled).backward()
            self._in_backward = False
        return loss.detach()

    def _run(self, batch: dict, weight: float, stats: StepStats, sync: bool) -> list[Tensor]:
        """Accumulate gradients of ``batch``, splitting it on out-of-memory; returns per-sample losses.

        Out of memory in the forward pass leaves the gradients as they were: the batch is split
        and its halves run. In the backward pass some gradients may already be added, so the whole
        step restarts (:class:`_Restart`) with parts at most half that size.
        """
        keep = [i for i, k in enumerate(batch["index"].tolist()) if k not in self._never_fits]
        if len(keep) < len(batch["lengths"]):
            stats.oom_skipped += len(batch["lengths"]) - len(keep)
            if not keep:
                return []
            weight, batch = weight * len(keep) / len(batch["lengths"]), sub_batch(batch, keep)
        n = len(batch["lengths"])
        if n <= self._max_part:
            try:
                loss = self._backward(batch, weight, stats, sync)
                stats.samples += n
                return [loss] * n
            except Exception as e:
                if not is_oom(e):
                    raise
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                if self._in_backward:
                    raise _Restart(batch, n) from None
                if n == 1:
                    self._never_fits.add(int(batch["index"][0]))
                    stats.oom_skipped += 1
                    log.warning("sample %d does not fit in memory even alone: skipped", int(batch["index"][0]))
                    return []
        stats.oom_splits += 1
        half = n // 2
        parts = [list(range(half)), list(range(half, n))]
        losses = []
        for k, idx in enumerate(parts):
            losses += self._run(sub_batch(batch, idx), weight * len(idx) / n, stats, sync and k == len(parts) - 1)
        return losses

    def step(self, batch: dict, step: int) -> StepStats:
        self._max_part, self._never_fits, splits = len(batch["lengths"]), set(), 0
        while True:
            stats = StepStats(oom_splits=splits)
            self.opt.zero_grad(set_to_none=True)
            try:
                losses = self._run(batch, 1.0, stats, sync=True)
                break
            except _Restart as r:  # out of memory in a backward pass: start again with smaller parts
                splits = stats.oom_splits + 1
                if r.size == 1:
                    self._never_fits.add(int(r.batch["index"][0]))
                self._max_part = max(1, r.size // 2)
        if stats.oom_splits:
            log.warning("step %d: out of memory on a batch of %d; split %d time(s)%s", step,
                        len(batch["lengths"]), stats.oom_splits,
                        f", {stats.oom_skipped} sample(s) skipped" if stats.oom_skipped else "")
        if self.scaler:
            self.scaler.unscale_(self.opt)
        params = [p for p in self.net.parameters() if p.grad is not None]
        norm = (torch.nn.utils.clip_grad_norm_(params, self.clip) if params
                else torch.tensor(float("nan"), device=self.device))
        *values, norm_value = torch.stack([x.float() for x in losses] + [norm.float()]).tolist()  # the one read
        stats.loss = sum(values) / len(values) if values else float("nan")
        finite_loss = bool(values) and all(map(math.isfinite, values))
        if not finite_loss or not math.isfinite(norm_value):
            self.opt.zero_grad(set_to_none=True)
            if self.scaler:
                self.scaler.update()  # lowers the fp16 loss scale after an overflow
            if self.scaler and finite_loss:  # an fp16 overflow at this loss scale: expected, not a fault
                stats.fp16_overflows = 1
                log.debug("step %d: fp16 gradient overflow, loss scale now %g", step, self.scaler.get_scale())
                return stats
            stats.skipped_nonfinite = 1
            log.warning("step %d: non-finite %s, update skipped", step, "gradient" if finite_loss else "loss")
            return stats
        if self.scaler:
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            self.opt.step()
        return stats

