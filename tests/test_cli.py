"""The command line as a user drives it: outputs, exit codes and bad input."""
import json
import shutil

import pytest
from PIL import Image
from typer.testing import CliRunner

from recognize.cli import app

from helpers import render_line, stack_lines, write_lines

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def lines(tmp_path, tiny_data):
    """A directory tree of good lines (copied from the tiny training set)."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    shutil.copy(tiny_data / "train" / "line000.png", root / "a.png")
    shutil.copy(tiny_data / "train" / "line001.png", root / "sub" / "b.png")
    return root


def test_ocr_prints_text(tiny_model, tiny_data):
    r = run("ocr", "-m", tiny_model, "--device", "cpu", tiny_data / "train" / "line000.png")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == (tiny_data / "train" / "line000.gt.txt").read_text().strip()


def test_ocr_writes_output_tree_in_every_format(tiny_model, lines, tmp_path):
    out = tmp_path / "out"
    r = run("ocr", "-m", tiny_model, "-o", out, *sum([["-f", f] for f in ("txt", "json", "tsv", "hocr", "alto")], []),
            lines)
    assert r.exit_code == 0, r.output
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == ["a.alto.xml", "a.hocr", "a.json", "a.tsv", "a.txt",
                     "sub/b.alto.xml", "sub/b.hocr", "sub/b.json", "sub/b.tsv", "sub/b.txt"]
    doc = json.loads((out / "a.json").read_text())
    assert doc["text"] == (out / "a.txt").read_text().strip()
    assert doc["decoder"]["name"] == "greedy" and doc["model"]["task"] == "ocr"
    assert len(doc["glyphs"]) == len(doc["text"].replace(" ", "")) + doc["text"].count(" ")
    xs = [g["x0"] for g in doc["glyphs"]]
    assert xs == sorted(xs) and all(0 <= g["x0"] <= g["x1"] <= doc["width"] for g in doc["glyphs"])


def test_outputs_written_inside_the_input_tree_are_not_read_again(tiny_model, lines):
    out = lines / "sub" / "out"  # png overlays are images: a second run would read them as lines
    for _ in range(2):
        r = run("ocr", "-m", tiny_model, "-o", out, "-f", "png", "-f", "txt", lines)
        assert r.exit_code == 0, r.output
    names = sorted(p.relative_to(lines).as_posix() for p in lines.rglob("*") if p.is_file())
    assert names == ["a.png", "sub/b.png", "sub/out/a.png", "sub/out/a.txt", "sub/out/sub/b.png",
                     "sub/out/sub/b.txt"]


def test_inputs_that_would_write_the_same_outputs_never_overwrite_each_other(tiny_model, lines, tmp_path):
    Image.open(lines / "sub" / "b.png").convert("RGB").save(lines / "a.tif")  # a.png's stem, another line
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(lines / "sub" / "b.png", other / "a.png")  # a.png's relative path in another folder
    out = tmp_path / "out"
    r = run("ocr", "-m", tiny_model, "-o", out, lines, other)
    assert r.exit_code == 1
    assert "a.tif" in r.stderr and "the same name but the suffix" in r.stderr
    assert f"{other / 'a.png'}: its outputs would overwrite those of {lines / 'a.png'}" in r.stderr
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == ["a.png.txt", "a.tif.txt", "sub/b.txt"]
    assert (out / "a.tif.txt").read_text() == (out / "sub" / "b.txt").read_text() != (out / "a.png.txt").read_text()


def test_bad_inputs_each_fail_alone(tiny_model, lines, tmp_path, monkeypatch):
    bad = lines / "bad"
    bad.mkdir()
    (bad / "empty.png").write_bytes(b"")
    good = (lines / "a.png").read_bytes()
    (bad / "truncated.png").write_bytes(good[: len(good) // 2])
    (bad / "text.png").write_text("this is not an image\n")
    Image.new("L", (1, 1), 255).save(bad / "tiny.png")
    render_line("wide").resize((20000, 32)).save(bad / "wide.png")
    Image.fromarray(stack_lines([render_line(t) for t in ("two", "lines")], gap=12)).save(bad / "page.png")
    (bad / "locked.png").write_bytes(good)
    (tmp_path / "noimages").mkdir()
    (tmp_path / "noimages" / "readme.txt").write_text("nothing here")

    real_open = Image.open

    def fake_open(fp, *a, **k):  # as root chmod cannot make a file unreadable: simulate it
        if str(fp).endswith("locked.png"):
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *a, **k)

    monkeypatch.setattr(Image, "open", fake_open)
    out = tmp_path / "out"
    r = run("ocr", "-m", tiny_model, "-o", out, "-f", "txt", "-f", "alto", lines, tmp_path / "noimages")
    assert r.exit_code == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("recognize: error:")]
    reasons = {line.split(": ")[2].rsplit("/", 1)[-1]: line for line in errors}
    assert set(reasons) == {"empty.png", "truncated.png", "text.png", "tiny.png", "wide.png", "locked.png",
                            "page.png", "noimages"}, r.stderr
    assert "empty file" in reasons["empty.png"]
    assert "not an image" in reasons["text.png"]
    assert "too small" in reasons["tiny.png"] and "too long" in reasons["wide.png"]
    assert "Permission denied" in reasons["locked.png"]
    assert "2 text lines one above the other" in reasons["page.png"]
    assert "no input files" in reasons["noimages"]
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.alto.xml", "a.txt", "sub/b.alto.xml", "sub/b.txt"]  # no partial outputs


def test_standard_input_is_an_input_named_dash(tiny_model, tiny_data, lines, tmp_path):
    line = (tiny_data / "train" / "line000.png").read_bytes()
    r = runner.invoke(app, ["ocr", "-m", str(tiny_model), "--device", "cpu", "-"], input=line)
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == (tiny_data / "train" / "line000.gt.txt").read_text().strip()
    out = tmp_path / "out"
    r = runner.invoke(app, ["ocr", "-m", str(tiny_model), "--device", "cpu", "-", str(lines), "-o", str(out),
                            "-f", "json"], input=line)
    assert r.exit_code == 0, r.output
    assert json.loads((out / "stdin.json").read_text())["source"] == "-"
    assert (out / "a.json").is_file() and (out / "sub" / "b.json").is_file()
    r = runner.invoke(app, ["ocr", "-m", str(tiny_model), "--device", "cpu", "-", "-"], input=line)
    assert r.exit_code == 1 and r.stdout.strip() == (tiny_data / "train" / "line000.gt.txt").read_text().strip()
    assert "recognize: error: -: standard input can be read only once" in r.stderr
    r = runner.invoke(app, ["ocr", "-m", str(tiny_model), "--device", "cpu", "-"], input=b"not an image")
    assert r.exit_code == 1 and r.stderr.startswith("recognize: error: -: ")


def test_usage_errors_exit_2(tiny_model, lines, tmp_path):
    assert run("ocr", "-m", tiny_model, "-f", "pdf", lines).exit_code == 2
    assert run("ocr", "-m", tmp_path / "missing.safetensors", lines).exit_code == 2
    assert run("ocr", "-m", tiny_model, "-f", "txt", "-f", "json", lines).exit_code == 2  # several formats need -o
    (tmp_path / "a_file").write_text("")
    r = run("ocr", "-m", tiny_model, "-o", tmp_path / "a_file", lines)
    assert r.exit_code == 2 and "exists and is not a directory" in r.stderr
    assert run("ocr").exit_code == 2
    assert run("train", "tests/tiny_recipe.yaml", "--set", "train.epoch=1").exit_code == 2
    r = run("train", "tests/tiny_recipe.yaml", "-o", tmp_path / "run", "--set",
            f"data.valid=[{{kind: folder, path: {tmp_path / 'nowhere'}}}]")
    assert r.exit_code == 2 and "data.valid[0] (folder): " in r.stderr and "no such dataset directory" in r.stderr
    r = run("eval", "-m", tiny_model, lines / "a.png")
    assert r.exit_code == 1 and "a.png: a file, not a dataset folder" in r.stderr


def test_eval_and_info(tiny_model, tiny_data):
    r = run("eval", "-m", tiny_model, "--json", tiny_data / "train")
    assert r.exit_code == 0, r.output
    (entry,) = json.loads(r.stdout)
    assert entry["lines"] == 40 and entry["exact"]["cer"] < 0.02
    r = run("info", tiny_model)
    assert r.exit_code == 0 and "BiLSTM(64)" in r.stdout and "pytest tiny_model" in r.stdout


def test_average_command(tiny_model, tmp_path):
    out = tmp_path / "avg.safetensors"
    r = run("average", tiny_model, tiny_model, "-o", out, "--half")
    assert r.exit_code == 0, r.output
    r = run("info", "--json", out)
    meta = json.loads(r.stdout)
    assert meta["averaged"]["count"] == 2 and len(meta["averaged_from"]) == 2 and meta["dtype"] == "float16"
    assert out.stat().st_size < 0.6 * tiny_model.stat().st_size
    r = run("average", tiny_model, "-o", out)
    assert r.exit_code == 2 and "at least two" in r.output
    r = run("average", tiny_model, "-o", out, "--half")  # a float16 copy
    assert r.exit_code == 0 and json.loads(run("info", "--json", out).stdout)["averaged"]["count"] == 1
    (tmp_path / "bad.safetensors").write_bytes(b"junk")
    r = run("average", tiny_model, tmp_path / "bad.safetensors", "-o", out)
    assert r.exit_code == 2 and "bad.safetensors" in r.output


def test_prune_command(tiny_model, tiny_data, tmp_path):
    out = tmp_path / "small.safetensors"
    r = run("prune", tiny_model, "--channels", "4,8,8", "-o", out)
    assert r.exit_code == 0, r.output
    meta = json.loads(run("info", "--json", out).stdout)
    assert [b["channels"] for b in meta["model"]["frontend"]["blocks"]] == [4, 8, 8]
    assert meta["pruned"]["channels"] == [4, 8, 8] and "metrics" not in meta
    assert run("ocr", "-m", out, tiny_data / "train" / "line000.png").exit_code == 0  # a working model
    r = run("prune", tiny_model, "--channels", "4,8", "-o", out)
    assert r.exit_code == 2 and "one channel count per conv block" in r.output


def test_eval_normalisations_score_tex_quotes(tiny_model, tmp_path):
    write_lines(tmp_path / "q", ["the cat"])
    (tmp_path / "q" / "line000.gt.txt").write_text("``the cat''\n")
    r = run("eval", "-m", tiny_model, "--json", tmp_path / "q")
    (entry,) = json.loads(r.stdout)
    assert entry["quotes"]["cer"] < entry["exact"]["cer"]


def test_train_command_writes_a_run_directory(tiny_data, tmp_path):
    data = f"data.train=[{{kind: folder, path: '{tiny_data / 'train'}'}}]"
    r = run("train", "tests/tiny_recipe.yaml", "--set", data, "--print-config")
    assert r.exit_code == 0 and "hidden: 64" in r.stdout and str(tiny_data / "train") in r.stdout
    r = run("train", "tests/tiny_recipe.yaml", "-o", tmp_path / "run", "--set", data, "--set", "train.epochs=1",
            "--cache", tmp_path / "cache")
    assert r.exit_code == 0, r.output
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {"model.safetensors", "last.ckpt", "history.jsonl",
                                                              "recipe.yaml"}
    r = run("train", "tests/tiny_recipe.yaml", "-o", tmp_path / "run", "--set", data,
            "--resume", tmp_path / "run" / "last.ckpt", "--init-from", tmp_path / "run" / "model.safetensors")
    assert r.exit_code == 2


def test_worker_processes_give_the_same_outputs_and_report_bad_files(tiny_model, lines, tmp_path):
    (lines / "bad.png").write_text("not an image")
    outs = {}
    for j in (0, 2):
        r = run("ocr", "-m", tiny_model, "-j", j, "-o", tmp_path / f"j{j}", "-f", "json", lines)
        assert r.exit_code == 1 and "bad.png: not an image" in r.stderr, r.stderr
        outs[j] = {p.relative_to(tmp_path / f"j{j}").as_posix(): p.read_text()
                   for p in (tmp_path / f"j{j}").rglob("*.json")}
    assert outs[0] == outs[2] and sorted(outs[0]) == ["a.json", "sub/b.json"]


def test_a_closed_stdout_stops_quietly(tiny_model, lines):
    """``recognize ocr DIR | head -1``: once the reader is gone, stop without an error per file."""
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-m", "recognize", "ocr", "-m", str(tiny_model), str(lines)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader leaves before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Broken pipe" not in err and "Traceback" not in err and "error" not in err


def test_missing_default_model_says_where_models_are(monkeypatch, lines):
    monkeypatch.setenv("RECOGNIZE_MODELS", str(lines / "no-models-here"))
    r = run("ocr", lines / "a.png")
    assert r.exit_code == 2 and "shipped ocr model is not there" in r.stderr and "RECOGNIZE_MODELS" in r.stderr


def test_an_output_that_cannot_be_written_is_named_and_the_others_are_written(tiny_model, lines, tmp_path):
    """Files are written by a background thread while the next chunk is recognised: its failures are
    still reported per input, and counted in the exit code."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_text("a file where the output tree needs a directory")
    r = run("ocr", "-m", tiny_model, "-o", out, "-f", "txt", "-f", "json", lines)
    assert r.exit_code == 1
    assert "b.png: cannot write output" in r.stderr and "1 done, 1 failed" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "a.txt", "sub"]
