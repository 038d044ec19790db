"""Write a synthetic PrIMuS-like corpus to disk, in parallel, resumably and deterministically.

Layout (as PrIMuS / Camera-PrIMuS)::

    out/<id>/<id>.png              1-bit, PrIMuS palette (paper white, ink 57)
    out/<id>/<id>_distorted.jpg    with ``distorted=True``
    out/<id>/<id>.semantic         tokens, tab-separated with a trailing tab
    out/<id>/<id>.agnostic
    out/<id>/<id>.mei              Verovio's MEI, the source of both label files
    out/<id>/<id>.pae
    out/index-<count>.tsv          id, width, height, semantic (space-separated); written last
    out/rendering.json             the rendering (``render.RENDERING``) and Verovio version that drew them

Sample ``i`` depends only on ``(seed, i)``: its rng is ``random.Random(seed * 1_000_003 + i)``; when the incipit
cannot be rendered on one system or labelled in the PrIMuS vocabulary it is drawn again from a derived rng.
Each sample folder appears atomically (written to a temporary folder, then renamed), so an interrupted run
resumes where it stopped and a finished one returns at once. Samples drawn by another rendering or Verovio
version (or before stamps existed) are deleted and drawn again, so a cache never mixes two drawings.

CLI: ``python -m recognize.omr.synth.generate OUT --count N --seed S --workers W [--distorted]``
"""

from __future__ import annotations

import argparse
import io
import logging
import multiprocessing as mp
import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
from PIL import Image

from ...core.stamp import match_stamp
from .distort import camera_distort
from .mei import LabelError, mei_to_agnostic, mei_to_semantic
from .pae import PRIMUS_LIKE, Emphasis, random_incipit
from .render import RENDERING, RenderError, render

log = logging.getLogger("recognize")

SEED_STRIDE = 1_000_003
MAX_ATTEMPTS = 50
PRIMUS_INK = 57  # gray of the ink in PrIMuS's palette PNGs
PROGRESS_EVERY = 500
STAMP = "rendering.json"


@dataclass
class Sample:
    id: str
    pae: str
    mei: str
    semantic: list[str]
    agnostic: list[str]
    image: np.ndarray  # uint8, 0 = ink, 255 = paper
    distorted: bytes | None = None  # JPEG


@dataclass(frozen=True)
class _Config:
    out: Path
    seed: int
    distorted: bool
    vocabulary: frozenset[str] | None
    emphasis: Emphasis = PRIMUS_LIKE


def sample_id(seed: int, index: int) -> str:
    return f"synth-{seed}-{index:07d}"


def sample_rng(seed: int, index: int, attempt: int = 0) -> random.Random:
    """The rng of sample ``index``; retries get their own rng derived from (seed, index, attempt)."""
    if attempt == 0:
        return random.Random(seed * SEED_STRIDE + index)
    return random.Random(f"{seed}/{index}/{attempt}")


def make_sample(seed: int, index: int, distorted: bool = False, vocabulary: frozenset[str] | None = None,
                emphasis: Emphasis = PRIMUS_LIKE) -> Sample:
    """Draw, render and label sample ``index``; incipits Verovio or the labeller reject are drawn again."""
    problems = []
    for attempt in range(MAX_ATTEMPTS):
        rng = sample_rng(seed, index, attempt)
        pae = random_incipit(rng, emphasis)
        try:
            image, mei = render(pae)
            semantic, agnostic = mei_to_semantic(mei), mei_to_agnostic(mei)
        except (RenderError, LabelError) as e:
            problems.append(str(e))
            continue
        if vocabulary is not None and not vocabulary.issuperset(semantic):
            problems.append("token outside the vocabulary")
            continue
        jpeg = _jpeg_bytes(camera_distort(image, rng)) if distorted else None
        return Sample(sample_id(seed, index), pae, mei, semantic, agnostic, image, jpeg)
    raise RuntimeError(f"sample {index}: no valid incipit in {MAX_ATTEMPTS} draws: {problems[-3:]}")


def _jpeg_bytes(gray: np.ndarray) -> bytes:
    """Lossless-enough container for the distorted image (already JPEG-degraded by camera_distort)."""
    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def primus_png(image: np.ndarray) -> Image.Image:
    """A 1-bit palette image like PrIMuS's PNGs: index 0 = white paper, 1 = gray ink."""
    png = Image.fromarray((image < 128).astype(np.uint8)).convert("P")
    png.putpalette([255, 255, 255, PRIMUS_INK, PRIMUS_INK, PRIMUS_INK])
    return png


def _tokens_text(tokens: list[str]) -> str:
    return "".join(f"{t}\t" for t in tokens)


def write_sample(out: Path, sample: Sample) -> None:
    """Write one sample folder atomically: a temporary folder renamed into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{sample.id}-", dir=out))
    try:
        stem = tmp / sample.id
        primus_png(sample.image).save(f"{stem}.png", optimize=True, bits=1)
        if sample.distorted is not None:
            Path(f"{stem}_distorted.jpg").write_bytes(sample.distorted)
        Path(f"{stem}.semantic").write_text(_tokens_text(sample.semantic), encoding="utf-8")
        Path(f"{stem}.agnostic").write_text(_tokens_text(sample.agnostic), encoding="utf-8")
        Path(f"{stem}.mei").write_text(sample.mei, encoding="utf-8")
        Path(f"{stem}.pae").write_text(sample.pae + "\n", encoding="utf-8")
        tmp.chmod(0o755)
        os.rename(tmp, out / sample.id)
    except OSError:
        if not (out / sample.id).is_dir():
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _done(folder: Path, sid: str, distorted: bool) -> bool:
    return folder.is_dir() and (not distorted or (folder / f"{sid}_distorted.jpg").is_file())


def _index_row(folder: Path, sid: str) -> tuple[str, int, int, str]:
    """(id, width, height, semantic) of a finished sample, read back from disk."""
    with Image.open(folder / f"{sid}.png") as im:
        width, height = im.size
    semantic = (folder / f"{sid}.semantic").read_text(encoding="utf-8").split()
    return sid, width, height, " ".join(semantic)


_config: _Config | None = None


def _init_worker(config: _Config) -> None:
    global _config
    _config = config


def _job(index: int) -> tuple[tuple[str, int, int, str], bool]:
    """Make sample ``index`` unless it is on disk; return its index row and whether it was made now."""
    assert _config is not None
    sid = sample_id(_config.seed, index)
    folder = _config.out / sid
    made = False
    if not _done(folder, sid, _config.distorted):
        if folder.is_dir():  # made earlier without the distorted image
            shutil.rmtree(folder)
        write_sample(_config.out, make_sample(_config.seed, index, _config.distorted, _config.vocabulary,
                                                 _config.emphasis))
        made = True
    return _index_row(folder, sid), made


def _run(config: _Config, count: int, workers: int) -> Iterable[tuple[tuple[str, int, int, str], bool]]:
    if workers <= 1 or count < 2:
        _init_worker(config)
        yield from map(_job, range(count))
        return
    chunk = max(1, min(32, count // (8 * workers)))
    # spawn: the caller may be a training process with threads (torch) that fork would copy in a bad state
    with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(config,)) as pool:
        yield from pool.imap(_job, range(count), chunksize=chunk)


def write_dataset(out: Path, count: int, seed: int, workers: int = 2, distorted: bool = False,
                  vocabulary: frozenset[str] | None = None, emphasis: Emphasis = PRIMUS_LIKE) -> Path:  # fmt: skip
    """Generate samples ``0 .. count-1`` of ``seed`` under ``out`` and return the index file.

    Samples already on disk are kept, so an interrupted call resumes; when the index already exists the
    call returns at once. With ``vocabulary`` (e.g. the published PrIMuS semantic tokens), incipits with
    any other semantic token are drawn again. ``emphasis`` makes rare symbols more frequent (another
    mix: give it its own ``out``).
    """
    out = Path(out)
    _match_rendering(out)
    index = out / f"index-{count}.tsv"
    if index.is_file():
        return index
    config = _Config(out, seed, distorted, vocabulary, emphasis)
    rows: list[tuple[str, int, int, str]] = []
    made = 0
    start = time.perf_counter()
    for row, new in _run(config, count, workers):
        rows.append(row)
        made += new
        if len(rows) % PROGRESS_EVERY == 0 or len(rows) == count:
            rate = made / max(time.perf_counter() - start, 1e-9)
            log.info("omr synth %s: %d/%d incipits (%d new, %.1f/s)", out, len(rows), count, made, rate)
    _write_index(index, rows)
    for stale in out.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return index


def rendering_stamp() -> dict:
    """What a sample's pixels depend on besides ``(seed, index)``: this package's drawing and Verovio."""
    return {"rendering": RENDERING, "verovio": version("verovio")}


def _match_rendering(out: Path) -> None:
    """Samples drawn by another rendering or Verovio (or unstamped, from before stamps) are deleted with
    the index files, so that they are drawn again."""
    match_stamp(out, rendering_stamp(), STAMP, ("synth-*", "index-*.tsv"), "omr synth")


def _write_index(index: Path, rows: list[tuple[str, int, int, str]]) -> None:
    tmp = index.with_name(f".{index.name}.{os.getpid()}.tmp")
    tmp.write_text("".join(f"{sid}\t{w}\t{h}\t{sem}\n" for sid, w, h, sem in rows), encoding="utf-8")
    os.replace(tmp, index)


def read_vocabulary(path: Path) -> frozenset[str]:
    return frozenset(path.read_text(encoding="utf-8").split())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate a synthetic PrIMuS-like corpus (PAE -> Verovio).")
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--count", type=int, required=True, help="number of incipits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--distorted", action="store_true", help="also write Camera-PrIMuS-like <id>_distorted.jpg")
    parser.add_argument("--vocabulary", type=Path, help="redraw incipits with semantic tokens not in this file")
    parser.add_argument("--multirest", type=float, default=Emphasis.multirest,
                        help="share of incipits that open with a multirest")
    parser.add_argument("--chromatic", type=float, default=Emphasis.chromatic,
                        help="factor on the chance of notes outside the key")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    vocabulary = read_vocabulary(args.vocabulary) if args.vocabulary else None
    index = write_dataset(args.out, args.count, args.seed, args.workers, args.distorted, vocabulary,
                          Emphasis(args.multirest, args.chromatic))
    print(index)


if __name__ == "__main__":
    main()
