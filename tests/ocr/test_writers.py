"""OCR output writers: every format, ALTO against the bundled ALTO 4.4 XSD, hOCR against the spec's rules."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from lxml import etree

from recognize.ocr import writers
from recognize.ocr.result import Glyph, LineResult
from recognize.ocr.writers import FORMATS, WRITERS, Writer, extension, render

SCHEMAS = Path(writers.__file__).parent / "schemas"
XHTML = "{http://www.w3.org/1999/xhtml}"
ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
SPECIAL = '<a & "b"> é “quoted”'


def line(text: str, width: int = 400, height: int = 32, source: str = "scans/line-01.png",
         confs: list[float] | None = None) -> LineResult:
    """A result with one 10-pixel glyph per character, starting at column 7."""
    confs = confs or [0.5 + 0.05 * (i % 10) for i in range(len(text))]
    glyphs = [Glyph(c, 7 + 10 * i, 17 + 10 * i, confs[i]) for i, c in enumerate(text)]
    conf = round(sum(confs[: len(text)]) / len(text), 4) if text else 1.0
    return LineResult(source, width, height, text, conf, glyphs,
                      {"name": "ocr-test", "sha256": "ab" * 32, "task": "ocr"},
                      {"name": "greedy", "beam": None})


WORDS = line("The quick brown fox")
EMPTY = line("", width=120, height=24, source="blank.png")
SPECIAL_LINE = line(SPECIAL, source='dir/<x> & "y" é.png')
CASES = {"words": WORDS, "empty": EMPTY, "special": SPECIAL_LINE}


@pytest.fixture(scope="module")
def alto_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "alto-4-4.xsd")))


def xml(text: str) -> etree._Element:
    return etree.fromstring(text.encode("utf-8"))


# ---------------------------------------------------------------- registry


def test_registry() -> None:
    assert FORMATS == ("txt", "json", "tsv", "hocr", "alto", "png")
    assert set(WRITERS) == set(FORMATS)
    assert {f: extension(f) for f in FORMATS} == {
        "txt": ".txt", "json": ".json", "tsv": ".tsv", "hocr": ".hocr", "alto": ".alto.xml", "png": ".png"}
    assert [f for f in FORMATS if WRITERS[f].binary] == ["png"]  # drawn from the input file: tests/test_reports.py
    for name, w in WRITERS.items():
        assert isinstance(w, Writer) and w.name == name
        if not w.binary:
            assert render(WORDS, name) == w.render(WORDS)
        with pytest.raises(dataclasses.FrozenInstanceError):
            w.name = "x"  # type: ignore[misc]


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown OCR output format 'pdf'.*txt, json, tsv, hocr, alto"):
        render(WORDS, "pdf")
    with pytest.raises(ValueError):
        extension("HOCR")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fmt", [f for f in FORMATS if not WRITERS[f].binary])
def test_every_format_renders_text(fmt: str, case: str) -> None:
    out = render(CASES[case], fmt)
    assert isinstance(out, str) and out.endswith("\n")
    if fmt in ("hocr", "alto"):
        xml(out)  # well-formed


# ---------------------------------------------------------------- txt, json, tsv


@pytest.mark.parametrize("case", CASES)
def test_txt(case: str) -> None:
    r = CASES[case]
    assert render(r, "txt") == r.text + "\n"


@pytest.mark.parametrize("case", CASES)
def test_json_round_trip(case: str) -> None:
    r = CASES[case]
    out = render(r, "json")
    assert out.startswith('{\n  "format": "recognize-ocr/1",\n')
    data = json.loads(out)
    assert data.pop("format") == "recognize-ocr/1"
    assert data == r.to_dict()
    back = LineResult(**{**data, "glyphs": [Glyph(**g) for g in data["glyphs"]]})
    assert back == r


def test_json_keeps_non_ascii_and_positions() -> None:
    out = render(SPECIAL_LINE, "json")
    assert "“quoted”" in out and "é" in out and "\\u" not in out
    data = json.loads(out)
    assert data["text"] == SPECIAL and data["source"] == 'dir/<x> & "y" é.png'
    assert [(g["text"], g["x0"], g["x1"]) for g in data["glyphs"]][:2] == [("<", 7, 17), ("a", 17, 27)]
    assert data["model"]["name"] == "ocr-test" and data["decoder"] == {"name": "greedy", "beam": None}


def tsv_unescape(field: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[m.group(1)], field)


@pytest.mark.parametrize("case", CASES)
def test_tsv(case: str) -> None:
    r = CASES[case]
    lines = render(r, "tsv").split("\n")
    assert lines[0] == "char\tx0\tx1\tconfidence" and lines[-1] == ""
    rows = [ln.split("\t") for ln in lines[1:-1]]
    assert len(rows) == len(r.glyphs)
    for row, g in zip(rows, r.glyphs, strict=True):
        assert row == [g.text, str(g.x0), str(g.x1), row[3]]
        assert float(row[3]) == pytest.approx(g.confidence, abs=1e-4)


def test_tsv_escapes_tabs_newlines_and_backslashes() -> None:
    glyphs = [Glyph(t, 10 * i, 10 * i + 10, 0.25) for i, t in enumerate(["a", "\t", "\n", "\\", "\r", "\\t", "b"])]
    r = LineResult("x.png", 100, 20, "a\t\n\\\r\\tb", 0.25, glyphs)
    out = render(r, "tsv")
    lines = out.split("\n")
    assert len(lines) == 1 + len(glyphs) + 1  # header, one line per glyph, final newline
    rows = [ln.split("\t") for ln in lines[1:-1]]
    assert all(len(row) == 4 for row in rows)
    assert [row[0] for row in rows] == ["a", "\\t", "\\n", "\\\\", "\\r", "\\\\t", "b"]
    assert [tsv_unescape(row[0]) for row in rows] == [g.text for g in glyphs]
    assert rows[1][1:] == ["10", "20", "0.25"]


# ---------------------------------------------------------------- hOCR

HOCR_PROP = re.compile(r'\s*;\s*(?=(?:[^"\\]|\\.|"(?:[^"\\]|\\.)*")*$)')


def props(el: etree._Element) -> dict[str, str]:
    """hOCR title properties (``;`` inside double-quoted strings does not split)."""
    out = {}
    for part in HOCR_PROP.split(el.get("title", "").strip()):
        if part:
            key, _, value = part.partition(" ")
            assert key not in out, f"duplicate property {key}"
            out[key] = value.strip()
    return out


def bbox(el: etree._Element) -> tuple[int, int, int, int]:
    value = props(el)["bbox"]
    assert re.fullmatch(r"\d+ \d+ \d+ \d+", value), value
    x0, y0, x1, y1 = map(int, value.split())
    assert x0 <= x1 and y0 <= y1, value
    return x0, y0, x1, y1


def inside(inner: tuple[int, ...], outer: tuple[int, ...]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def check_hocr(out: str, r: LineResult) -> list[etree._Element]:
    """Checks the hOCR rules that matter here; returns the ocrx_word elements."""
    root = xml(out)
    assert root.tag == XHTML + "html"
    assert "<!DOCTYPE html" in out.split("<html", 1)[0]
    meta = {m.get("name"): m.get("content") for m in root.iter(XHTML + "meta") if m.get("name")}
    assert meta["ocr-system"].startswith("recognize")
    capabilities = set(meta["ocr-capabilities"].split())
    elements = [e for e in root.iter() if isinstance(e.tag, str) and e.get("class")]
    classes = {e.get("class") for e in elements}
    assert classes <= capabilities, f"classes not declared in ocr-capabilities: {classes - capabilities}"
    assert {"ocr_page", "ocr_carea", "ocr_par", "ocr_line"} <= classes
    ids = [e.get("id") for e in elements]
    assert len(ids) == len(set(ids)) and None not in ids

    (page,) = [e for e in elements if e.get("class") == "ocr_page"]
    page_box = bbox(page)
    assert page_box == (0, 0, r.width, r.height)
    image = props(page)["image"]
    assert re.fullmatch(r'"(?:[^"\\]|\\.)*"', image), image  # a delimited string, inner quotes escaped
    assert re.sub(r"\\(.)", r"\1", image[1:-1]) == r.source

    for e in elements:
        assert inside(bbox(e), page_box), e.get("id")
    # the nesting page > carea > par > line > word, each with its box inside its parent's
    nesting = {"ocr_carea": "ocr_page", "ocr_par": "ocr_carea", "ocr_line": "ocr_par", "ocrx_word": "ocr_line"}
    for e in elements:
        parent_class = nesting.get(e.get("class"))
        if parent_class:
            parent = e.getparent()
            assert parent.get("class") == parent_class, (e.get("id"), parent.get("class"))
            assert inside(bbox(e), bbox(parent))
    lines = [e for e in elements if e.get("class") == "ocr_line"]
    assert len(lines) == 1 and bbox(lines[0]) == (0, 0, r.width, r.height)

    words = [e for e in elements if e.get("class") == "ocrx_word"]
    if words:
        assert "ocrp_wconf" in capabilities
    for w in words:
        p = props(w)
        assert w.text and len(w) == 0
        wconf = float(p["x_wconf"])
        assert 0 <= wconf <= 100
        boxes = list(map(int, p["x_bboxes"].split()))
        confs = list(map(float, p["x_confs"].split()))
        assert len(boxes) == 4 * len(w.text) and len(confs) == len(w.text)
        for i in range(len(w.text)):
            assert inside(tuple(boxes[4 * i: 4 * i + 4]), bbox(w))
        assert all(0 <= c <= 100 for c in confs)
    return words


@pytest.mark.parametrize("case", CASES)
def test_hocr_follows_spec(case: str) -> None:
    check_hocr(render(CASES[case], "hocr"), CASES[case])


def test_hocr_words_boxes_and_confidences() -> None:
    r = WORDS
    words = check_hocr(render(r, "hocr"), r)
    assert [w.text for w in words] == ["The", "quick", "brown", "fox"]
    line_el = words[0].getparent()
    assert "".join(line_el.itertext()).strip() == r.text
    start = 0
    for w, text in zip(words, ["The", "quick", "brown", "fox"], strict=True):
        glyphs = r.glyphs[start: start + len(text)]
        start += len(text) + 1
        p = props(w)
        assert bbox(w) == (glyphs[0].x0, 0, glyphs[-1].x1, r.height)
        mean = sum(g.confidence for g in glyphs) / len(glyphs)
        assert int(p["x_wconf"]) == round(100 * mean)
        assert p["x_bboxes"].split()[:4] == [str(glyphs[0].x0), "0", str(glyphs[0].x1), str(r.height)]
        assert [float(c) for c in p["x_confs"].split()] == pytest.approx([100 * g.confidence for g in glyphs])


def test_hocr_empty_line_has_no_words() -> None:
    words = check_hocr(render(EMPTY, "hocr"), EMPTY)
    assert words == []


def test_hocr_escapes_special_characters() -> None:
    out = render(SPECIAL_LINE, "hocr")
    words = check_hocr(out, SPECIAL_LINE)
    assert [w.text for w in words] == ['<a', "&", '"b">', "é", "“quoted”"]
    assert "&lt;a" in out and "&amp;" in out and "“quoted”" in out  # raw UTF-8, escaped markup
    assert xml(out).find(f"{XHTML}head/{XHTML}title").text == SPECIAL_LINE.source


# ---------------------------------------------------------------- ALTO


def alto_strings(root: etree._Element) -> list[etree._Element]:
    return list(root.iter(ALTO + "String"))


@pytest.mark.parametrize("case", CASES)
def test_alto_validates_against_xsd(case: str, alto_schema: etree.XMLSchema) -> None:
    doc = xml(render(CASES[case], "alto"))
    assert alto_schema.validate(doc), alto_schema.error_log


def test_alto_schema_is_strict(alto_schema: etree.XMLSchema) -> None:
    """The bundled XSD really checks: a String without CONTENT or a WC above 1 is rejected."""
    doc = xml(render(WORDS, "alto"))
    alto_strings(doc)[0].attrib.pop("CONTENT")
    assert not alto_schema.validate(doc)
    doc = xml(render(WORDS, "alto"))
    alto_strings(doc)[0].set("WC", "1.5")
    assert not alto_schema.validate(doc)


def test_alto_content(alto_schema: etree.XMLSchema) -> None:
    r = WORDS
    root = xml(render(r, "alto"))
    assert root.tag == ALTO + "alto" and root.get("SCHEMAVERSION") == "4.4"
    assert root.findtext(f"{ALTO}Description/{ALTO}MeasurementUnit") == "pixel"
    assert root.findtext(f"{ALTO}Description/{ALTO}sourceImageInformation/{ALTO}fileName") == r.source
    assert root.findtext(f".//{ALTO}OCRProcessing//{ALTO}softwareName") == "recognize"
    settings = json.loads(root.findtext(f".//{ALTO}OCRProcessing//{ALTO}processingStepSettings"))
    assert settings == {"model": r.model, "decoder": r.decoder}
    page = root.find(f"{ALTO}Layout/{ALTO}Page")
    assert (page.get("WIDTH"), page.get("HEIGHT")) == (str(r.width), str(r.height))
    for tag in ("PrintSpace", "TextBlock", "TextLine"):
        (el,) = root.iter(ALTO + tag)
        assert [el.get(a) for a in ("HPOS", "VPOS", "WIDTH", "HEIGHT")] == ["0", "0", str(r.width), str(r.height)]

    (text_line,) = root.iter(ALTO + "TextLine")
    children = [c.tag.removeprefix(ALTO) for c in text_line]
    assert children == ["String", "SP", "String", "SP", "String", "SP", "String"]
    strings = alto_strings(root)
    assert [s.get("CONTENT") for s in strings] == ["The", "quick", "brown", "fox"]
    start = 0
    for s in strings:
        n = len(s.get("CONTENT"))
        glyphs = r.glyphs[start: start + n]
        start += n + 1
        assert float(s.get("HPOS")) == glyphs[0].x0 and float(s.get("VPOS")) == 0
        assert float(s.get("WIDTH")) == glyphs[-1].x1 - glyphs[0].x0 and float(s.get("HEIGHT")) == r.height
        assert float(s.get("WC")) == pytest.approx(sum(g.confidence for g in glyphs) / n, abs=1e-4)
        glyph_els = s.findall(ALTO + "Glyph")
        assert [g.get("CONTENT") for g in glyph_els] == [g.text for g in glyphs]
        assert [(float(e.get("HPOS")), float(e.get("WIDTH"))) for e in glyph_els] == [
            (g.x0, g.x1 - g.x0) for g in glyphs]
        assert [float(e.get("GC")) for e in glyph_els] == pytest.approx([g.confidence for g in glyphs], abs=1e-4)
    for sp in text_line.iter(ALTO + "SP"):
        before, after = sp.getprevious(), sp.getnext()
        assert float(sp.get("HPOS")) == float(before.get("HPOS")) + float(before.get("WIDTH"))
        assert float(sp.get("HPOS")) + float(sp.get("WIDTH")) == float(after.get("HPOS"))


def test_alto_empty_line(alto_schema: etree.XMLSchema) -> None:
    root = xml(render(EMPTY, "alto"))
    assert alto_schema.validate(root), alto_schema.error_log
    assert alto_strings(root) == [] and list(root.iter(ALTO + "TextLine")) == []
    assert len(list(root.iter(ALTO + "TextBlock"))) == 1


def test_alto_escapes_special_characters(alto_schema: etree.XMLSchema) -> None:
    out = render(SPECIAL_LINE, "alto")
    root = xml(out)
    assert alto_schema.validate(root), alto_schema.error_log
    assert [s.get("CONTENT") for s in alto_strings(root)] == ['<a', "&", '"b">', "é", "“quoted”"]
    assert root.findtext(f".//{ALTO}fileName") == 'dir/<x> & "y" é.png'
    assert 'CONTENT="&lt;a"' in out and 'CONTENT="&amp;"' in out and "“quoted”" in out


# ---------------------------------------------------------------- awkward input


def test_multi_character_tokens_and_out_of_range_values(alto_schema: etree.XMLSchema) -> None:
    """Multi-character glyphs give each character the glyph's box; boxes and confidences are
    clamped to the image and 0..1, and characters XML cannot hold are replaced."""
    glyphs = [Glyph("ch", -3, 20, 1.2), Glyph("a", 20, 30, -0.1), Glyph(" ", 30, 40, 0.9),
              Glyph("x\x01", 40, 999, float("nan"))]
    r = LineResult("odd\x00name.png", 100, 20, "cha x\x01", 0.5, glyphs)
    alto = xml(render(r, "alto"))
    assert alto_schema.validate(alto), alto_schema.error_log
    first, second = alto_strings(alto)
    assert first.get("CONTENT") == "cha"
    assert [(g.get("CONTENT"), g.get("HPOS"), g.get("WIDTH")) for g in first] == [
        ("c", "0", "20"), ("h", "0", "20"), ("a", "20", "10")]
    assert second.get("CONTENT") == "x\ufffd" and second.get("WIDTH") == "60"
    assert float(first.get("WC")) == pytest.approx(0.5)

    words = check_hocr(render(r, "hocr"), dataclasses.replace(r, source="odd\ufffdname.png"))
    assert [w.text for w in words] == ["cha", "x\ufffd"]
    assert props(words[0])["x_bboxes"] == "0 0 20 20 0 0 20 20 20 0 30 20"
    assert props(words[0])["x_confs"] == "100 100 0"
    assert props(words[1])["bbox"] == "40 0 100 20"
