"""Batch processing of input files shared by ``ocr`` (and later ``transcribe`` and ``omr``).

Paths may be files or directories (searched recursively). With an output directory, each input
writes ``DIR/<path relative to the directory given>/<stem>.<ext>`` atomically; without one, the
result goes to stdout. A bad input is reported on stderr in one line and the others go on.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Input:
    path: Path
    root: Path  # the directory the user named (or the file's parent)


@dataclass
class Failure:
    path: str
    reason: str


@dataclass
class Outcome:
    done: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


def expand(paths: Iterable[str | Path], accept: Callable[[Path], bool]) -> tuple[list[Input], list[Failure]]:
    """Files as given, directories searched recursively for accepted files (sorted)."""
    inputs, failures = [], []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and accept(f))
            if not found:
                failures.append(Failure(str(p), "directory holds no input files of a supported type"))
            inputs.extend(Input(f, p) for f in found)
        elif p.exists():
            inputs.append(Input(p, p.parent))
        else:
            failures.append(Failure(str(p), "no such file or directory"))
    return inputs, failures


def output_path(inp: Input, out_dir: Path, extension: str) -> Path:
    """``DIR/<path relative to the directory given>/<stem><extension>`` (extension with its dot)."""
    rel = inp.path.relative_to(inp.root) if inp.path.is_relative_to(inp.root) else Path(inp.path.name)
    return out_dir / rel.parent / f"{rel.stem}{extension}"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def report(failure: Failure) -> None:
    print(f"recognize: error: {failure.path}: {failure.reason}", file=sys.stderr, flush=True)
