"""Where the benchmarks find the real evaluation data (``../shared/data``), and the one-line stop
when a clone has none: benchmarks may read it, tests never do."""
from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def need(*folders: Path, data_option: bool = True) -> None:
    """Stop with one line naming the first missing folder (instead of a traceback mid-run);
    ``data_option``: the benchmark takes ``--data DIR``."""
    for folder in folders:
        if not Path(folder).is_dir():
            raise SystemExit(f"{folder}: no such folder: this benchmark reads the real data of ../shared/data"
                             + (" (give its place with --data)" if data_option else ""))
