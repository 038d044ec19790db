"""Discovery of the system's text fonts (installed by apt) usable for synthetic OCR lines.

A font is kept when Pillow can load it, it maps every printable ASCII character to a non-empty
glyph, and its name does not mark it as a symbol, math, dingbat, small-caps or decorative face.
For every kept font the subset of :data:`~recognize.ocr.synth.text.CHARSET` it really draws is
recorded, so that a line is only rendered with a font that has all of its characters. The result
is cached in memory and as JSON under ``~/.cache/recognize`` (keyed by the font files' paths,
sizes and modification times and by the charset).
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .text import ASCII, CHARSET

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/share/texmf/fonts"))
FONT_SUFFIXES = (".ttf", ".otf")
CACHE_VERSION = 3
# Faces that are not running text: symbols, math, dingbats, keyboard keys, small caps, scripts.
EXCLUDE = re.compile(
    r"symbol|math|dingbat|d050000l|ornament|emoji|\bicons?\b|keyboard|chancery|chorus|z003|caps"
    r"|initials|braille|music|fraktur|blackletter|script|cursive|handwrit|display",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FontInfo:
    """One usable font file."""

    path: str
    family: str
    style: str
    coverage: frozenset[str]  # characters of CHARSET the font draws (space included)
    weight: int = 400         # OS/2 usWeightClass
    italic: bool = False
    monospace: bool = False

    def covers(self, text: str) -> bool:
        return set(text) <= self.coverage


class NoFontsError(RuntimeError):
    """No usable font was found on this system."""


def _font_files(dirs: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for d in dirs:
        if d.is_dir():
            files += [p for p in d.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file()]
    return sorted(set(files))


def _cache_dir() -> Path:
    root = os.environ.get("RECOGNIZE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "recognize")
    return Path(root)


def _cache_key(files: Sequence[Path]) -> str:
    h = hashlib.sha1(f"{CACHE_VERSION}\0{CHARSET}".encode())
    for p in files:
        st = p.stat()
        h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def inspect_font(path: Path) -> FontInfo | None:
    """Return the font's :class:`FontInfo`, or ``None`` if it is unusable for text lines."""
    from fontTools.ttLib import TTFont
    from PIL import ImageFont

    try:
        tt = TTFont(str(path), lazy=True, fontNumber=0)
        cmap = tt.getBestCmap() or {}
        names = tt["name"]
        family = names.getBestFamilyName() or path.stem
        style = names.getBestSubFamilyName() or "Regular"
        full = names.getDebugName(4) or ""
        os2 = tt["OS/2"] if "OS/2" in tt else None
        post = tt["post"] if "post" in tt else None
        weight = int(os2.usWeightClass) if os2 is not None else 400
        italic = bool(os2 is not None and os2.fsSelection & 1) or bool(post and post.italicAngle)
        mono = bool(post and post.isFixedPitch)
        tt.close()
    except Exception:  # noqa: BLE001 - any unreadable font is simply skipped
        return None
    if EXCLUDE.search(f"{path.name} {family} {style} {full}"):
        return None
    try:
        pil = ImageFont.truetype(str(path), 32)
    except OSError:
        return None
    covered = []
    for ch in CHARSET:
        gid = cmap.get(ord(ch))
        if gid is None or gid == ".notdef":
            continue
        if ch != " ":
            x0, y0, x1, y1 = pil.getbbox(ch)
            if x1 <= x0 or y1 <= y0:
                continue
        covered.append(ch)
    widths = [pil.getlength(c) for c in "ilMW.0"]
    mono = mono or max(widths) - min(widths) < 0.5
    coverage = frozenset(covered)
    if not set(ASCII) <= coverage:
        return None
    return FontInfo(str(path), family, style, coverage, weight, italic, mono)


def _scan(files: Sequence[Path]) -> list[FontInfo]:
    fonts = [f for f in map(inspect_font, files) if f is not None]
    return sorted(fonts, key=lambda f: f.path)


def _to_json(fonts: Sequence[FontInfo]) -> list[dict]:
    return [{"path": f.path, "family": f.family, "style": f.style,
             "coverage": "".join(sorted(f.coverage)), "weight": f.weight, "italic": f.italic,
             "monospace": f.monospace} for f in fonts]


def _from_json(rows: list[dict]) -> list[FontInfo]:
    return [FontInfo(r["path"], r["family"], r["style"], frozenset(r["coverage"]), r["weight"],
                     r["italic"], r["monospace"]) for r in rows]


@lru_cache(maxsize=4)
def discover_fonts(dirs: tuple[Path, ...] = FONT_DIRS, use_cache: bool = True) -> list[FontInfo]:
    """All usable fonts under ``dirs``, sorted by path (cached in memory and on disk)."""
    files = _font_files(dirs)
    if not files:
        raise NoFontsError(f"no .ttf/.otf fonts under {', '.join(map(str, dirs))}: install the "
                           "font packages listed in the Makefile (make setup)")
    cache = _cache_dir() / f"fonts-{_cache_key(files)}.json"
    if use_cache and cache.exists():
        try:
            return _from_json(json.loads(cache.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError):
            pass  # corrupt cache: rescan
    fonts = _scan(files)
    if not fonts:
        raise NoFontsError(f"none of the {len(files)} font files covers printable ASCII")
    if use_cache:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(_to_json(fonts), fh, ensure_ascii=False)
            os.chmod(tmp, 0o644)
            os.replace(tmp, cache)
            for old in cache.parent.glob("fonts-*.json"):
                if old != cache:
                    old.unlink(missing_ok=True)
        except OSError:
            pass  # read-only home: the in-memory cache still works
    return fonts


MONO_FAMILY_WEIGHT = 0.35


def style_weight(font: FontInfo) -> float:
    """Relative frequency of a face in print: mostly regular, some italic/bold, few extremes."""
    w = 1.0
    if font.italic:
        w *= 0.35
    if font.weight >= 600:
        w *= 0.3
    if font.weight <= 300 or font.weight >= 800:
        w *= 0.3
    return w


class FontPicker:
    """Chooses a font that covers a line: a family (typewriter families less often), then a face
    by :func:`style_weight`."""

    def __init__(self, fonts: Sequence[FontInfo]) -> None:
        if not fonts:
            raise NoFontsError("FontPicker needs at least one font")
        self.fonts = list(fonts)
        self._ascii = frozenset(ASCII)

    def candidates(self, text: str) -> list[FontInfo]:
        chars = set(text)
        if chars <= self._ascii:
            return self.fonts
        return [f for f in self.fonts if chars <= f.coverage]

    def pick(self, text: str, rng: random.Random, prefer_mono: bool = False) -> FontInfo | None:
        """A font for ``text`` (``None`` if no font draws all of its characters)."""
        cands = self.candidates(text)
        if prefer_mono:
            cands = [f for f in cands if f.monospace] or cands
        if not cands:
            return None
        mono_fams = {f.family for f in cands if f.monospace}
        families = sorted((fam, fam in mono_fams) for fam in {f.family for f in cands})
        # ~20 of the ~65 families are typewriter faces; books are mostly set proportionally
        weights = [1.0 if prefer_mono or not mono else MONO_FAMILY_WEIGHT for _, mono in families]
        fam = rng.choices(families, weights)[0][0]
        faces = [f for f in cands if f.family == fam]
        return rng.choices(faces, [style_weight(f) for f in faces])[0]
