"""Synthetic line generator: determinism, charset, fonts, rendering, resizing, disk cache."""
from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from recognize.ocr.synth import text as text_mod
from recognize.ocr.synth.degrade import degrade
from recognize.ocr.synth.fonts import EXCLUDE, discover_fonts
from recognize.ocr.synth.generate import synth_image, synth_line, write_dataset
from recognize.ocr.synth.render import load_font, render_line
from recognize.ocr.synth.text import ASCII, CHARSET, TextSource

SEED = 11


def _font(name: str = "DejaVuSans.ttf"):
    fonts = discover_fonts()
    return next((f for f in fonts if f.path.endswith("/" + name)), fonts[0])


def test_charset_is_ascii_plus_extras():
    assert len(set(CHARSET)) == len(CHARSET)
    assert set(ASCII) <= set(CHARSET) and len(ASCII) == 95
    assert {"“", "”", "‘", "’", "–", "—", "…", "£", "€", "é"} <= set(CHARSET)


def test_text_deterministic_in_charset_and_bounded():
    a = _take(TextSource(3), 300)
    assert a == _take(TextSource(3), 300)
    assert a != _take(TextSource(4), 300)
    for line in a:
        assert 1 <= len(line) <= text_mod.MAX_LEN and line == line.strip()
        assert set(line) <= set(CHARSET), line
    lengths = [len(line) for line in _take(TextSource(5), 400)]
    assert 20 < float(np.median(lengths)) < 70


def _take(source: TextSource, n: int):
    it = iter(source)
    return [next(it) for _ in range(n)]


def test_missing_source_fails_clearly(monkeypatch, tmp_path):
    monkeypatch.setattr(text_mod, "WORDS_PATH", tmp_path / "nowords")
    text_mod.load_corpus.cache_clear()
    try:
        with pytest.raises(text_mod.SourceMissingError, match="wamerican"):
            text_mod.load_corpus()
    finally:
        text_mod.load_corpus.cache_clear()


def test_fonts_discovered_cover_ascii():
    fonts = discover_fonts()
    assert len(fonts) > 50
    assert len({f.family for f in fonts}) > 20
    for f in fonts:
        assert set(ASCII) <= f.coverage <= set(CHARSET), f.path
        assert not EXCLUDE.search(f"{f.family} {f.style}"), f.path
        assert f.path.endswith((".ttf", ".otf"))


def _ink_rows(img: Image.Image) -> tuple[int, int]:
    rows = np.flatnonzero((np.asarray(img) < 128).any(1))
    return int(rows[0]), int(rows[-1])


def test_render_has_ink_margins_and_no_clipping():
    font = _font()
    text = "Hello, (gjpqy) ÉÀ fjord |"
    pil = load_font(font.path, 40)
    x0, y0, x1, y1 = pil.getbbox(text, anchor="ls")
    tops = []
    for s in range(20):
        img = render_line(text, font, random.Random(s), size=40)
        assert img.mode == "L"
        a = np.asarray(img)
        assert a.min() < 60 and a.max() == 255
        top, bottom = _ink_rows(img)
        assert bottom - top + 1 >= (y1 - y0) - 2  # ascenders and descenders all there
        tops.append(top)
        assert img.height < 3 * 40
    assert max(tops) > 0  # some lines have a margin above the ink


def test_degrade_keeps_size_scale_and_mode():
    img = render_line("Degraded scan line 0123", _font(), random.Random(1), size=36)
    for s in range(12):
        out = degrade(img, np.random.default_rng(s), strength=s / 11)
        assert out.mode == "L"
        assert abs(out.height - img.height) <= img.height // 2
        a = np.asarray(out)
        assert np.median(a) > 150 and a.min() < np.median(a) - 60  # dark ink on light paper


def test_synth_line_deterministic_and_in_charset():
    for i in range(12):
        a1, t1 = synth_line(i, SEED, 48)
        a2, t2 = synth_line(i, SEED, 48)
        assert t1 == t2 and np.array_equal(a1, a2)
        assert a1.dtype == np.uint8 and a1.ndim == 2 and a1.shape[0] == 48
        assert set(t1) <= set(CHARSET)
        assert a1.min() < np.median(a1)
    texts = {synth_line(i, SEED, 32)[1] for i in range(10)}
    assert len(texts) > 5
    assert synth_line(0, SEED + 1, 32)[1] != synth_line(0, SEED, 32)[1] or not np.array_equal(
        synth_line(0, SEED + 1, 32)[0], synth_line(0, SEED, 32)[0])


def test_height_resize_keeps_aspect():
    for i in range(5):
        img, text = synth_image(i, SEED)
        for h in (32, 48, 64):
            a, t = synth_line(i, SEED, h)
            assert t == text and a.shape[0] == h
            assert abs(a.shape[1] - img.width * h / img.height) <= 1
        native, _ = synth_line(i, SEED, None)
        assert native.shape == (img.height, img.width)


def test_write_dataset_pairs_and_resume(tmp_path):
    out = tmp_path / "synth"
    assert write_dataset(out, 5, SEED, height=32, workers=1) == 5
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 5 and len(list(out.glob("*.gt.txt"))) == 5
    arr, text = synth_line(3, SEED, 32)
    assert (out / "00000003.gt.txt").read_text(encoding="utf-8") == text + "\n"
    assert np.array_equal(np.asarray(Image.open(out / "00000003.png")), arr)

    mtime = (out / "00000001.png").stat().st_mtime_ns
    (out / "00000002.png").unlink()
    assert write_dataset(out, 5, SEED, height=32, workers=1) == 1
    assert (out / "00000001.png").stat().st_mtime_ns == mtime
    assert np.array_equal(np.asarray(Image.open(out / "00000002.png")), synth_line(2, SEED, 32)[0])

    assert write_dataset(out, 10, SEED, height=32, workers=2) == 5  # parallel, only the new ones
    assert len(list(out.glob("*.png"))) == 10 and not list(out.glob("*.tmp"))
    assert (out / "00000009.gt.txt").read_text(encoding="utf-8") == synth_line(9, SEED, 32)[1] + "\n"


def test_the_cache_draws_again_what_another_drawing_drew(tmp_path, caplog):
    """Cached lines drawn by another version of the generator (or unstamped) are never mixed with new ones."""
    import json
    import logging

    from recognize.core.config import DataSource
    from recognize.ocr.synth.generate import STAMP, drawing_stamp
    from recognize.ocr.task import synth_dir, synth_items
    source = DataSource(kind="synth", count=2, seed=5)
    items = synth_items(source, 32, tmp_path)
    out = synth_dir(source, 32, tmp_path)
    assert json.loads((out / STAMP).read_text()) == drawing_stamp() and len(items) == 2
    fresh = {p.name: p.read_bytes() for p in out.iterdir()}
    png = out / "00000000.png"
    png.write_bytes(b"drawn by an older generator")
    assert synth_items(source, 32, tmp_path) == items and png.read_bytes() == b"drawn by an older generator"
    (out / STAMP).write_text(json.dumps({**drawing_stamp(), "drawing": -1}))
    with caplog.at_level(logging.WARNING, logger="recognize"):
        assert synth_items(source, 32, tmp_path) == items
    assert "5 entries (samples, index files) were drawn by" in caplog.text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == fresh
