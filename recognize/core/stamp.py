"""Generated corpora in the disk cache carry a stamp of what drew them (generator, renderer, fonts).

A sample is a pure function of ``(seed, index)`` only for one drawing; a cache folder drawn by another
(or made before stamps existed) is emptied and drawn again, so one folder never mixes two drawings
and a changed generator never trains a model on what it no longer makes.
"""
from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("recognize")


def match_stamp(out: Path, want: dict, name: str, drawn: Sequence[str], what: str) -> None:
    """Create ``out`` stamped with ``want`` (in the file ``name``). When it holds a different stamp, an
    unreadable one or none, first delete what the ``drawn`` globs match (samples and index files)."""
    stamp = out / name
    try:
        have = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing (made before stamps) or unreadable: drawn by an unknown version
        have = None
    if have == want:
        return
    stale = sorted({p for pattern in drawn for p in out.glob(pattern)}) if out.is_dir() else []
    if stale:
        log.warning("%s %s: %d entries (samples, index files) were drawn by %s, not %s: drawing them again",
                    what, out, len(stale), have or "an unstamped older version", want)
        for p in stale:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
    out.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(want) + "\n", encoding="utf-8")
