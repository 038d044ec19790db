"""Which CTC kernel does ATen take for each way of passing targets and lengths, and do its loss and
gradient match the CPU's? The evidence behind ``recognize.core.ctc.ctc_loss``'s choices.

    python3 benchmarks/gpu/ctc_probe.py
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def batch(varied: bool, n: int = 6, t: int = 50, v: int = 12):
    g = torch.Generator().manual_seed(0)
    lp = torch.randn(t, n, v, generator=g).log_softmax(-1)
    tl = torch.randint(1, 20, (n,), generator=g)
    targets = torch.randint(1, v, (int(tl.sum()),), generator=g)
    il = torch.full((n,), t)
    if varied:
        il[0] -= 5
    return lp, targets, il, tl


def losses_and_grad(lp, targets, il, tl, device, transposed=False):
    """Per-sample losses and the gradient of their sum; ``transposed``: the log-probs reach ATen as a
    ``[T, N, V]`` view of an ``[N, T, V]`` tensor, as a batch-first model gives them."""
    x = (lp.transpose(0, 1) if transposed else lp).detach().to(device).requires_grad_(True)
    out = F.ctc_loss(x.transpose(0, 1) if transposed else x, targets, il, tl, blank=0, reduction="none",
                     zero_infinity=True)
    out.sum().backward()
    return out.detach().cpu(), (x.grad.transpose(0, 1) if transposed else x.grad).cpu()


VARIANTS = {
    "cuDNN v7 (CPU int32 targets, int lengths)":
        lambda tg, il, tl: (tg.int(), tuple(il.tolist()), tuple(tl.tolist())),
    "cuDNN v7, log-probs a transposed view": lambda tg, il, tl: (tg.int(), tuple(il.tolist()), tuple(tl.tolist())),
    "GPU int32 targets and lengths": lambda tg, il, tl: (tg.int().cuda(), il.int().cuda(), tl.int().cuda()),
    "GPU int64 targets and lengths": lambda tg, il, tl: (tg.cuda(), il.cuda(), tl.cuda()),
}


def main() -> None:
    print(f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name()}")
    for varied in (False, True):
        lp, tg, il, tl = batch(varied)
        ref_loss, ref_grad = losses_and_grad(lp, tg, il, tl, "cpu")
        valid = torch.arange(lp.shape[0])[:, None] < il[None, :]
        print(f"input lengths {'varied' if varied else 'all equal'}:")
        for name, make in VARIANTS.items():
            try:
                prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA])
                with prof:
                    loss, grad = losses_and_grad(lp, *make(tg, il, tl), "cuda", "view" in name)
                    torch.cuda.synchronize()
                kernels = sorted({e.key[:40] for e in prof.key_averages() if "ctc" in e.key.lower()})
                d = (grad - ref_grad).abs()
                print(f"  {name:<44} loss diff {float((loss - ref_loss).abs().max()):.2e}, grad diff "
                      f"{float(d[valid].max()):.2e} in frames, {float(d[~valid].max()) if (~valid).any() else 0:.2e} "
                      f"past the ends; kernels {kernels}")
            except Exception as e:  # noqa: BLE001 - a probe reports every outcome
                print(f"  {name:<44} {type(e).__name__}: {str(e).splitlines()[0][:120]}")


if __name__ == "__main__":
    main()
