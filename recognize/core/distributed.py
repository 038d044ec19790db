"""Multi-process training with ``torchrun``: process group, rank-aware helpers, reductions.

``torchrun --nproc_per_node N -m recognize train RECIPE`` starts N processes; each reads RANK,
WORLD_SIZE and LOCAL_RANK from the environment. On GPUs each process drives cuda:LOCAL_RANK over
NCCL; on CPU the processes talk over gloo. A single process (no torchrun) is world size 1 and every
helper here is then a no-op.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Only the main process writes files (checkpoints, model, history) and logs progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def setup(device: torch.device) -> tuple[World, torch.device]:
    """Join the process group torchrun describes (if any) and pick this process's device."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World(), device
    world = World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=world.rank, world_size=size,
                                timeout=datetime.timedelta(minutes=30))
    return world, device


def teardown(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def sum_all(world: World, values: list[float], device: torch.device) -> list[float]:
    """Element-wise sum of ``values`` over all processes."""
    if not world.distributed:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def any_all(world: World, flag: bool, device: torch.device) -> bool:
    """True on every process when it is true on any (e.g. a stop signal received by one)."""
    return sum_all(world, [float(flag)], device)[0] > 0 if world.distributed else flag


def gather(world: World, obj) -> list:
    """``obj`` of every process, in rank order, on every process."""
    if not world.distributed:
        return [obj]
    out: list = [None] * world.size
    dist.all_gather_object(out, obj)
    return out


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()
