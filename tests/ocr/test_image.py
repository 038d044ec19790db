import numpy as np
import pytest
from PIL import Image

from recognize.core.image import ink_bands
from recognize.ocr.image import ImageInputError, check_size, normalize, read_gray

from helpers import render_line, stack_lines


@pytest.fixture
def line():
    return render_line("Hello, world", 24)


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "I;16", "I", "CMYK"])
def test_every_common_mode_reads_as_dark_ink_on_light_paper(tmp_path, line, mode):
    if mode == "I;16":
        im = Image.fromarray((np.asarray(line, dtype=np.uint16) * 257).astype(np.uint16))
    elif mode == "1":
        im = line.convert("1", dither=Image.Dither.NONE)
    elif mode == "I":
        im = line.convert("I")
    else:
        im = line.convert(mode)
    suffix = ".tif" if mode in ("CMYK", "I") else ".png"
    path = tmp_path / f"x{suffix}"
    im.save(path)
    g = read_gray(path)
    assert g.shape == (line.height, line.width)
    ref = np.asarray(im.convert("L")) if mode == "1" else np.asarray(line)
    assert np.mean(np.abs(g.astype(int) - ref.astype(int)) < 40) > 0.97


def test_transparent_png_is_composited_on_white(tmp_path, line):
    rgba = Image.new("RGBA", line.size, (0, 0, 0, 0))
    rgba.putalpha(Image.eval(line, lambda v: 255 - v))  # black ink, transparent paper
    rgba.save(tmp_path / "t.png")
    g = read_gray(tmp_path / "t.png")
    assert g.max() == 255 and g.min() < 50


@pytest.mark.parametrize("suffix", [".jpg", ".bmp", ".webp", ".tiff", ".gif"])
def test_other_formats(tmp_path, line, suffix):
    line.save(tmp_path / f"x{suffix}")
    assert read_gray(tmp_path / f"x{suffix}").shape == (line.height, line.width)


def test_normalize_scales_to_height_and_maps_ink_to_one(line):
    a = normalize(np.asarray(line), 32)
    assert a.shape[0] == 32 and abs(a.shape[1] - round(line.width * 32 / line.height)) <= 1
    assert a.dtype == np.float32 and a.max() == pytest.approx(1.0) and np.median(a) < 0.1


def test_light_on_dark_is_inverted(line):
    a = normalize(255 - np.asarray(line), 32)
    b = normalize(np.asarray(line), 32)
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("content,reason", [(b"", "empty file"), (b"hello, I am text\n", "not an image"),
                                            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "cannot decode")])
def test_bad_files_give_a_reason(tmp_path, content, reason):
    p = tmp_path / "bad.png"
    p.write_bytes(content)
    with pytest.raises(ImageInputError, match=reason):
        read_gray(p)


def test_size_limits():
    with pytest.raises(ImageInputError, match="too small"):
        check_size(np.zeros((1, 1), np.uint8), 32)
    with pytest.raises(ImageInputError, match="too long"):
        check_size(np.zeros((32, 20000), np.uint8), 32)
    check_size(np.zeros((40, 2000), np.uint8), 32)


def test_a_page_of_lines_is_refused_with_where_its_lines_are(line):
    text = stack_lines([render_line(t, 24) for t in ("Hello, world", "second line", "and a third")])
    assert len(ink_bands(text)) == 3
    with pytest.raises(ImageInputError, match=r"^3 text lines one above the other \(ink in rows \d+-\d+, "):
        check_size(text, 32)
    with pytest.raises(ImageInputError, match="3 text lines"):  # printed light on dark
        check_size(255 - text, 32)
    check_size(np.asarray(line), 32)


def test_a_line_with_an_underline_specks_and_a_faint_stroke_is_one_line(line):
    a = np.asarray(line).copy()
    h, w = a.shape
    a = np.vstack([np.full((6, w), 255, np.uint8), a, np.full((10, w), 255, np.uint8)])
    a[-5:-3, 4:-4] = 0                 # a rule under the line, a blank gap away
    a[1:3, w // 2:w // 2 + 3] = 0      # a speck above it
    assert len(ink_bands(a)) == 1
    faint = np.asarray(line).copy()
    faint[h // 2 - 1:h // 2 + 1] = np.maximum(faint[h // 2 - 1:h // 2 + 1], 200)  # strokes fade mid-height
    assert len(ink_bands(faint)) == 1
    assert ink_bands(np.full((40, 200), 255, np.uint8)) == []  # blank: nothing to count


def test_an_image_too_large_for_pillow_is_refused_with_its_size(tmp_path, monkeypatch):
    p = tmp_path / "huge.png"
    Image.new("L", (100, 50), 255).save(p)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow refuses images over twice this
    with pytest.raises(ImageInputError, match=r"too large to decode: Image size \(5000 pixels\)"):
        read_gray(p)


def test_a_multipage_tiff_reads_its_first_page_and_says_so(tmp_path, line, caplog):
    import logging
    p = tmp_path / "pages.tif"
    line.save(p, save_all=True, append_images=[Image.new("L", line.size, 0)])
    with caplog.at_level(logging.WARNING, logger="recognize"):
        gray = read_gray(p)
    assert np.array_equal(gray, np.asarray(line)) and "2 pages (frames); only the first is read" in caplog.text
