"""Exported models (ONNX fp32/int8, TorchScript) against the PyTorch model, for every task, through
the core check and through the CLI; and ONNX models run with torch unimportable."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from recognize.cli import app
from recognize.cli.export import _check_inputs
from recognize.core.export import ExportError, artifact_path, check, difference, export
from recognize.core.modelfile import load_model
from recognize.core.runtime import ModelFileError, open_model, read_metadata

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
MODELS = {"ocr": "ocr-en", "speech": "speech-commands", "omr": "omr-semantic"}
COMMANDS = {"ocr": ("ocr", SAMPLES / "ocr"), "speech": ("transcribe", SAMPLES / "speech"),
            "omr": ("omr", SAMPLES / "omr")}
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every shipped model in every export format: {(task, kind): path}."""
    out = tmp_path_factory.mktemp("exported")
    paths = {}
    for task, name in MODELS.items():
        m = load_model(ROOT / "exports" / f"{name}.safetensors")
        paths[task, "onnx"] = export(m, "onnx", out)
        paths[task, "torchscript"] = export(m, "torchscript", out)
        paths[task, "int8"] = export(m, "onnx", out, quantize="int8")
    return paths


@pytest.mark.parametrize("task", MODELS)
@pytest.mark.parametrize("kind", ["onnx", "torchscript"])
def test_float_exports_match_pytorch_on_real_inputs_in_every_batch_size(task, kind, exported):
    m = load_model(ROOT / "exports" / f"{MODELS[task]}.safetensors")
    inputs, _ = _check_inputs(m, None)
    assert len(inputs) >= 8 and len({a.shape[-1] for a in inputs}) > 4  # several widths
    report = check(m, exported[task, kind], inputs)
    assert report.ok, report.to_dict()
    assert report.max_abs_diff < 1e-3 and report.batch_vs_single < 1e-3 and report.batch_sizes == [1, 3, 8]


@pytest.mark.parametrize("task", MODELS)
def test_int8_export_stays_within_its_tolerance(task, exported):
    m = load_model(ROOT / "exports" / f"{MODELS[task]}.safetensors")
    inputs, _ = _check_inputs(m, None)
    report = check(m, exported[task, "int8"], inputs, quantize="int8")
    assert 0 < report.max_abs_diff <= report.tolerance  # really quantised, not far off
    assert report.decoded_differences <= len(inputs) // 8
    assert exported[task, "int8"].stat().st_size < 0.9 * exported[task, "onnx"].stat().st_size


def test_check_catches_a_model_that_differs(exported):
    m = load_model(ROOT / "exports" / "ocr-en.safetensors")
    with torch.no_grad():
        m.net.head.bias[0] += 5.0  # blank much likelier: the export no longer matches this network
    report = check(m, exported["ocr", "onnx"], _check_inputs(m, None)[0])
    assert not report.ok and report.max_abs_diff > 1 and report.decoded_differences > 0


def test_metadata_travels_inside_the_artifacts(exported):
    native = read_metadata(ROOT / "exports" / "ocr-en.safetensors")
    for kind in ("onnx", "torchscript", "int8"):
        meta = read_metadata(exported["ocr", kind])
        assert meta["vocab"] == native["vocab"] and meta["preprocess"] == native["preprocess"]
        assert meta["recipe"] == native["recipe"] and meta["export"]["source"] == "ocr-en.safetensors"
    assert read_metadata(exported["ocr", "int8"])["export"]["quantize"] == "int8"


def approx_floats(x):
    """``x`` with every float compared to within 2e-4: another runtime's kernels may round a confidence
    (written with 4 decimals) the other way."""
    if isinstance(x, float):
        return pytest.approx(x, abs=2e-4)
    if isinstance(x, dict):
        return {k: approx_floats(v) for k, v in x.items()}
    if isinstance(x, list):
        return [approx_floats(v) for v in x]
    return x


@pytest.mark.parametrize("task", MODELS)
@pytest.mark.parametrize("kind", ["onnx", "torchscript"])
def test_cli_gives_the_same_outputs_with_an_exported_model(task, kind, exported, tmp_path):
    command, data = COMMANDS[task]
    native = run(command, data, "-f", "json", "-o", tmp_path / "native", "--device", "cpu")
    ours = run(command, data, "-m", exported[task, kind], "-f", "json", "-o", tmp_path / kind, "--device", "cpu")
    assert native.exit_code == 0 and ours.exit_code == 0, (native.output, ours.output)
    files = sorted((tmp_path / "native").rglob("*.json"))
    assert len(files) >= 8
    for f in files:
        a = json.loads(f.read_text())
        b = json.loads((tmp_path / kind / f.relative_to(tmp_path / "native")).read_text())
        assert b["model"]["runtime"] in ("onnxruntime", "torchscript") and b["model"]["task"] == a["model"]["task"]
        a.pop("model"), b.pop("model")
        assert a == approx_floats(b), f  # texts, tokens and spans exact; confidences to rounding


NO_TORCH = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "torchaudio", "librosa", "safetensors", "onnx"}:
            raise ImportError(f"No module named {name!r} (blocked by the test)")
sys.meta_path.insert(0, Block())
from recognize.cli import main
sys.argv = ["recognize", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("task", MODELS)
def test_onnx_models_run_without_torch(task, exported, tmp_path):
    command, data = COMMANDS[task]
    for decoder in ("greedy", "beam"):  # beam: flashlight-text (pyctcdecode for OCR's word LM), aligned in numpy
        args = [command, str(data), "-m", str(exported[task, "onnx"]), "--decoder", decoder, "-f", "json", "-o"]
        blocked = subprocess.run([sys.executable, "-c", NO_TORCH, *args, str(tmp_path / f"rt-{decoder}")],
                                 capture_output=True, text=True, cwd=ROOT)
        assert blocked.returncode == 0, blocked.stderr
        assert run(*args, tmp_path / f"full-{decoder}").exit_code == 0
        for f in sorted((tmp_path / f"full-{decoder}").rglob("*.json")):
            a = json.loads(f.read_text())
            b = json.loads((tmp_path / f"rt-{decoder}" / f.relative_to(tmp_path / f"full-{decoder}")).read_text())
            # speech: numpy log-mel instead of torchaudio's (same to ~1e-4): confidences may move in the 4th digit
            assert a.get("text", a.get("tokens")) == b.get("text", b.get("tokens"))
            assert a["decoder"] == b["decoder"] and a["decoder"]["name"] == decoder
    # what needs torch says so in one line
    native = subprocess.run([sys.executable, "-c", NO_TORCH, command, str(data), "-m",
                             str(ROOT / "exports" / f"{MODELS[task]}.safetensors")], capture_output=True, text=True,
                            cwd=ROOT)
    assert native.returncode == 2 and "needs PyTorch" in native.stderr.replace("\n", " ")


@pytest.mark.parametrize("task", MODELS)
def test_shipped_onnx_exports_are_of_the_shipped_models_and_the_default_without_torch(task, tmp_path):
    """exports/ holds an ONNX export of each shipped model (data/export_shipped.sh): it is what a
    runtime-only install runs by default, with the same results."""
    stem = MODELS[task]
    shipped = [ROOT / "exports" / n for n in (f"{stem}.int8.onnx", f"{stem}.onnx") if (ROOT / "exports" / n).is_file()]
    assert len(shipped) == 1
    command, data = COMMANDS[task]
    rt = subprocess.run([sys.executable, "-c", NO_TORCH, command, str(data), "-f", "json", "-o", str(tmp_path / "rt")],
                        capture_output=True, text=True, cwd=ROOT)
    assert rt.returncode == 0, rt.stderr
    outputs = [json.loads(f.read_text()) for f in sorted((tmp_path / "rt").rglob("*.json"))]
    assert outputs and all(o["model"]["name"] == shipped[0].name for o in outputs)
    # the speech models' default decoding (their words, by beam search) runs without torch too
    assert "warning" not in rt.stderr
    full = run(command, data, "-f", "json", "-o", tmp_path / "full")
    assert full.exit_code == 0
    texts = [json.loads(f.read_text()) for f in sorted((tmp_path / "full").rglob("*.json"))]
    # the shipped export passed --check on these samples: same transcripts, decoded the same way
    assert [a.get("text", a.get("tokens")) for a in texts] == [b.get("text", b.get("tokens")) for b in outputs]
    assert [a["decoder"] for a in texts] == [b["decoder"] for b in outputs]


def test_every_shipped_export_is_of_its_shipped_model():
    from recognize.core.runtime import file_sha256
    exports = sorted((ROOT / "exports").glob("*.onnx"))
    assert len(exports) >= 3
    for path in exports:
        meta = read_metadata(path)["export"]
        source = ROOT / "exports" / meta["source"]
        assert meta["source_sha256"] == file_sha256(source), f"{path.name}: re-run data/export_shipped.sh"


def test_export_cli_writes_and_checks(tmp_path):
    r = run("export", ROOT / "exports" / "speech-commands.safetensors", "-f", "onnx", "--check", "-o", tmp_path)
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["ok"] and report["inputs"] >= 8 and (tmp_path / "speech-commands.onnx").is_file()


def test_export_cli_fails_a_check_it_cannot_pass(tmp_path):
    """A music model whose CTC head is 30 times sharper: int8 rounding of that head moves log-probs far
    beyond the int8 tolerance, so the check reports it and exits 1 (the file stays)."""
    from recognize.core.modelfile import carried_metadata, save_model
    source = ROOT / "exports" / "omr-semantic.safetensors"
    m = load_model(source, for_training=True)
    with torch.no_grad():
        m.net.head.weight.mul_(30)
    sharp = save_model(tmp_path / "sharp.safetensors", m.net, m.vocab, carried_metadata(m.meta))
    r = run("export", sharp, "--quantize", "int8", "--check", "-o", tmp_path)
    report = json.loads(r.stdout)
    assert r.exit_code == 1 and "check failed" in r.stderr and (tmp_path / "sharp.int8.onnx").is_file()
    assert not report["ok"] and report["max_abs_diff"] > report["tolerance"]


def test_export_usage_errors(tmp_path, exported):
    model = ROOT / "exports" / "ocr-en.safetensors"
    r = run("export", model, "-f", "torchscript", "--quantize", "int8", "-o", tmp_path)
    assert r.exit_code == 2 and "int8 is for ONNX" in r.stderr
    r = run("export", exported["ocr", "onnx"], "-o", tmp_path)
    assert r.exit_code == 2 and "export the .safetensors model" in r.stderr
    r = run("export", tmp_path / "missing.safetensors", "-o", tmp_path)
    assert r.exit_code == 2 and "no such model file" in r.stderr
    with pytest.raises(ExportError, match="unknown export format"):
        export(load_model(ROOT / "exports" / "ocr-en.safetensors"), "tflite", tmp_path)


def test_damaged_exports_are_reported_in_one_line(tmp_path, exported):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(exported["ocr", "onnx"].read_bytes()[:5000])
    with pytest.raises(ModelFileError, match="not a readable ONNX model"):
        open_model(bad)
    r = run("ocr", SAMPLES / "ocr" / "line00.png", "-m", bad)
    assert r.exit_code == 2 and "bad.onnx: not a readable ONNX model" in r.stderr
    bad_ts = tmp_path / "bad.ts"
    bad_ts.write_bytes(b"not a zip")
    r = run("ocr", SAMPLES / "ocr" / "line00.png", "-m", bad_ts)
    assert r.exit_code == 2 and "not a readable TorchScript model" in r.stderr


def test_difference_shows_where_transcripts_differ():
    assert difference("the cat sat", "the cot sat") == "the c['a' → 'o']t sat"


def test_batched_dense_rnn_equals_each_sample_alone():
    """The export relies on the dense RNN path: padding must not leak into any sample."""
    m = load_model(ROOT / "exports" / "ocr-en.safetensors")
    m.net.rnn.mode = "dense"
    rng = np.random.default_rng(0)
    xs = [rng.random((1, 32, w), dtype=np.float32) for w in (40, 123, 300)]
    from recognize.core.batching import pad_arrays
    x, lengths = pad_arrays(xs)
    lp, n = m.run(x, lengths)
    for i, xi in enumerate(xs):
        alone, k = m.run(xi[None], np.array([xi.shape[-1]]))
        assert int(n[i]) == int(k[0])
        assert torch.allclose(lp[i, : int(n[i])], alone[0], atol=1e-4)


def test_info_reads_exported_models_without_torch(exported):
    r = subprocess.run([sys.executable, "-c", NO_TORCH, "info", str(exported["ocr", "int8"])], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "exported    onnx int8 opset 17 from ocr-en.safetensors" in r.stdout


def test_out_named_like_an_export_is_the_file_written(tmp_path):
    model = ROOT / "exports" / "ocr-en.safetensors"
    r = run("export", model, "-o", tmp_path / "new" / "mine.onnx")
    assert r.exit_code == 0, r.output
    # the model's decoding config comes along, its LM path made absolute: --decoder beam works there
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["mine.onnx", "ocr-en.decoding.json"]
    lm = Path(json.loads((tmp_path / "new" / "ocr-en.decoding.json").read_text())["decoding"]["lm"])
    assert lm.is_absolute() and lm.is_file()
    assert open_model(tmp_path / "new" / "mine.onnx").runtime == "onnxruntime"
    r = run("ocr", SAMPLES / "ocr" / "line00.png", "-m", tmp_path / "new" / "mine.onnx", "--decoder", "beam",
            "-f", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["decoder"]["lm"]["path"].endswith("ocr-en-words.klm")
    assert artifact_path(tmp_path, model, "onnx", "int8") == tmp_path / "ocr-en.int8.onnx"  # a folder
    assert artifact_path(tmp_path / "m.ts", model, "torchscript", None) == tmp_path / "m.ts"
    with pytest.raises(ExportError, match=r"a torchscript export is named \*\.ts"):
        artifact_path(tmp_path / "m.onnx", model, "torchscript", None)
