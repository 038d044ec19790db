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


def write_atomic(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def report(failure: Failure) -> None:
    print(f"recognize: error: {failure.path}: {failure.reason}", file=sys.stderr, flush=True)


@dataclass
class Job:
    """What a recognition command plugs into :func:`process`.

    ``prepare(path)`` reads one input (raising ``input_error`` with a one-line reason when it
    cannot), ``recognize(prepared_list)`` returns one result per prepared input (or the ``input_error``
    for an input that turned out unusable only then), and
    ``render(result, fmt)`` (text, or bytes for a binary format) / ``extension(fmt)`` are the
    task's writers.
    """

    name: str
    prepare: Callable[[Path], object]
    recognize: Callable[[list], list]
    render: Callable[[object, str], str | bytes]
    extension: Callable[[str], str]
    input_error: type[Exception] | tuple[type[Exception], ...]
    chunk: int = 256  # inputs read, recognised and written per round (bounds memory)
    line_formats: tuple[str, ...] = ("txt",)  # one-line formats: prefixed by the path on stdout for many inputs


def process(job: Job, inputs: list[Input], formats: list[str], out_dir: Path | None,
            failures: list[Failure] = ()) -> Outcome:
    """Run ``job`` over ``inputs``: bad inputs are reported and skipped, outputs written atomically."""
    outcome = Outcome(failures=list(failures))
    for f in failures:
        report(f)
    many = len(inputs) > 1

    def fail(path, reason: str) -> None:
        outcome.failures.append(Failure(str(path), reason))
        report(outcome.failures[-1])

    with _progress(out_dir is not None and sys.stderr.isatty()) as progress:
        bar = progress.add_task(job.name, total=len(inputs))
        for start in range(0, len(inputs), job.chunk):
            ready = []
            for inp in inputs[start:start + job.chunk]:
                try:
                    ready.append((inp, job.prepare(inp.path)))
                except job.input_error as e:
                    fail(inp.path, str(e))
                    progress.advance(bar)
            results = job.recognize([p for _, p in ready]) if ready else []
            for (inp, _), res in zip(ready, results):
                if isinstance(res, job.input_error):  # found unreadable while recognised (streamed input)
                    fail(inp.path, str(res))
                    progress.advance(bar)
                    continue
                try:
                    rendered = {f: job.render(res, f) for f in formats}
                    if out_dir is None:
                        text = rendered[formats[0]]
                        if isinstance(text, bytes):
                            sys.stdout.flush()
                            sys.stdout.buffer.write(text)
                            sys.stdout.buffer.flush()
                        else:
                            print(f"{inp.path}\t{text}" if many and formats[0] in job.line_formats else text,
                                  end="", flush=True)
                    else:
                        for f, text in rendered.items():
                            write_atomic(output_path(inp, out_dir, job.extension(f)), text)
                    outcome.done += 1
                except OSError as e:
                    fail(inp.path, f"cannot write output: {e}")
                progress.advance(bar)
    if outcome.failures:
        print(f"recognize: {outcome.done} done, {len(outcome.failures)} failed", file=sys.stderr)
    return outcome


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.speed:.1f} items/s"), TimeRemainingColumn(),
                    console=Console(file=sys.stderr), disable=not enabled)
