"""What the model sees: overlays (geometry), the HTML error report (in headless Chromium), learning
curves and the training metrics files."""
import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

from recognize.cli import app
from recognize.core.modelfile import load_model
from recognize.core.overlay import MIN_HEIGHT, confidence_color
from recognize.ocr import writers as ocr_writers
from recognize.ocr.predict import prepare_array, recognize
from recognize.report import confusions, diff_html

from helpers import FONT, write_lines

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def synthetic_line(text: str, size: int = 28, pad: int = 10):
    """A rendered line and each non-space character's ink columns ``(char, x0, x1)``."""
    font = ImageFont.truetype(FONT, size)
    im = Image.new("L", (int(font.getlength(text)) + 2 * pad, 44), 255)
    ImageDraw.Draw(im).text((pad, 4), text, font=font, fill=0)
    ink = []
    for i, ch in enumerate(text):
        if ch != " ":
            x = pad + font.getlength(text[:i])
            left, _, right, _ = font.getbbox(ch)
            ink.append((ch, x + left, x + right))
    return im, ink


def test_each_character_box_lies_over_the_pixels_of_its_character(tmp_path):
    text = "the quick brown fox jumps over 42 lazy dogs"
    im, ink = synthetic_line(text)
    m = load_model(ROOT / "exports" / "ocr-en.safetensors")
    r = recognize(m, [prepare_array(np.asarray(im), 32, "line")])[0]
    assert r.text == text
    glyphs = [g for g in r.glyphs if not g.text.isspace()]
    for (ch, a, b), g in zip(ink, glyphs):
        assert g.text == ch
        assert min(b, g.x1) - max(a, g.x0) >= 0.5 * (b - a), (ch, a, b, g)  # covers most of the glyph
        assert a - 3 <= (g.x0 + g.x1) / 2 <= b + 3, (ch, a, b, g)
    # and the picture draws each box where the glyph is: the confidence bar under the image
    im.save(tmp_path / "line.png")
    r.source = str(tmp_path / "line.png")
    pic = Image.open(io.BytesIO(ocr_writers.render(r, "png"))).convert("RGB")
    scale = MIN_HEIGHT / im.height
    title = 14 + 8
    bar_y = title + MIN_HEIGHT + 1
    for g in glyphs:
        x = round((g.x0 + g.x1) / 2 * scale)
        got = np.array(pic.getpixel((x, bar_y)))
        assert np.abs(got - np.array(confidence_color(g.confidence))).max() <= 40, (g, got)


def test_speech_picture_marks_each_word_at_its_time(tmp_path):
    r = run("transcribe", SAMPLES / "speech" / "four_commands.wav", "-f", "json")
    words = json.loads(r.stdout)["words"]
    r = run("transcribe", SAMPLES / "speech" / "four_commands.wav", "-f", "png", "-o", tmp_path)
    assert r.exit_code == 0, r.output
    pic = Image.open(tmp_path / "four_commands.png").convert("RGB")
    assert pic.width == 1201  # 12.00 s at 10 ms per column
    bar_y = 14 + 8 + 160 + 1
    for w in words:
        x = round((w["start"] + w["end"]) / 2 * 100)
        got = np.array(pic.getpixel((x, bar_y)))
        assert np.abs(got - np.array(confidence_color(w["confidence"]))).max() <= 40, (w, got)
    between = round((words[0]["end"] + words[1]["start"]) / 2 * 100)  # no bar between words
    assert tuple(pic.getpixel((between, bar_y))) == (255, 255, 255)


def test_png_of_every_task_and_binary_stdout_rules(tmp_path):
    for command, data in (("ocr", SAMPLES / "ocr"), ("omr", SAMPLES / "omr" / "synth-2026-0000000")):
        r = run(command, data, "-f", "png", "-o", tmp_path / command)
        assert r.exit_code == 0, r.output
        pics = sorted((tmp_path / command).rglob("*.png"))
        assert pics and all(Image.open(p).height >= MIN_HEIGHT for p in pics)
        r = run(command, data, "-f", "png")
        assert r.exit_code == 2 and "needs --out DIR" in r.stderr
    r = run("ocr", SAMPLES / "ocr" / "line00.png", "-f", "png")
    assert r.exit_code == 0 and r.stdout_bytes.startswith(b"\x89PNG")


@pytest.mark.parametrize("command, data, fmt", [("ocr", SAMPLES / "ocr", "hocr"),
                                                ("transcribe", SAMPLES / "speech", "srt"),
                                                ("omr", SAMPLES / "omr", "musicxml")])
def test_several_inputs_go_to_stdout_only_in_formats_that_tell_them_apart(command, data, fmt):
    r = run(command, data, "-f", fmt)  # documents or subtitles one after the other, with no name
    assert r.exit_code == 2 and f"format '{fmt}' of several inputs needs --out DIR" in r.stderr
    r = run(command, data, "-f", "json")  # a stream of documents, each naming its source
    assert r.exit_code == 0, r.output
    decoder, text, at, sources = json.JSONDecoder(), r.stdout, 0, []
    while text[at:].strip():
        doc, at = decoder.raw_decode(text, at + len(text[at:]) - len(text[at:].lstrip()))
        sources.append(doc["source"])
    inputs = [p for p in data.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".wav")]
    assert sorted(sources) == sorted(str(p) for p in inputs)


def test_diff_and_confusions_count_units():
    assert diff_html("ocr", "cat", "cot") == ('c<del class="replace">a</del>t', 'c<ins class="replace">o</ins>t')
    assert confusions("speech", ["go left", "stop"], ["no left", "stop yes"]) == [(("go", "no"), 1), (("", "yes"), 1)]
    assert confusions("omr", ["clef-G2 note-C4_quarter"], ["clef-G2"]) == [(("note-C4_quarter", ""), 1)]


def chromium_load(page: Path) -> tuple[str, list[str]]:
    """The DOM after loading ``page`` in headless Chromium, and its console messages."""
    out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", "--enable-logging=stderr", "--v=0",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout, [line for line in out.stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make setup installs it)")
def test_console_detector_sees_a_script_error(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>notDefined();</script></body></html>")
    _, console = chromium_load(bad)
    assert any("notDefined" in line for line in console)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make setup installs it)")
def test_ocr_report_loads_offline_without_console_errors_and_shows_the_worst_line(tmp_path):
    data = tmp_path / "lines"
    write_lines(data, ["the cat sat on a mat", "a big red box", "the dog ran far away"])
    (data / "line001.gt.txt").write_text("a big blue fox\n")  # wrong ground truth: the worst line
    r = run("eval", "-m", ROOT / "exports" / "ocr-en.safetensors", data, "--report", tmp_path / "report")
    assert r.exit_code == 0, r.output
    page = tmp_path / "report" / "index.html"
    html = page.read_text()
    assert "http://" not in html and "https://" not in html  # nothing fetched from the network
    dom, console = chromium_load(page)
    assert console == []
    first = dom[dom.index('id="sample-0"'):]
    first = first[: first.index('id="sample-1"')] if 'id="sample-1"' in first else first
    assert "line001.png" in first and "data:image/png;base64," in first
    assert "<del" in first and "<ins" in first  # the difference is highlighted
    assert "Most frequent character errors" in dom


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make setup installs it)")
def test_speech_and_music_reports_load(tmp_path):
    manifest = tmp_path / "clips.tsv"
    clips = sorted((SAMPLES / "speech").glob("*_*.wav"))
    rows = [f"{c}\t{c.stem.split('_')[0]}" for c in clips if c.stem != "four_commands"]
    rows[0] = rows[0].split("\t")[0] + "\tsheila"  # a reference the model cannot match
    (tmp_path / "broken.wav").write_text("not audio")
    rows.append(f"{tmp_path / 'broken.wav'}\tyes")
    manifest.write_text("path\ttext\n" + "\n".join(rows) + "\n")
    r = run("eval", "-m", ROOT / "exports" / "speech-commands.safetensors", manifest, "--report", tmp_path / "sp")
    assert r.exit_code == 1 and "recognize: error: " in r.stderr and "broken.wav: " in r.stderr, r.output
    assert f"{len(rows) - 1} utterances" in r.stdout  # the others are still scored
    dom, console = chromium_load(tmp_path / "sp" / "index.html")
    assert console == [] and "<audio" in dom and "data:audio/wav;base64," in dom and "sheila" in dom
    r = run("eval", "-m", ROOT / "exports" / "omr-semantic.safetensors", SAMPLES / "omr", "--image", "both",
            "--report", tmp_path / "omr")
    assert r.exit_code == 0, r.output
    dom, console = chromium_load(tmp_path / "omr" / "index.html")
    assert console == [] and "semantic" in dom


def test_plot_draws_the_learning_curves(tmp_path):
    records = [{"step": s, "epoch": 1 + s // 10, "loss": 5 / (s + 1), "lr": 1e-3, "samples_per_s": 50.0}
               for s in range(1, 30)]
    records += [{"epoch": e, "step": 10 * e, "train_loss": 1 / e, "valid": {"cer": 0.1 / e, "wer": 0.3 / e},
                 "best": 0.1 / e} for e in (1, 2, 3)]
    (tmp_path / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    r = run("plot", tmp_path)
    assert r.exit_code == 0, r.output
    im = Image.open(tmp_path / "curves.png")
    assert im.size == (1200, 750)
    assert len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) > 50  # curves, not blank
    assert run("plot", tmp_path / "nothing").exit_code == 2


def tensorboard_tags(folder: Path) -> set[str]:
    """Scalar tags in TensorBoard event files (TFRecord framing: length, crc, data, crc)."""
    from tensorboardX.proto import event_pb2
    tags = set()
    for f in folder.glob("events.out.tfevents.*"):
        data = f.read_bytes()
        pos = 0
        while pos + 12 <= len(data):
            (n,) = struct.unpack("<Q", data[pos:pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + n])
            tags |= {v.tag for v in event.summary.value}
            pos += 12 + n + 4
    return tags


def test_training_writes_csv_and_tensorboard(tiny_model):
    run_dir = Path(tiny_model).parent
    epochs = (run_dir / "epochs.csv").read_text().splitlines()
    assert epochs[0].startswith("epoch,step,train_loss,valid_cer") and len(epochs) >= 2
    assert (run_dir / "steps.csv").read_text().startswith("step,epoch,loss,lr")
    assert {"valid/cer", "train/epoch_loss"} <= tensorboard_tags(run_dir / "tensorboard")
    r = run("plot", run_dir)
    assert r.exit_code == 0 and (run_dir / "curves.png").is_file()
