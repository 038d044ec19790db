"""Print an English text corpus, one sentence per line, from offline sources on this machine.

Sources: the fortunes and licence texts the OCR line generator reads (``recognize.ocr.synth.text``)
and the docstrings of the Python standard library (technical English prose, like much printed text).

    .venv/bin/python data/lm/english_corpus.py > data/cache/english.txt
"""
from __future__ import annotations

import ast
import re
import sys
import sysconfig
from pathlib import Path

from recognize.ocr.synth.text import _SENT_SPLIT, _clean, _ok, _prose_like, load_corpus


def docstring_sentences(root: Path):
    for path in sorted(root.rglob("*.py")):
        if "test" in path.parts or "idlelib" in path.parts or "site-packages" in path.parts:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                for block in re.split(r"\n\s*\n", doc or ""):
                    if ">>>" in block or not _prose_like(block.replace("\n", " ")):
                        continue
                    for s in _SENT_SPLIT.split(_clean(block)):
                        if len(s) >= 20 and _ok(s):
                            yield s


def main() -> None:
    seen = set()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for s in [*load_corpus().sentences, *docstring_sentences(stdlib)]:
        if s not in seen:
            seen.add(s)
            sys.stdout.write(s + "\n")


if __name__ == "__main__":
    main()
