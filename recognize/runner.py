"""Batch processing of input files shared by ``ocr``, ``transcribe`` and ``omr``.

Paths may be files or directories (searched recursively), or ``-`` for standard input (spooled to
a temporary file, named ``-`` in outputs and messages, ``stdin.<ext>`` under an output directory).
With an output directory, each input writes ``DIR/<path relative to the directory given>/<stem>.<ext>``
atomically; without one, the result goes to stdout. A bad input is reported on stderr in one line
and the others go on.

Inputs go in chunks: with worker processes, the workers read and prepare (decode, resample,
featurise, scale) the next chunk while the main process runs the network on this one.
"""
from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

STDIN = "-"


@dataclass
class Input:
    path: Path
    root: Path  # the directory the user named (or the file's parent)
    keep_suffix: bool = False  # output named <name>.<suffix>.<ext>: another input has the same stem there
    label: str | None = None  # what the user named, when it is not ``path`` (``-``: standard input)

    @property
    def name(self) -> str:
        """The input as the user named it, for messages and the results' ``source``."""
        return self.label or str(self.path)


@dataclass
class Failure:
    path: str
    reason: str


@dataclass
class Outcome:
    done: int = 0
    failures: list[Failure] = field(default_factory=list)
    closed: bool = False  # stdout was closed by its reader (``| head``): stopped quietly

    @property
    def exit_code(self) -> int:
        return 141 if self.closed else 1 if self.failures else 0  # 141 = 128 + SIGPIPE, as a shell reports it


def expand(paths: Iterable[str | Path], accept: Callable[[Path], bool],
           out_dir: Path | None = None) -> tuple[list[Input], list[Failure]]:
    """Files as given, directories searched recursively for accepted files (sorted). Files under
    ``out_dir`` are not searched for: a run writing into the tree it reads (``scans/ -o scans/out``,
    png overlays) would otherwise read its own outputs the next time."""
    inputs, failures = [], []
    skip = out_dir.resolve() if out_dir is not None else None
    for raw in paths:
        p = Path(raw)
        if str(raw) == STDIN:
            got = _spool_stdin(any(i.label == STDIN for i in inputs))
            (inputs if isinstance(got, Input) else failures).append(got)
        elif p.is_dir():
            inside = skip is not None and skip.is_relative_to(p.resolve())  # else no file can be under it
            found = sorted(f for f in p.rglob("*") if f.is_file() and accept(f)
                           and not (inside and f.resolve().is_relative_to(skip)))
            if not found:
                failures.append(Failure(str(p), "directory holds no input files of a supported type"))
            inputs.extend(Input(f, p) for f in found)
        elif p.exists():
            inputs.append(Input(p, p.parent))
        else:
            failures.append(Failure(str(p), "no such file or directory"))
    return inputs, failures


_SPOOLS: list[tempfile.TemporaryDirectory] = []  # removed when the process exits


def _spool_stdin(again: bool) -> Input | Failure:
    """Standard input copied to a temporary file (readers need to seek, workers need a path)."""
    if again:
        return Failure(STDIN, "standard input can be read only once")
    if sys.stdin is None or sys.stdin.isatty():
        return Failure(STDIN, "standard input is a terminal: pipe a file into it (... | recognize ... -)")
    _SPOOLS.append(tempfile.TemporaryDirectory(prefix="recognize-stdin-"))
    path = Path(_SPOOLS[-1].name) / "stdin"
    with path.open("wb") as f:
        shutil.copyfileobj(sys.stdin.buffer, f)
    return Input(path, path.parent, label=STDIN)


def _relative(inp: Input) -> Path:
    return inp.path.relative_to(inp.root) if inp.path.is_relative_to(inp.root) else Path(inp.path.name)


def output_path(inp: Input, out_dir: Path, extension: str) -> Path:
    """``DIR/<path relative to the directory given>/<stem><extension>`` (extension with its dot); the
    whole file name instead of the stem for inputs that share a stem (see :func:`plan_outputs`)."""
    rel = _relative(inp)
    return out_dir / rel.parent / f"{rel.name if inp.keep_suffix else rel.stem}{extension}"


def plan_outputs(inputs: list[Input]) -> tuple[list[Input], list[Failure]]:
    """Keep every input's outputs apart: inputs that share a stem (``a.png``, ``a.jpg``) keep their
    suffix in their output names (``a.png.txt``, ``a.jpg.txt``), with a warning; an input whose
    relative path is another file's (``scans1/a.png`` and ``scans2/a.png`` with one ``--out``) fails
    instead of overwriting its outputs. Returns the inputs to run and those failures."""
    first: dict[Path, Input] = {}
    kept: list[tuple[Input, Path]] = []
    clashes = []
    for inp in inputs:
        rel = _relative(inp)
        other = first.setdefault(rel, inp)
        if other is not inp and other.path.resolve() != inp.path.resolve():
            clashes.append(Failure(inp.name, f"its outputs would overwrite those of {other.name} (both "
                                                  f"{rel} in their folders): give each folder its own --out"))
        else:
            kept.append((inp, rel))
    stems: dict[Path, dict[Path, Input]] = {}
    for inp, rel in kept:
        stems.setdefault(rel.parent / rel.stem, {}).setdefault(rel, inp)
    for inp, rel in kept:
        inp.keep_suffix = len(stems[rel.parent / rel.stem]) > 1
    for same in stems.values():
        if len(same) > 1:
            print(f"recognize: warning: {', '.join(i.name for i in same.values())}: the same name but the "
                  "suffix; their outputs are named <name>.<suffix>.<ext>", file=sys.stderr)
    return [inp for inp, _ in kept], clashes


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
    cannot; a module-level function or ``functools.partial`` of one, so worker processes can run
    it), ``recognize(prepared_list)`` returns one result per prepared input (or the ``input_error``
    for an input that turned out unusable only then; a result has a ``source``, which the runner
    sets to the input as the user named it), and
    ``render(result, fmt)`` (text, or bytes for a binary format) / ``extension(fmt)`` are the
    task's writers; ``warnings(result)`` gives doubts to print on stderr (the result is still written).
    """

    name: str
    prepare: Callable[[Path], object]
    recognize: Callable[[list], list]
    render: Callable[[object, str], str | bytes]
    extension: Callable[[str], str]
    input_error: type[Exception] | tuple[type[Exception], ...]
    line_formats: tuple[str, ...]  # one-line formats: prefixed by the path on stdout for many inputs
    chunk: int = 256  # inputs read, recognised and written per round (bounds memory)
    warnings: Callable[[object], list[str]] | None = None  # one-line doubts about a result, on stderr


AUTO_WORKERS_FROM = 64  # inputs from which ``workers=None`` starts a worker process


def auto_workers(inputs: int) -> int:
    """Workers beside the network for a large batch: one per four cores, at most two. On two cores
    the network's threads already fill the machine (measured: 2,792 lines, -j 1 no faster than -j 0)."""
    return min(2, (os.cpu_count() or 1) // 4) if inputs >= AUTO_WORKERS_FROM else 0


def _prepare_one(prepare: Callable, input_error, path: Path):
    """``prepare(path)``, or the input error it raised (a worker returns it to be reported)."""
    try:
        return prepare(path)
    except input_error as e:
        return e


def _prepare_many(prepare: Callable, input_error, paths: list[Path]) -> list:
    return [_prepare_one(prepare, input_error, p) for p in paths]


def _single_threaded() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # before a worker imports numpy/torch lazily


def _prepared(job: Job, chunks: list[list[Input]], workers: int) -> Iterator[list]:
    """Each chunk's prepared inputs (or their errors), the next chunk prepared ahead by the workers."""
    if workers <= 0:
        for chunk in chunks:
            yield _prepare_many(job.prepare, job.input_error, [inp.path for inp in chunk])
        return
    # spawn, not fork: the parent's OpenMP/torch thread pools do not survive a fork
    with concurrent.futures.ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"),
                                                initializer=_single_threaded) as pool:
        def submit(chunk):  # a task per 32 inputs: a future per input costs more than preparing a line
            return [pool.submit(_prepare_many, job.prepare, job.input_error, [inp.path for inp in chunk[i:i + 32]])
                    for i in range(0, len(chunk), 32)]
        pending = submit(chunks[0]) if chunks else []
        for k in range(len(chunks)):
            ready = [p for f in pending for p in f.result()]
            pending = submit(chunks[k + 1]) if k + 1 < len(chunks) else []
            yield ready


def process(job: Job, inputs: list[Input], formats: list[str], out_dir: Path | None,
            failures: list[Failure] = (), workers: int | None = None) -> Outcome:
    """Run ``job`` over ``inputs``: bad inputs are reported and skipped, outputs written atomically.
    ``workers``: processes preparing inputs ahead of the network (None: :func:`auto_workers`)."""
    outcome = Outcome(failures=list(failures))
    for f in failures:
        report(f)
    if out_dir is not None:
        inputs, clashes = plan_outputs(inputs)
        outcome.failures += clashes
        for f in clashes:
            report(f)
    many = len(inputs) > 1

    def fail(path, reason: str) -> None:
        outcome.failures.append(Failure(str(path), reason))
        report(outcome.failures[-1])

    writer = concurrent.futures.ThreadPoolExecutor(1) if out_dir is not None else None
    writes: list[tuple[Input, concurrent.futures.Future]] = []  # the previous chunk's, written meanwhile

    def settle() -> None:
        for inp, done in writes:
            try:
                done.result()
                outcome.done += 1
            except OSError as e:
                fail(inp.name, f"cannot write output: {e}")
            progress.advance(bar)
        writes.clear()

    with _progress(out_dir is not None and sys.stderr.isatty()) as progress:
        bar = progress.add_task(job.name, total=len(inputs))
        chunks = [inputs[k:k + job.chunk] for k in range(0, len(inputs), job.chunk)]
        workers = auto_workers(len(inputs)) if workers is None else workers
        for chunk, prepared in zip(chunks, _prepared(job, chunks, workers)):
            ready = []
            for inp, p in zip(chunk, prepared):
                if isinstance(p, job.input_error):
                    fail(inp.name, str(p))
                    progress.advance(bar)
                else:
                    ready.append((inp, p))
            results = job.recognize([p for _, p in ready]) if ready else []
            settle()  # the previous chunk's files were written while this one was read and recognised
            for (inp, _), res in zip(ready, results):
                if isinstance(res, job.input_error):  # found unreadable while recognised (streamed input)
                    fail(inp.name, str(res))
                    progress.advance(bar)
                    continue
                res.source = inp.name
                for w in job.warnings(res) if job.warnings else []:
                    print(f"recognize: warning: {inp.name}: {w}", file=sys.stderr)
                try:
                    rendered = {f: job.render(res, f) for f in formats}
                    if writer is not None:  # file I/O in a thread: it releases the GIL (a third of a run here)
                        files = [(output_path(inp, out_dir, job.extension(f)), text) for f, text in rendered.items()]
                        writes.append((inp, writer.submit(_write_files, files)))
                        continue
                    if out_dir is None:
                        text = rendered[formats[0]]
                        if isinstance(text, bytes):
                            sys.stdout.flush()
                            sys.stdout.buffer.write(text)
                            sys.stdout.buffer.flush()
                        else:
                            print(f"{inp.name}\t{text}" if many and formats[0] in job.line_formats else text,
                                  end="", flush=True)
                    outcome.done += 1
                except BrokenPipeError:
                    # the reader of stdout is gone: stop, and keep Python from complaining at exit
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                    outcome.closed = True
                    return outcome
                except OSError as e:
                    fail(inp.name, f"cannot write output: {e}")
                progress.advance(bar)
        settle()
    if writer is not None:
        writer.shutdown()
    if outcome.failures:
        print(f"recognize: {outcome.done} done, {len(outcome.failures)} failed", file=sys.stderr)
    return outcome


def _write_files(files: list[tuple[Path, str | bytes]]) -> None:
    for path, content in files:
        write_atomic(path, content)


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.speed:.1f} items/s"), TimeRemainingColumn(),
                    console=Console(file=sys.stderr), disable=not enabled)
