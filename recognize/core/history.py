"""A training run's metrics as JSONL (``history.jsonl``, the record), CSV (``steps.csv``,
``epochs.csv``) and TensorBoard event files (``tensorboard/``), written by the main process.

A resumed run first drops the records after its checkpoint's step (they are trained again), so
every file reads as one uninterrupted run.
"""
from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

log = logging.getLogger("recognize")

FAULTS = ("skipped_nonfinite", "oom_splits", "oom_skipped", "fp16_overflows")  # counts of step.StepStats
STEP_FIELDS = ["step", "epoch", "loss", "lr", "samples_per_s", "seen", "time"]
EPOCH_FIELDS = ["epoch", "step", "train_loss", "valid_cer", "valid_wer", "valid_ser", "valid_seq", "best",
                "samples_per_s", *FAULTS, "amp"]


def read(path: str | Path) -> list[dict]:
    """The records of a ``history.jsonl`` (a line cut short by a kill is skipped)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _epoch_row(rec: dict) -> dict:
    valid = rec.get("valid", {})
    row = {k: rec.get(k) for k in EPOCH_FIELDS}
    return {**row, **{f"valid_{k}": valid.get(k) for k in ("cer", "wer", "ser", "seq")}}


class History:
    def __init__(self, run_dir: Path, enabled: bool = True, resume: tuple[int, int] | None = None):
        """``resume``: (step, epochs completed) of the checkpoint a resumed run starts from; the
        records after it are dropped. An epoch's record goes by its number, not its step: a
        checkpoint written at the epoch's last step precedes its validation."""
        self.enabled = enabled
        self.dir = run_dir
        self.tb = None
        if not enabled:
            return
        path = run_dir / "history.jsonl"
        resume_step = resume[0] if resume is not None else None

        def before(r: dict) -> bool:
            return r["epoch"] <= resume[1] if "valid" in r else r.get("step", 0) <= resume[0]
        records = [r for r in read(path) if before(r)] if resume is not None and path.exists() else []
        self.jsonl = open(path, "w" if resume_step is not None else "a", encoding="utf-8")
        self.steps = self._csv("steps.csv", STEP_FIELDS, [r for r in records if "valid" not in r], resume_step)
        self.epochs = self._csv("epochs.csv", EPOCH_FIELDS, [_epoch_row(r) for r in records if "valid" in r],
                                resume_step)
        for r in records:
            self.jsonl.write(json.dumps(r) + "\n")
        self.jsonl.flush()
        try:
            from tensorboardX import SummaryWriter
            self.tb = SummaryWriter(str(run_dir / "tensorboard"),
                                    purge_step=resume_step + 1 if resume_step is not None else None)
        except ImportError:
            log.info("tensorboardX is not installed: no TensorBoard event files (history.jsonl and CSV only)")

    def _csv(self, name: str, fields: list[str], rows: list[dict], resume_step):
        path = self.dir / name
        fresh = resume_step is not None or not path.exists()
        f = open(path, "w" if fresh else "a", encoding="utf-8", newline="")
        writer = csv.DictWriter(f, fields, extrasaction="ignore")
        if fresh:
            writer.writeheader()
            writer.writerows(rows)
        return f, writer

    def step(self, rec: dict) -> None:
        """A training-step record: step, epoch, loss, lr, samples_per_s, seen, time."""
        if not self.enabled:
            return
        self._write(rec, self.steps)
        if self.tb:
            for k in ("loss", "lr", "samples_per_s"):
                self.tb.add_scalar(f"train/{k}", rec[k], rec["step"])

    def epoch(self, rec: dict) -> None:
        """An end-of-epoch record with the validation metrics."""
        if not self.enabled:
            return
        self._write(_epoch_row(rec), self.epochs, rec)
        if self.tb:
            self.tb.add_scalar("train/epoch_loss", rec["train_loss"], rec["step"])
            for k, v in rec.get("valid", {}).items():
                if isinstance(v, float):
                    self.tb.add_scalar(f"valid/{k}", v, rec["step"])
            self.tb.flush()

    def _write(self, row: dict, table, rec: dict | None = None) -> None:
        self.jsonl.write(json.dumps(rec if rec is not None else row) + "\n")
        self.jsonl.flush()
        f, writer = table
        writer.writerow(row)
        f.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        self.jsonl.close()
        self.steps[0].close()
        self.epochs[0].close()
        if self.tb:
            self.tb.close()
