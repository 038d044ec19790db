"""The one training loop every task uses.

fp32 CTC with ``zero_infinity`` (on cuDNN's kernel when a batch allows, ``ctc.py``), the CNN and RNN
under bf16/fp16 autocast on a GPU, gradient clipping, AdamW with a one-cycle/cosine schedule,
length-bucketed batches under a budget of input units, validation each epoch with early stopping,
and the best model written as a model file. Faults: atomic checkpoints every N steps and on
SIGTERM/SIGINT for an exact ``--resume``; out-of-memory batches split and non-finite steps skipped
(``step.py``). Several processes under ``torchrun`` (``distributed.py``).
"""
from __future__ import annotations

import functools
import logging
import math
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from ..tasks import Task, get_task
from . import distributed
from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .config import ConfigError, Recipe, to_yaml
from .data import BucketBatchSampler, Item, ItemDataset, collate, feasible, report_unknown
from .decode import greedy_decode
from .distributed import World
from .history import FAULTS, History
from .metrics import error_rates
from .model import CTCModel
from .modelfile import load_model, read_metadata, save_model
from .step import Stepper
from .vocab import Vocabulary

log = logging.getLogger("recognize")
SINGLE = World()  # one process, no torchrun


@dataclass
class TrainResult:
    model_path: Path
    best_metric: float
    epochs: int
    steps: int
    interrupted: int = 0  # the signal (SIGTERM/SIGINT) that stopped the run after writing a checkpoint


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but no CUDA device is available")
    return torch.device(name)


def gather_items(task: Task, sources, preprocess: dict, cache: Path, name: str = "data.train") -> list[Item]:
    """The items of every source, each repeated by its weight; a source that cannot be read (missing
    folder, unreadable manifest, unknown kind) is a ConfigError naming it."""
    items: list[Item] = []
    for i, src in enumerate(sources):
        try:
            got = task.items(src, preprocess, cache)
        except (FileNotFoundError, NotADirectoryError, ValueError) as e:
            raise ConfigError(f"{name}[{i}] ({src.kind}): {e}") from None
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


@torch.no_grad()
def evaluate(net: CTCModel, loader, items: list[Item], vocab: Vocabulary, device, world: World = SINGLE) -> dict:
    """Greedy error rates on the validation batches of this process, pooled over all processes."""
    net.eval()
    refs, hyps = [], []
    for batch in loader:
        if batch is None:
            continue
        lp, lens = net(batch["x"].to(device), batch["lengths"].to(device))
        for i, h in zip(batch["index"].tolist(), greedy_decode(lp, lens, vocab)):
            refs.append(items[i].text)
            hyps.append(h.text)
    pairs = [pair for part in distributed.gather(world, list(zip(refs, hyps))) for pair in part]
    return error_rates([vocab.normalize(r) for r, _ in pairs], [h for _, h in pairs]).to_dict()


def _loader(ds, sampler, workers: int, device, seed: int = 0, pad_to: int = 1, prefetch: int = 4) -> DataLoader:
    # A private generator keeps the global RNG (dropout) untouched, so resuming is exact.
    return DataLoader(ds, batch_sampler=sampler, collate_fn=functools.partial(collate, pad_to=pad_to),
                      num_workers=workers, pin_memory=device.type == "cuda",
                      prefetch_factor=prefetch if workers else None, generator=torch.Generator().manual_seed(seed))


def resolve_amp(amp: str, device: torch.device) -> str:
    """``auto``: bf16 on a GPU that has it (the CNN and RNN; CTC stays fp32), none on CPU."""
    if amp == "auto":
        return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "none"
    if amp not in ("none", "bf16", "fp16"):
        raise ValueError(f"train.amp must be auto, none, bf16 or fp16, not {amp!r}")
    return amp


class StopSignal:
    """Turns SIGTERM/SIGINT into a flag the loop checks after each step (it then checkpoints and
    stops); a second signal of the same kind exits at once."""

    def __init__(self):
        self.received: int | None = None
        self._old: dict = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.received == signum:
            raise KeyboardInterrupt
        self.received = signum
        log.warning("%s received: checkpointing after this step (send it again to stop at once)",
                    signal.Signals(signum).name)

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False


# what a model's ``parent`` record keeps of the model a run started from
PROVENANCE = ("name", "recipe", "training", "metrics", "averaged", "averaged_from", "pruned", "parent")


def run_origin(ckpt: dict | None, out: Path, command: str, init_from: str | Path | None) -> dict:
    """How a run began: its first command, the model it started from with that model's own origin
    (``parent``), and every ``--resume`` command since, so a resumed run's model still says how to
    make it. A resumed run keeps them from its checkpoint, or, for a checkpoint written before they
    were kept there, from the model file the run wrote before it stopped."""
    if ckpt is None:
        parent = None
        if init_from:
            base = read_metadata(init_from)
            parent = {k: base[k] for k in PROVENANCE if k in base}
        return {"command": command, "init_from": str(init_from) if init_from else None, "parent": parent,
                "resumed": []}
    origin = ckpt.get("origin")
    if origin is None:
        earlier = read_metadata(out / "model.safetensors") if (out / "model.safetensors").is_file() else {}
        training = earlier.get("training", {})
        origin = {"command": training.get("command", ""), "init_from": training.get("init_from"),
                  "parent": earlier.get("parent"), "resumed": training.get("resumed", [])}
    return {**origin, "resumed": [*origin["resumed"], command]}


def train(recipe: Recipe, out_dir: str | Path, resume: str | Path | None = None,
          init_from: str | Path | None = None, command: str = "", cache_dir: str | Path = "data/cache",
          max_steps: int = 0, on_step=None) -> TrainResult:
    """Train ``recipe`` into ``out_dir`` (``model.safetensors``, ``last.ckpt``, ``history.jsonl``).
    ``on_step(step)`` is called after every optimisation step (benchmarks: profiler windows).

    Under ``torchrun`` every process calls this; they share the batches (each takes every n-th),
    average gradients (DistributedDataParallel), pool validation results, and only rank 0 writes.
    """
    cfg = recipe.train
    out = Path(out_dir)
    task = get_task(recipe.task)
    preprocess = {**task.preprocess_defaults(), **recipe.data.preprocess}
    unknown = set(preprocess) - set(task.preprocess_defaults())
    if unknown:
        raise ValueError(f"data.preprocess: unknown key(s) {sorted(unknown)} for task {task.name} "
                         f"(valid: {sorted(task.preprocess_defaults())})")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    world, device = distributed.setup(pick_device(cfg.device))
    try:
        return _train(recipe, out, task, preprocess, world, device, resume, init_from, command, Path(cache_dir),
                      max_steps, on_step)
    finally:
        distributed.teardown(world)


def _train(recipe: Recipe, out: Path, task: Task, preprocess: dict, world: World, device: torch.device,
           resume, init_from, command: str, cache: Path, max_steps: int, on_step) -> TrainResult:
    cfg = recipe.train
    torch.manual_seed(cfg.seed + world.rank)  # dropout differs between processes
    if cfg.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    amp = resolve_amp(cfg.amp, device)
    pad_to = cfg.pad_to or (64 if device.type == "cuda" else 1)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = cfg.autotune and cfg.bucketing and pad_to > 1 and not cfg.deterministic
    if world.main:
        out.mkdir(parents=True, exist_ok=True)

    if task.prepare_training is not None:
        task.prepare_training(recipe.data, preprocess)
    elif recipe.data.augment_options:
        raise ValueError(f"data.augment_options: the {task.name} task has no augmentation settings")
    if not world.main:
        distributed.barrier(world)  # rank 0 generates and caches synthetic data first
    train_items = gather_items(task, recipe.data.train, preprocess, cache)
    valid_items = gather_items(task, recipe.data.valid, preprocess, cache, "data.valid")
    if world.main:
        distributed.barrier(world)
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
    if world.main:
        report_unknown(train_items, vocab, "training")
        report_unknown(valid_items, vocab, "validation")

    net = CTCModel(recipe.model, len(vocab))
    net.frontend.channels_last = True if cfg.channels_last else None
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
    sampler = BucketBatchSampler([it.length for it in train_items], budget, cfg.max_batch, True, cfg.seed,
                                 world.size, world.rank, cfg.bucketing)
    valid_ds = ItemDataset(valid_items, vocab, lambda k, r: task.load(k, preprocess, None))
    valid_sampler = BucketBatchSampler([it.length for it in valid_items], budget, cfg.max_batch, False,
                                       num_replicas=world.size, rank=world.rank, even=False)
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
        rngs = ckpt.get("rng_ranks") or [ckpt["rng"]]
        set_rng_state(rngs[world.rank] if world.rank < len(rngs) else rngs[0])
        if world.main:
            log.info("resumed from %s at epoch %d, step %d", resume, start_epoch + 1, step)
    model = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None) \
        if world.distributed else net
    stepper = Stepper(model, opt, device, cfg.clip, amp, cfg.cudnn_ctc, world.distributed)

    if world.main:
        (out / "recipe.yaml").write_text(to_yaml(recipe), encoding="utf-8")
    history = History(out, world.main, (step, start_epoch) if ckpt else None)

    data_summary = {"train": [vars(s) for s in recipe.data.train], "valid": [vars(s) for s in recipe.data.valid],
                    "train_samples": len(train_items), "valid_samples": len(valid_items)}

    origin = run_origin(ckpt, out, command, init_from)

    def checkpoint(epoch: int, batch_in_epoch: int) -> None:
        rngs = distributed.gather(world, rng_state())  # every process's dropout RNG, for an exact resume
        if world.main:
            save_checkpoint(out / "last.ckpt", {
                "model": net.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "rng": rngs[0], "rng_ranks": rngs, "epoch": epoch, "batch_in_epoch": batch_in_epoch,
                "step": step, "best": best, "bad_epochs": bad_epochs, "seen": seen, "vocab": vocab.to_dict(),
                "recipe": recipe.to_dict(), "world_size": world.size, "origin": origin})
        distributed.barrier(world)

    def write_model(path: Path, metrics: dict, epoch: int) -> None:
        if not world.main:
            return
        save_model(path, net, vocab, {
            "task": task.name, "name": recipe.name, "preprocess": preprocess, "recipe": recipe.to_dict(),
            "training": {"command": origin["command"], **({"resumed": origin["resumed"]} if origin["resumed"] else {}),
                         "data": data_summary, "epochs": epoch, "steps": step,
                         "samples_seen": seen, "device": str(device), "processes": world.size, "amp": amp,
                         "torch": torch.__version__, "init_from": origin["init_from"]},
            "metrics": {"valid": metrics}, **({"parent": origin["parent"]} if origin["parent"] else {})})

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                        console=Console(file=sys.stderr), transient=False,
                        disable=not (sys.stderr.isatty() and world.main))
    stopped, interrupted = False, 0
    epoch = start_epoch
    with progress, StopSignal() as stop:
        for epoch in range(start_epoch, cfg.epochs):
            sampler.set_epoch(epoch, skip if epoch == start_epoch else 0)
            train_ds.epoch = epoch
            bar = progress.add_task(f"epoch {epoch + 1}/{cfg.epochs}", total=epoch_steps[epoch],
                                    completed=sampler.skip, info="")
            net.train()
            t0, n0, loss_sum, loss_n, win_sum, win_n = time.time(), 0, 0.0, 0, 0.0, 0
            faults = dict.fromkeys(FAULTS, 0)
            kernels: dict[str, int] = {}
            batch_in_epoch = sampler.skip
            for batch in _loader(train_ds, sampler, cfg.workers, device, cfg.seed + epoch, pad_to, cfg.prefetch):
                if batch is None:  # every sample of the batch failed to load
                    batch_in_epoch += 1
                    continue
                st = stepper.step(batch, step)
                for k in faults:
                    faults[k] += getattr(st, k)
                for k, v in st.kernels.items():
                    kernels[k] = kernels.get(k, 0) + v
                if not schedule_done(sched):
                    sched.step()
                step += 1
                batch_in_epoch += 1
                seen += len(batch["lengths"]) * world.size
                n0 += len(batch["lengths"]) * world.size
                if math.isfinite(st.loss):
                    loss_sum, loss_n = loss_sum + st.loss, loss_n + 1
                    win_sum, win_n = win_sum + st.loss, win_n + 1
                rate = n0 / max(time.time() - t0, 1e-9)
                progress.update(bar, advance=1, info=f"loss {loss_sum / max(loss_n, 1):.3f} {rate:.0f} samples/s")
                if step % cfg.log_every == 0 and world.main:
                    log.info("epoch %d step %d loss %.4f lr %.2e %.1f samples/s", epoch + 1, step,
                             win_sum / max(win_n, 1), sched.get_last_lr()[0], rate)
                    history.step({"step": step, "epoch": epoch + 1, "loss": win_sum / max(win_n, 1),
                                  "lr": sched.get_last_lr()[0], "samples_per_s": rate, "seen": seen,
                                  "time": round(time.time(), 4)})
                    win_sum, win_n = 0.0, 0
                if on_step is not None:
                    on_step(step)
                if cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                    checkpoint(epoch, batch_in_epoch)
                if distributed.any_all(world, stop.received is not None, device):
                    interrupted = stop.received or signal.SIGTERM  # another process got it
                if interrupted or (max_steps and step >= max_steps):
                    stopped = True
                    break
            progress.remove_task(bar)
            if stopped:
                checkpoint(epoch, batch_in_epoch)
                if interrupted and world.main:
                    log.warning("stopped at step %d; continue with --resume %s", step, out / "last.ckpt")
                break
            loss_sum, loss_n = distributed.sum_all(world, [loss_sum, loss_n], device)  # the same on every rank
            metrics = evaluate(net, _loader(valid_ds, valid_sampler, 0, device, pad_to=pad_to), valid_items,
                               vocab, device, world) if valid_items else {task.metric: loss_sum / max(loss_n, 1)}
            value = metrics[task.metric]
            improved = value < best
            if improved:
                best, bad_epochs = value, 0
            else:
                bad_epochs += 1
            history.epoch({"epoch": epoch + 1, "step": step, "train_loss": loss_sum / max(loss_n, 1),
                           "valid": metrics, "best": best, "samples_per_s": n0 / max(time.time() - t0, 1e-9),
                           "amp": amp, "ctc_kernels": kernels, **faults})
            problems = {k: v for k, v in faults.items() if v and k != "fp16_overflows"}  # overflows are routine
            if problems and world.main:
                log.warning("epoch %d: %s", epoch + 1, ", ".join(f"{k} {v}" for k, v in problems.items()))
            if world.main:
                log.info("epoch %d: valid %s %.4f (best %.4f)", epoch + 1, task.metric, value, best)
            if improved:
                write_model(out / "model.safetensors", metrics, epoch + 1)
            if cfg.keep_epochs:
                write_model(out / "epochs" / f"epoch-{epoch + 1:02d}.safetensors", metrics, epoch + 1)
            checkpoint(epoch + 1, 0)
            if bad_epochs >= cfg.patience:
                if world.main:
                    log.info("no improvement for %d epochs: stopping early", bad_epochs)
                break
    history.close()
    final = out / "model.safetensors"
    if world.main and not final.exists():  # stopped before the first validation: keep what we have
        write_model(final, {}, epoch)
    distributed.barrier(world)
    return TrainResult(final, best, epoch + 1, step, int(interrupted))
