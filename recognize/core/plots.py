"""Learning curves of a training run (matplotlib, drawn off-screen)."""
from __future__ import annotations

import logging
from pathlib import Path

METRICS = {"cer": "CER", "wer": "WER", "ser": "SER", "seq": "sequence error"}
logging.getLogger("matplotlib").setLevel(logging.WARNING)  # its font-cache notices are not ours


def learning_curves(records: list[dict], out: Path, title: str = "") -> Path:
    """Four panels: training loss per step (and per epoch), learning rate, validation error rates
    per epoch, samples/s. Written to ``out`` (PNG)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r for r in records if "loss" in r and "valid" not in r]
    epochs = [r for r in records if "valid" in r]
    fig, ax = plt.subplots(2, 2, figsize=(12, 7.5), constrained_layout=True)
    (loss, lr), (valid, speed) = ax
    if steps:
        loss.plot([r["step"] for r in steps], [r["loss"] for r in steps], lw=1, label="per logged window")
    if epochs:
        loss.plot([r["step"] for r in epochs], [r["train_loss"] for r in epochs], "o-", label="epoch mean")
    loss.set(title="training loss (CTC, per target token)", xlabel="step", yscale="log")
    loss.legend()
    if steps:
        lr.plot([r["step"] for r in steps], [r["lr"] for r in steps], color="tab:purple")
        speed.plot([r["step"] for r in steps], [r["samples_per_s"] for r in steps], color="tab:green")
    lr.set(title="learning rate", xlabel="step")
    speed.set(title="training throughput", xlabel="step", ylabel="samples/s")
    for key, name in METRICS.items():
        pts = [(r["epoch"], r["valid"][key]) for r in epochs if isinstance(r["valid"].get(key), (int, float))]
        if pts:
            valid.plot([e for e, _ in pts], [100 * v for _, v in pts], "o-", label=name)
    valid.set(title="validation error", xlabel="epoch", ylabel="%")
    if epochs:
        valid.legend()
        best = min(epochs, key=lambda r: r["best"])
        valid.annotate(f"best {100 * best['best']:.2f} % (epoch {best['epoch']})", xy=(0.02, 0.95),
                       xycoords="axes fraction", va="top")
    for a in ax.flat:
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
