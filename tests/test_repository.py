"""Sizes the project depends on: every shipped file is small enough to commit, and the tracked tree
leaves room for the GPU kit in a device call (64 MiB carried at most, benchmarks/gpu/pack.py)."""
import shutil
import subprocess

import pytest

from conftest import ROOT

TREE_LIMIT = 56_000_000  # + the 12 MB kit stays under 64 MiB


def test_every_shipped_file_is_at_most_20_mb():
    sizes = {p.name: p.stat().st_size for p in (ROOT / "exports").iterdir() if p.is_file()}
    assert sizes and max(sizes.values()) <= 20_000_000, sizes


@pytest.mark.skipif(not (ROOT / ".git").exists() or not shutil.which("git"), reason="not a git checkout")
def test_the_tracked_tree_leaves_room_for_the_gpu_kit():
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    total = sum((ROOT / n).stat().st_size for n in names.decode().split("\0") if n and (ROOT / n).is_file())
    assert total <= TREE_LIMIT, f"tracked files: {total / 1e6:.1f} MB"
