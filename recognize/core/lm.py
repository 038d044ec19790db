"""N-gram language models: built with KenLM's ``lmplz`` (modified Kneser-Ney), loaded by KenLM.

An LM is a KenLM file (ARPA text or KenLM binary) plus a JSON sidecar with the same stem that says
what its "words" are:

- ``word``: whitespace-separated words of the text (pyctcdecode, or flashlight with a lexicon);
- ``char``: one character per LM word, spaces written ``<sp>`` (flashlight, lexicon-free);
- ``token``: the model's own tokens, e.g. semantic music tokens one per LM word.

``lmplz`` and ``build_binary`` are built from the ``kenlm`` source distribution by ``make setup``
(``data/setup_kenlm.sh``) into the virtual environment's ``bin``.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

UNITS = ("word", "char", "token")
SPACE = "<sp>"  # the space of a character LM (KenLM words cannot hold whitespace)
SPECIAL = ("<s>", "</s>", "<unk>")


class LMError(ValueError):
    """An LM that cannot be built or used (one-line reason)."""


@dataclass
class LMInfo:
    path: Path
    unit: str
    order: int = 0
    unigrams: list[str] = field(default_factory=list)  # word LMs: the known words (pyctcdecode needs them)
    source: dict = field(default_factory=dict)          # corpus, command, counts

    def describe(self) -> dict:
        return {"path": str(self.path), "unit": self.unit, "order": self.order}


def sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def units_of(line: str, unit: str) -> list[str]:
    """The LM words of one line of text."""
    if unit == "char":
        return [SPACE if c.isspace() else c for c in " ".join(line.split())]
    return line.split()


def tool(name: str) -> str:
    """Path of a KenLM program: next to this Python (the venv's bin), then $PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() else shutil.which(name)
    if not found:
        raise LMError(f"KenLM's {name} is not installed (run `make setup`, which builds it from the kenlm sources)")
    return found


def build(corpus: Iterable[str], out: Path, order: int, unit: str, *, memory: str = "25%",
          prune: list[int] | None = None, quantize: int | None = None, source: dict | None = None) -> LMInfo:
    """Estimate a modified Kneser-Ney ``order``-gram LM of ``corpus`` lines with lmplz.

    Writes ARPA when ``out`` ends in ``.arpa``, else KenLM binary (a trie, via a temporary ARPA), plus
    the JSON sidecar. ``quantize`` stores the trie's probabilities and backoffs in that many bits
    (KenLM's ``-q/-b``, with pointer compression): about half the size for 8 bits. Empty lines are
    skipped.
    """
    if unit not in UNITS:
        raise LMError(f"unknown LM unit {unit!r} (choose from {', '.join(UNITS)})")
    if order < 1:
        raise LMError("the order must be at least 1")
    if quantize is not None and not 2 <= quantize <= 25:
        raise LMError("quantisation takes 2 to 25 bits")
    out = Path(out)
    if quantize is not None and out.suffix == ".arpa":
        raise LMError("an ARPA file cannot be quantised (write a binary LM)")
    out.parent.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {}
    lines = 0
    with tempfile.TemporaryDirectory(prefix="recognize-lm-") as tmp:
        text, arpa = Path(tmp) / "corpus.txt", Path(tmp) / "lm.arpa"
        with text.open("w", encoding="utf-8") as f:
            for line in corpus:
                words = units_of(line, unit)
                if words:
                    f.write(" ".join(words) + "\n")
                    lines += 1
                    for w in words:
                        vocab[w] = vocab.get(w, 0) + 1
        if not lines:
            raise LMError("the corpus has no text")
        cmd = [tool("lmplz"), "-o", str(order), "-S", memory, "-T", tmp, "--discount_fallback",
               "--text", str(text), "--arpa", str(arpa)]
        if prune:
            cmd += ["--prune", *map(str, prune)]
        _run(cmd)
        if out.suffix == ".arpa":
            shutil.move(arpa, out)
        else:
            bits = ["-q", str(quantize), "-b", str(quantize), "-a", "22"] if quantize else []
            _run([tool("build_binary"), "-s", *bits, "trie", str(arpa), str(out)])
    info = LMInfo(out, unit, order, sorted(vocab) if unit == "word" else [],
                  {**(source or {}), "lines": lines, "types": len(vocab), "tokens": sum(vocab.values()),
                   "prune": prune or [], **({"quantize": quantize} if quantize else {})})
    sidecar(out).write_text(json.dumps({k: v for k, v in asdict(info).items() if k != "path"}, ensure_ascii=False,
                                       indent=1) + "\n", encoding="utf-8")
    return info


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no message"])[-1]
        raise LMError(f"{Path(cmd[0]).name} failed: {last}")


def read_info(path: str | Path) -> LMInfo:
    """An LM file's description: its sidecar, or for an ARPA file without one, read from the file."""
    path = Path(path)
    if not path.is_file():
        raise LMError(f"{path}: no such LM file")
    meta = sidecar(path)
    if meta.is_file():
        d = json.loads(meta.read_text(encoding="utf-8"))
        return LMInfo(path, d["unit"], int(d.get("order", 0)), list(d.get("unigrams", [])), d.get("source", {}))
    if not _is_arpa(path):
        raise LMError(f"{path}: a binary LM needs its sidecar {meta.name} (written by `recognize lm build`)")
    words = [w for w in arpa_unigrams(path) if w not in SPECIAL]
    unit = "char" if words and all(len(w) == 1 or w == SPACE for w in words) else "word"
    return LMInfo(path, unit, _arpa_order(path), sorted(words) if unit == "word" else [])


def _is_arpa(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(4096)
    return b"\\data\\" in head


def _arpa_order(path: Path) -> int:
    order = 0
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("ngram "):
                order = max(order, int(line.split()[1].split("=")[0]))
            elif line.startswith("\\1-grams"):
                break
    return order


def arpa_unigrams(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as f:
        inside = False
        for line in f:
            line = line.strip()
            if line == "\\1-grams:":
                inside = True
            elif inside:
                if not line or line.startswith("\\"):
                    return
                yield line.split("\t")[1]


def read_corpus(paths: Iterable[str | Path]) -> Iterator[str]:
    """Lines of text files (UTF-8); ``-`` is standard input."""
    for p in paths:
        if str(p) == "-":
            yield from sys.stdin
            continue
        p = Path(p)
        if not p.is_file():
            raise LMError(f"{p}: no such corpus file")
        with p.open(encoding="utf-8") as f:
            try:
                yield from f
            except UnicodeDecodeError as e:
                raise LMError(f"{p}: not UTF-8 text ({e.reason})") from None


