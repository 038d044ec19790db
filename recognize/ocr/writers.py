"""OCR output writers: render a :class:`LineResult` as txt, json, tsv, hOCR or ALTO 4.4.

Every input image is one text line, so the page, block, paragraph and line boxes all cover the
whole image; a word spans from its first glyph's ``x0`` to its last glyph's ``x1`` and the full
image height. XML is built with lxml, which does all escaping.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from .. import __version__
from .result import LineResult

SOFTWARE = "recognize"
JSON_FORMAT = "recognize-ocr/1"
TSV_HEADER = ("char", "x0", "x1", "confidence")

XHTML_NS = "http://www.w3.org/1999/xhtml"
XHTML_DOCTYPE = ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
                 '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">')
HOCR_CAPABILITIES = ("ocr_page", "ocr_carea", "ocr_par", "ocr_line", "ocrx_word", "ocrp_wconf")

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_XSD_URL = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# Characters XML 1.0 cannot carry at all; they are replaced by U+FFFD.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
LINE_FORMATS = ("txt",)  # one line per input: several inputs on stdout are prefixed with their paths


@dataclass(frozen=True)
class Writer:
    """One output format: its name, file extension (with the dot) and renderer."""

    name: str
    extension: str
    render: Callable[[LineResult], str | bytes]
    binary: bool = False


@dataclass(frozen=True)
class _Word:
    """A word in pixel columns, with one ``(char, x0, x1, confidence)`` per character."""

    text: str
    x0: int
    x1: int
    confidence: float
    chars: tuple[tuple[str, int, int, float], ...]


def _conf(c: float) -> float:
    """Confidence clamped to 0..1 (NaN counts as 0)."""
    c = float(c)
    return 0.0 if math.isnan(c) else min(1.0, max(0.0, c))


def _num(x: float, digits: int = 4) -> str:
    """A short decimal: at most ``digits`` decimals, no trailing zeros."""
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") or "0"


def _xml(s: str) -> str:
    return _XML_INVALID.sub("\ufffd", s)


def _words(r: LineResult) -> list[_Word]:
    """Words with glyph spans clamped to the image; a multi-character glyph gives each of its
    characters the glyph's span."""
    words = []
    for glyphs in r.words():
        spans = []
        for g in glyphs:
            x0 = min(max(int(g.x0), 0), r.width)
            spans.append((x0, min(max(int(g.x1), x0), r.width)))
        chars = tuple((_xml(c), x0, x1, _conf(g.confidence))
                      for g, (x0, x1) in zip(glyphs, spans, strict=True) for c in g.text)
        if chars:
            words.append(_Word("".join(c[0] for c in chars), min(s[0] for s in spans),
                               max(s[1] for s in spans),
                               sum(_conf(g.confidence) for g in glyphs) / len(glyphs), chars))
    return words


def _render_txt(r: LineResult) -> str:
    return r.text + "\n"


def _render_json(r: LineResult) -> str:
    return json.dumps({"format": JSON_FORMAT, **r.to_dict()}, ensure_ascii=False, indent=2) + "\n"


def _tsv_field(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _render_tsv(r: LineResult) -> str:
    rows = ["\t".join(TSV_HEADER)]
    rows += [f"{_tsv_field(g.text)}\t{g.x0}\t{g.x1}\t{_num(g.confidence)}" for g in r.glyphs]
    return "\n".join(rows) + "\n"


def _hocr_string(s: str) -> str:
    """A double-quoted hOCR property string (backslash escapes ``\\`` and ``"``)."""
    return '"' + _xml(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render_hocr(r: LineResult) -> str:
    def el(parent: etree._Element, tag: str, attrib: dict[str, str] | None = None,
           **more: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{XHTML_NS}}}{tag}", {**(attrib or {}), **more})

    full = f"bbox 0 0 {r.width} {r.height}"
    html = etree.Element(f"{{{XHTML_NS}}}html", nsmap={None: XHTML_NS})
    head = el(html, "head")
    el(head, "title").text = _xml(r.source)
    el(head, "meta", {"http-equiv": "Content-Type", "content": "text/html; charset=utf-8"})
    el(head, "meta", name="ocr-system", content=f"{SOFTWARE} {__version__}")
    el(head, "meta", name="ocr-capabilities", content=" ".join(HOCR_CAPABILITIES))
    el(head, "meta", name="ocr-number-of-pages", content="1")
    page = el(el(html, "body"), "div", {"class": "ocr_page", "id": "page_1",
                                        "title": f"image {_hocr_string(r.source)}; {full}; ppageno 0"})
    area = el(page, "div", {"class": "ocr_carea", "id": "block_1_1", "title": full})
    par = el(area, "p", {"class": "ocr_par", "id": "par_1_1", "title": full})
    line = el(par, "span", {"class": "ocr_line", "id": "line_1_1", "title": full})
    words = _words(r)
    for i, w in enumerate(words, 1):
        boxes = " ".join(f"{x0} 0 {x1} {r.height}" for _, x0, x1, _ in w.chars)
        confs = " ".join(_num(100 * c, 2) for *_, c in w.chars)
        title = (f"bbox {w.x0} 0 {w.x1} {r.height}; x_wconf {round(100 * w.confidence)}; "
                 f"x_bboxes {boxes}; x_confs {confs}")
        span = el(line, "span", {"class": "ocrx_word", "id": f"word_1_{i}", "title": title})
        span.text = w.text
        if i < len(words):
            span.tail = " "
    return _serialize(html, XHTML_DOCTYPE)


def _render_alto(r: LineResult) -> str:
    def el(parent: etree._Element, tag: str, text: str | None = None, **attrib: object) -> etree._Element:
        e = etree.SubElement(parent, f"{{{ALTO_NS}}}{tag}", {k: str(v) for k, v in attrib.items()})
        e.text = text
        return e

    h = r.height
    alto = etree.Element(f"{{{ALTO_NS}}}alto", nsmap={None: ALTO_NS, "xsi": XSI_NS})
    alto.set(f"{{{XSI_NS}}}schemaLocation", f"{ALTO_NS} {ALTO_XSD_URL}")
    alto.set("SCHEMAVERSION", "4.4")
    desc = el(alto, "Description")
    el(desc, "MeasurementUnit", "pixel")
    el(el(desc, "sourceImageInformation"), "fileName", _xml(r.source))
    step = el(el(desc, "OCRProcessing", ID="OCR_0"), "ocrProcessingStep")
    settings = {"model": r.model, "decoder": r.decoder}
    el(step, "processingStepSettings", _xml(json.dumps(settings, ensure_ascii=False, default=str)))
    software = el(step, "processingSoftware")
    el(software, "softwareName", SOFTWARE)
    el(software, "softwareVersion", __version__)

    words = _words(r)
    page_conf = {"PC": _num(_conf(r.confidence))} if words else {}
    page = el(el(alto, "Layout"), "Page", ID="page_1", PHYSICAL_IMG_NR=1, WIDTH=r.width, HEIGHT=h,
              **page_conf)
    space = el(page, "PrintSpace", HPOS=0, VPOS=0, WIDTH=r.width, HEIGHT=h)
    block = el(space, "TextBlock", ID="block_1", HPOS=0, VPOS=0, WIDTH=r.width, HEIGHT=h)
    if not words:  # a TextLine needs at least one String
        return _serialize(alto)
    line = el(block, "TextLine", ID="line_1", HPOS=0, VPOS=0, WIDTH=r.width, HEIGHT=h)
    for i, w in enumerate(words, 1):
        if i > 1:
            prev = words[i - 2].x1
            el(line, "SP", HPOS=prev, VPOS=0, WIDTH=max(w.x0 - prev, 0), HEIGHT=h)
        s = el(line, "String", ID=f"string_{i}", CONTENT=w.text, HPOS=w.x0, VPOS=0,
               WIDTH=w.x1 - w.x0, HEIGHT=h, WC=_num(w.confidence))
        for c, x0, x1, conf in w.chars:
            el(s, "Glyph", CONTENT=c, HPOS=x0, VPOS=0, WIDTH=x1 - x0, HEIGHT=h, GC=_num(conf))
    return _serialize(alto)


def _serialize(root: etree._Element, doctype: str | None = None) -> str:
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True,
                          doctype=doctype).decode("utf-8")


def _render_png(r: LineResult) -> bytes:
    """The line image with each character's box, coloured by confidence, and the text under it."""
    from ..core.overlay import Span, image_png
    spans = [Span(g.x0, g.x1, g.text, g.confidence) for g in r.glyphs if not g.text.isspace()]
    return image_png(r.source, spans, f"{r.text}   (confidence {r.confidence:.2f})")


WRITERS: dict[str, Writer] = {w.name: w for w in (
    Writer("txt", ".txt", _render_txt),
    Writer("json", ".json", _render_json),
    Writer("tsv", ".tsv", _render_tsv),
    Writer("hocr", ".hocr", _render_hocr),
    Writer("alto", ".alto.xml", _render_alto),
    Writer("png", ".png", _render_png, binary=True),
)}
FORMATS: tuple[str, ...] = tuple(WRITERS)


def _writer(fmt: str) -> Writer:
    try:
        return WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown OCR output format {fmt!r} (choose from {', '.join(FORMATS)})") from None


def render(result: LineResult, fmt: str) -> str | bytes:
    """The text of ``result`` in format ``fmt`` (one of :data:`FORMATS`)."""
    return _writer(fmt).render(result)


def extension(fmt: str) -> str:
    """The file extension for format ``fmt``, with its leading dot (``.alto.xml`` for ALTO)."""
    return _writer(fmt).extension
