"""The one training loop every task uses.

fp32 CTC with ``zero_infinity``, gradient clipping, AdamW with a one-cycle/cosine schedule,
length-bucketed batches under a budget of input units, validation each epoch with early stopping,
atomic checkpoints every N steps for exact resumption, and the best model written as a model file.
"""
from __future__ import annotations

import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch.utils.data import DataLoader

from ..tasks import Task, get_task
from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .config import Recipe, to_yaml
from .data import BucketBatchSampler, Item, ItemDataset, collate, feasible, report_unknown
from .decode import greedy_decode
from .metrics import error_rates
from .model import CTCModel
from .modelfile import load_model, read_metadata, save_model
from .vocab import Vocabulary

log = logging.getLogger("recognize")


@dataclass
class TrainResult:
    model_path: Path
    best_metric: float
    epochs: int
    steps: int


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but no CUDA device is available")
    return torch.device(name)


def gather_items(task: Task, sources, preprocess: dict, cache: Path) -> list[Item]:
    items: list[Item] = []
    for src in sources:
        got = task.items(src, preprocess, cache)
        if src.weight != 1.0:  # repeat (or subsample) a source within each epoch
            whole, frac = int(src.weight), src.weight - int(src.weight)
            got = got * whole + got[: int(len(got) * frac)]
        items.extend(got)
    return items


def sampler_steps(sampler, epochs: int) -> list[int]:
    """Batches in each epoch (the length-bucketed batches are re-drawn every epoch)."""
    counts = []
    for e in range(epochs):
        sampler.set_epoch(e)
        counts.append(len(sampler.batches()))
    return counts


def schedule_done(sched) -> bool:
    """A one-cycle schedule at its last step (possible when resuming a run whose step count was
    estimated differently): the learning rate then stays at its final value."""
    total = getattr(sched, "total_steps", None)
    return total is not None and sched.last_epoch >= total - 1


def make_scheduler(opt, cfg, total_steps: int):
    if cfg.schedule == "onecycle":
        total = max(total_steps, 4)
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total,
                                                   pct_start=min(0.5, max(cfg.warmup, 2 / total)),
                                                   anneal_strategy="cos")
    if cfg.schedule == "cosine":
        warm = max(1, int(cfg.warmup * total_steps))
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 *
                                                 (1 + math.cos(math.pi * min(1.0, s / max(total_steps, 1)))))
    if cfg.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    raise ValueError(f"train.schedule must be onecycle, cosine or constant, not {cfg.schedule!r}")


def ctc_loss(log_probs, targets, out_lengths, target_lengths) -> torch.Tensor:
    """Mean CTC loss per target token, in fp32, infinite losses zeroed."""
    return F.ctc_loss(log_probs.float().transpose(0, 1), targets, out_lengths, target_lengths,
                      blank=0, reduction="mean", zero_infinity=True)


@torch.no_grad()
def evaluate(net: CTCModel, loader, items: list[Item], vocab: Vocabulary, device) -> dict:
    net.eval()
    refs, hyps = [], []
    for batch in loader:
        if batch is None:
            continue
        lp, lens = net(batch["x"].to(device), batch["lengths"].to(device))
        for i, h in zip(batch["index"].tolist(), greedy_decode(lp, lens, vocab)):
            refs.append(items[i].text)
            hyps.append(h.text)
    refs = [vocab.normalize(r) for r in refs]
    return error_rates(refs, hyps).to_dict()


def _loader(ds, sampler, workers: int, device, seed: int = 0) -> DataLoader:
    # A private generator keeps the global RNG (dropout) untouched, so resuming is exact.
    return DataLoader(ds, batch_sampler=sampler, collate_fn=collate, num_workers=workers,
                      pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(seed))


def train(recipe: Recipe, out_dir: str | Path, resume: str | Path | None = None,
          init_from: str | Path | None = None, command: str = "", cache_dir: str | Path = "data/cache",
          max_steps: int = 0) -> TrainResult:
    """Train ``recipe`` into ``out_dir`` (``model.safetensors``, ``last.ckpt``, ``history.jsonl``)."""
    cfg = recipe.train
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    task = get_task(recipe.task)
    preprocess = {**task.preprocess_defaults(), **recipe.data.preprocess}
    unknown = set(preprocess) - set(task.preprocess_defaults())
    if unknown:
        raise ValueError(f"data.preprocess: unknown key(s) {sorted(unknown)} for task {task.name} "
                         f"(valid: {sorted(task.preprocess_defaults())})")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    if cfg.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    device = pick_device(cfg.device)
    cache = Path(cache_dir)

    if task.prepare_training is not None:
        task.prepare_training(recipe.data, preprocess)
    elif recipe.data.augment_options:
        raise ValueError(f"data.augment_options: the {task.name} task has no augmentation settings")
    train_items = gather_items(task, recipe.data.train, preprocess, cache)
    valid_items = gather_items(task, recipe.data.valid, preprocess, cache)
    if not train_items:
        raise ValueError("the recipe's data.train gives no samples")

    ckpt = load_checkpoint(resume) if resume else None
    if ckpt:
        vocab = Vocabulary.from_dict(ckpt["vocab"])
    elif init_from:
        vocab = load_model(init_from, for_training=True).vocab.extended(it.text for it in train_items)
    else:
        vocab = Vocabulary.from_texts(task.base_tokens() + [it.text for it in train_items],
                                      tokenizer=task.tokenizer)
        if task.tokenizer == "chars":
            vocab = Vocabulary([t for t in vocab.tokens if not (len(t) == 1 and t in "\n\r\t")], "chars")
    report_unknown(train_items, vocab, "training")
    report_unknown(valid_items, vocab, "validation")

    net = CTCModel(recipe.model, len(vocab))
    if init_from and not ckpt:
        base = load_model(init_from, for_training=True)
        net.resize_head(len(base.vocab))
        net.load_state_dict(base.net.state_dict())
        net.resize_head(len(vocab))
    net.to(device)
    out_len = lambda n: int(net.output_lengths(torch.tensor([n]))[0])  # noqa: E731
    train_items = feasible(train_items, vocab, out_len, "training")
    valid_items = feasible(valid_items, vocab, out_len, "validation")

    units = recipe.model.frontend.in_channels * recipe.model.frontend.height
    budget = max(1, cfg.batch_budget // units)  # in columns
    train_ds = ItemDataset(train_items, vocab, lambda k, r: task.load(k, preprocess, r),
                           augment=recipe.data.augment, seed=cfg.seed)
    sampler = BucketBatchSampler([it.length for it in train_items], budget, cfg.max_batch, True, cfg.seed)
    valid_ds = ItemDataset(valid_items, vocab, lambda k, r: task.load(k, preprocess, None))
    valid_sampler = BucketBatchSampler([it.length for it in valid_items], budget, cfg.max_batch, False)
    epoch_steps = sampler_steps(sampler, cfg.epochs)  # batch counts differ a little from epoch to epoch
    total_steps = sum(epoch_steps)

    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = make_scheduler(opt, cfg, total_steps)
    start_epoch, skip, step, best, bad_epochs = 0, 0, 0, float("inf"), 0
    seen = 0
    if ckpt:
        net.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        start_epoch, skip, step = ckpt["epoch"], ckpt["batch_in_epoch"], ckpt["step"]
        best, bad_epochs, seen = ckpt["best"], ckpt["bad_epochs"], ckpt.get("seen", 0)
        set_rng_state(ckpt["rng"])
        log.info("resumed from %s at epoch %d, step %d", resume, start_epoch + 1, step)

    (out / "recipe.yaml").write_text(to_yaml(recipe), encoding="utf-8")
    history = open(out / "history.jsonl", "a", encoding="utf-8")
    data_summary = {"train": [vars(s) for s in recipe.data.train], "valid": [vars(s) for s in recipe.data.valid],
                    "train_samples": len(train_items), "valid_samples": len(valid_items)}

    def checkpoint(epoch: int, batch_in_epoch: int) -> None:
        save_checkpoint(out / "last.ckpt", {
            "model": net.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
            "rng": rng_state(), "epoch": epoch, "batch_in_epoch": batch_in_epoch, "step": step,
            "best": best, "bad_epochs": bad_epochs, "seen": seen, "vocab": vocab.to_dict(),
            "recipe": recipe.to_dict()})

    parent = None  # a fine-tuned model carries how its starting point was made
    if init_from:
        base_meta = read_metadata(init_from)
        parent = {k: base_meta[k] for k in ("name", "recipe", "training", "metrics", "parent") if k in base_meta}

    def write_model(path: Path, metrics: dict, epoch: int) -> None:
        save_model(path, net, vocab, {
            "task": task.name, "name": recipe.name, "preprocess": preprocess, "recipe": recipe.to_dict(),
            "training": {"command": command, "data": data_summary, "epochs": epoch, "steps": step,
                         "samples_seen": seen, "device": str(device), "torch": torch.__version__,
                         "init_from": str(init_from) if init_from else None},
            "metrics": {"valid": metrics}, **({"parent": parent} if parent else {})})

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                        console=Console(file=sys.stderr), transient=False, disable=not sys.stderr.isatty())
    stopped = False
    epoch = start_epoch
    with progress:
        for epoch in range(start_epoch, cfg.epochs):
            sampler.set_epoch(epoch, skip if epoch == start_epoch else 0)
            train_ds.epoch = epoch
            bar = progress.add_task(f"epoch {epoch + 1}/{cfg.epochs}", total=epoch_steps[epoch],
                                    completed=sampler.skip, info="")
            net.train()
            t0, n0, loss_sum, loss_n, win_sum, win_n = time.time(), 0, 0.0, 0, 0.0, 0
            batch_in_epoch = sampler.skip
            for batch in _loader(train_ds, sampler, cfg.workers, device, cfg.seed + epoch):
                if batch is None:  # every sample of the batch failed to load
                    continue
                x, lengths = batch["x"].to(device, non_blocking=True), batch["lengths"].to(device)
                lp, out_lengths = net(x, lengths)
                loss = ctc_loss(lp, batch["targets"].to(device), out_lengths, batch["target_lengths"].to(device))
                opt.zero_grad(set_to_none=True)
                if torch.isfinite(loss):
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.clip)
                    opt.step()
                else:
                    log.warning("step %d: non-finite loss, batch skipped", step)
                if not schedule_done(sched):
                    sched.step()
                step += 1
                batch_in_epoch += 1
                seen += len(lengths)
                n0 += len(lengths)
                loss_sum, loss_n = loss_sum + loss.item(), loss_n + 1
                rate = n0 / max(time.time() - t0, 1e-9)
                progress.update(bar, advance=1, info=f"loss {loss_sum / loss_n:.3f} {rate:.0f} samples/s")
                win_sum, win_n = win_sum + loss.item(), win_n + 1
                if step % cfg.log_every == 0:
                    log.info("epoch %d step %d loss %.4f lr %.2e %.1f samples/s", epoch + 1, step,
                             win_sum / win_n, sched.get_last_lr()[0], rate)
                    history.write(json.dumps({"step": step, "epoch": epoch + 1, "loss": win_sum / win_n,
                                              "lr": sched.get_last_lr()[0], "samples_per_s": rate}) + "\n")
                    history.flush()
                    win_sum, win_n = 0.0, 0
                if cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                    checkpoint(epoch, batch_in_epoch)
                if max_steps and step >= max_steps:
                    stopped = True
                    break
            progress.remove_task(bar)
            if stopped:
                checkpoint(epoch, batch_in_epoch)
                break
            metrics = evaluate(net, _loader(valid_ds, valid_sampler, 0, device), valid_items, vocab, device) \
                if valid_items else {task.metric: loss_sum / max(loss_n, 1)}
            value = metrics[task.metric]
            improved = value < best
            if improved:
                best, bad_epochs = value, 0
            else:
                bad_epochs += 1
            record = {"epoch": epoch + 1, "step": step, "train_loss": loss_sum / max(loss_n, 1),
                      "valid": metrics, "best": best, "samples_per_s": n0 / max(time.time() - t0, 1e-9)}
            history.write(json.dumps(record) + "\n")
            history.flush()
            log.info("epoch %d: valid %s %.4f (best %.4f)", epoch + 1, task.metric, value, best)
            if improved:
                write_model(out / "model.safetensors", metrics, epoch + 1)
            checkpoint(epoch + 1, 0)
            if bad_epochs >= cfg.patience:
                log.info("no improvement for %d epochs: stopping early", bad_epochs)
                break
    history.close()
    final = out / "model.safetensors"
    if not final.exists():  # stopped before the first validation: keep what we have
        write_model(final, {}, epoch)
    return TrainResult(final, best, epoch + 1, step)
