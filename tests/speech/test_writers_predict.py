import json

from recognize.core.decode import Hypothesis, Token
from recognize.speech.predict import words_from
from recognize.speech.result import Transcript, Word
from recognize.speech.writers import FORMATS, WRITERS, render


def hyp(text_frames):
    toks = [Token(1, ch, f, f + 1, 0.8) for ch, f in text_frames]
    return Hypothesis("".join(c for c, _ in text_frames), toks, frames=100)


def test_words_are_grouped_at_spaces_with_times():
    h = hyp([("g", 10), ("o", 12), (" ", 20), ("u", 50), ("p", 53)])
    words = words_from(h, 0.04, 4.0)
    assert [w.text for w in words] == ["go", "up"]
    assert (words[0].start, words[0].end) == (0.4, 0.52)
    assert (words[1].start, words[1].end) == (2.0, 2.16)


def test_every_format_renders_times():
    t = Transcript("a.wav", 65.5, "yes no", [Word("yes", 1.25, 1.7, 0.9), Word("no", 61.0, 61.5, 0.8)],
                   {"name": "m"}, {"name": "greedy"})
    out = {f: render(t, f) for f in FORMATS if not WRITERS[f].binary}  # png: tests/test_reports.py
    assert out["txt"] == "yes no\n"
    assert json.loads(out["json"])["words"][1] == {"text": "no", "start": 61.0, "end": 61.5, "confidence": 0.8}
    assert out["tsv"].splitlines()[1] == "yes\t1.250\t1.700\t0.9000"
    assert "2\n00:01:01,000 --> 00:01:01,500\nno\n" in out["srt"]
    assert out["vtt"].startswith("WEBVTT\n\n00:00:01.250 --> 00:00:01.700\nyes\n")
