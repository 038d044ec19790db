"""``recognize export MODEL``: write a model as ONNX (optionally int8) or TorchScript, and check it."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from .common import EXPORTS, usage_error

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
SAMPLE_DIRS = {"ocr": "ocr", "speech": "speech", "omr": "omr"}


def export_cmd(
    model: Path = typer.Argument(..., help="The .safetensors model to export."),
    fmt: str = typer.Option("onnx", "--format", "-f", help="onnx or torchscript."),
    quantize: str = typer.Option(None, "--quantize", help="int8: ONNX with int8 weights (dynamic quantisation)."),
    opset: int = typer.Option(17, "--opset", min=14, help="ONNX opset."),
    check: bool = typer.Option(False, "--check", help="Compare the artifact with the PyTorch model on the same "
                               "inputs in batches of 1, 3 and 8; exit 1 when they differ."),
    check_on: list[Path] = typer.Option(None, "--check-on", help="Inputs for --check (files or directories; "
                                        "default: the bundled samples of the model's task, else noise)."),
    out: Path = typer.Option(EXPORTS, "--out", "-o", help="Output directory, or the file to write "
                                   "(named .onnx or .ts)."),
) -> None:
    """Export a model to ONNX or TorchScript. Exit 0: written (and checked); 1: check failed; 2: usage error."""
    from ..core.export import TOLERANCE, ExportError, export
    from ..core.export import check as run_check
    from ..core.runtime import model_format
    if model_format(model) != "safetensors":
        raise usage_error(f"{model}: export the .safetensors model, not an exported one")
    m = _load(model)
    try:
        path = export(m, fmt, out, quantize, opset)
    except ExportError as e:
        raise usage_error(str(e)) from None
    print(f"recognize: wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    if not check:
        return
    inputs, source = _check_inputs(m, check_on)
    report = run_check(m, path, inputs, quantize)
    print(json.dumps({**report.to_dict(), "inputs_from": source}, indent=1))
    if not report.ok:
        why = [f"max |Δ log-prob| {report.max_abs_diff:.2e} / batched vs single {report.batch_vs_single:.2e} "
               f"(tolerance {TOLERANCE[quantize]:g})", f"{report.decoded_differences} decoded difference(s)",
               *report.examples]
        print(f"recognize: error: {path}: check failed: {'; '.join(why)}", file=sys.stderr)
        raise typer.Exit(1)


def _load(model: Path):
    from ..core.modelfile import ModelFileError, load_model
    try:
        return load_model(model, "cpu")
    except (ModelFileError, RuntimeError) as e:
        raise usage_error(str(e)) from None


def _check_inputs(m, paths: list[Path] | None):
    """Prepared inputs ``[C, H, W]`` for the check, and where they came from."""
    from ..core.export import random_inputs
    from ..runner import expand
    if not paths and (SAMPLES / SAMPLE_DIRS[m.task]).is_dir():
        paths = [SAMPLES / SAMPLE_DIRS[m.task]]
    if not paths:
        return random_inputs(m), "noise (no --check-on and no bundled samples)"
    if m.task == "speech":
        from ..speech.audio import AudioInputError as Bad
        from ..speech.audio import is_audio as accept
        from ..speech.predict import prepare

        def prep(p):
            return prepare(p, m.preprocess).features  # None for a long (streamed) file
    else:
        from ..core.image import ImageInputError as Bad
        from ..core.image import is_image as accept
        from ..core.image import read_gray
        from ..core.lines import prepare_array

        def prep(p):
            return prepare_array(read_gray(p), int(m.preprocess["height"]), str(p)).pixels
    found, _ = expand(paths, accept)
    arrays = []
    for inp in found:
        try:
            a = prep(inp.path)
        except Bad:
            continue
        if a is not None:
            arrays.append(a)
    if not arrays:
        raise usage_error(f"no usable {m.task} inputs in {', '.join(map(str, paths))} for --check")
    if len({a.shape[-1] for a in arrays}) < len(arrays) // 2:  # e.g. 1-s clips: add shorter cuts, so
        arrays += [a[..., : max(m.width_stride * 4, a.shape[-1] * (k + 1) // (len(arrays) + 1))]  # batches mix widths
                   for k, a in enumerate(arrays)]
    return arrays, ", ".join(map(str, paths))
