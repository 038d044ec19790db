"""A self-contained HTML error report (``recognize eval --report DIR``), the same for every task.

One page per run: per data set its metrics, the confusion table of the units the task is scored
on (characters for OCR, words for speech, tokens for music), and the worst samples, each with its
picture (the input with the recognised units drawn on it), an audio player for speech, the
reference, the hypothesis and their difference highlighted. Pictures and audio are embedded as
data URIs and the style is inline: the file opens offline, with no script and no network.
"""
from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import Levenshtein

AUDIO_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg", ".mp3": "audio/mpeg",
               ".opus": "audio/ogg", ".m4a": "audio/mp4"}
MAX_AUDIO_BYTES = 8 << 20  # longer recordings get no player (the page stays small)
UNITS = {"ocr": "character", "speech": "word", "omr": "token"}
RATES = {"cer", "wer", "ser", "seq", "accuracy"}  # metrics shown as percentages


def units(task: str, text: str) -> list[str]:
    """The units a task is scored on: characters (OCR), words (speech), tokens (music)."""
    return list(text) if task == "ocr" else text.split()


@dataclass
class Sample:
    source: str
    ref: str
    hyp: str
    errors: int                       # unit edits between ref and hyp
    picture: bytes | None = None      # PNG
    audio: Path | None = None         # the recording, for a player


@dataclass
class Section:
    """One data set: its metrics (name -> value; RATES shown as %), the worst samples and the
    unit confusions (ref unit, hyp unit; '' = inserted / deleted) with their counts."""

    name: str
    metrics: dict
    samples: list[Sample] = field(default_factory=list)
    confusions: list[tuple[tuple[str, str], int]] = field(default_factory=list)
    items: int = 0


def confusions(task: str, refs: list[str], hyps: list[str], top: int = 30) -> list[tuple[tuple[str, str], int]]:
    """The most frequent unit substitutions, deletions (hyp '') and insertions (ref '')."""
    counts: Counter = Counter()
    for r, h in zip(refs, hyps):
        a, b = units(task, r), units(task, h)
        for op in Levenshtein.editops(a, b):
            if op.tag == "replace":
                counts[a[op.src_pos], b[op.dest_pos]] += 1
            elif op.tag == "delete":
                counts[a[op.src_pos], ""] += 1
            else:
                counts["", b[op.dest_pos]] += 1
    return counts.most_common(top)


def worst(task: str, sources: list[str], refs: list[str], hyps: list[str], n: int,
          picture: Callable[[int], bytes | None] = lambda i: None, audio: bool = False) -> list[Sample]:
    """The ``n`` samples with the most unit errors (those with none left out), worst first;
    ``picture(i)`` draws sample ``i``."""
    if n <= 0:
        return []
    errs = [Levenshtein.distance(units(task, r), units(task, h)) for r, h in zip(refs, hyps)]
    order = [i for i in sorted(range(len(refs)), key=lambda i: (-errs[i], i)) if errs[i]][:n]
    return [Sample(sources[i], refs[i], hyps[i], errs[i], picture(i), Path(sources[i]) if audio else None)
            for i in order]


def diff_html(task: str, ref: str, hyp: str) -> tuple[str, str]:
    """``ref`` and ``hyp`` as HTML with deleted/substituted units marked in the first and
    inserted/substituted ones in the second."""
    a, b = units(task, ref), units(task, hyp)
    sep = "" if task == "ocr" else " "
    left, right = [], []
    for op in Levenshtein.opcodes(a, b):
        x = html.escape(sep.join(a[op.src_start:op.src_end]))
        y = html.escape(sep.join(b[op.dest_start:op.dest_end]))
        if op.tag == "equal":
            left.append(x)
            right.append(y)
        else:
            if x:
                left.append(f'<del class="{op.tag}">{x}</del>')
            if y:
                right.append(f'<ins class="{op.tag}">{y}</ins>')
    return sep.join(left), sep.join(right)


CSS = """
body{font-family:DejaVu Sans,Arial,sans-serif;margin:1.5em;color:#222;max-width:1400px}
h1{font-size:1.4em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}
th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}
.sample{margin:1.2em 0;padding:.6em;border:1px solid #e3e3e3;border-radius:4px}
.sample img{max-width:100%;display:block;margin:.4em 0;border:1px solid #eee}
.text{font-family:DejaVu Sans Mono,monospace;white-space:pre-wrap;word-break:break-word}
del{background:#fbd0d0;text-decoration:line-through}ins{background:#c9f0c9;text-decoration:none}
.src{color:#666;font-size:.9em}.unit{font-family:DejaVu Sans Mono,monospace}
"""


def _metric(name: str, v) -> str:
    return f"{100 * v:.2f} %" if name in RATES else html.escape(str(v))


def _sample_html(task: str, k: int, s: Sample) -> str:
    ref, hyp = diff_html(task, s.ref, s.hyp)
    parts = [f'<div class="sample" id="sample-{k}"><div class="src">#{k + 1} · {html.escape(s.source)} · '
             f'{s.errors} error(s)</div>']
    if s.picture:
        parts.append(f'<img alt="{html.escape(Path(s.source).name)}" '
                     f'src="data:image/png;base64,{base64.b64encode(s.picture).decode()}">')
    if s.audio is not None and s.audio.is_file() and s.audio.stat().st_size <= MAX_AUDIO_BYTES:
        mime = AUDIO_TYPES.get(s.audio.suffix.lower(), "audio/wav")
        parts.append(f'<audio controls preload="none" src="data:{mime};base64,'
                     f'{base64.b64encode(s.audio.read_bytes()).decode()}"></audio>')
    parts.append(f'<table><tr><th>reference</th><td class="text">{ref}</td></tr>'
                 f'<tr><th>hypothesis</th><td class="text">{hyp}</td></tr></table></div>')
    return "".join(parts)


def render(task: str, title: str, sections: list[Section], model: dict | None = None) -> str:
    unit = UNITS[task]
    body = [f"<h1>{html.escape(title)}</h1>"]
    if model:
        body.append(f'<p class="src">model {html.escape(str(model.get("name")))} '
                    f'(sha256 {html.escape(str(model.get("sha256")))})</p>')
    for sec in sections:
        body.append(f"<h2>{html.escape(sec.name)}</h2>")
        body.append("<table>" + "".join(f'<tr><th>{html.escape(str(k))}</th><td class="num">{_metric(k, v)}</td></tr>'
                                        for k, v in sec.metrics.items()) + "</table>")
        if sec.confusions:
            rows = "".join(f'<tr><td class="unit">{html.escape(r) or "<i>(inserted)</i>"}</td>'
                           f'<td class="unit">{html.escape(h) or "<i>(deleted)</i>"}</td><td class="num">{n}</td></tr>'
                           for (r, h), n in sec.confusions)
            body.append(f"<h3>Most frequent {unit} errors</h3><table><tr><th>reference</th><th>recognised</th>"
                        f"<th>count</th></tr>{rows}</table>")
        body.append(f"<h3>Worst samples ({len(sec.samples)} shown of {sec.items})</h3>")
        body += [_sample_html(task, k, s) for k, s in enumerate(sec.samples)] or ["<p>No errors.</p>"]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


def write(out_dir: Path, task: str, title: str, sections: list[Section], model: dict | None = None) -> Path:
    """Write ``out_dir/index.html`` (atomically) and return its path."""
    from .runner import write_atomic
    path = Path(out_dir) / "index.html"
    write_atomic(path, render(task, title, sections, model))
    return path
