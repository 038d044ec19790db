"""Exporting a model to ONNX (optionally int8) or TorchScript, and checking the artifact against PyTorch.

The exported graph is the inference network (batch norm folded into the convolutions) with the
bidirectional RNNs in their dense form: the backward direction reads each sequence reversed
within its own length, so no packed sequences are needed and a padded batch gives each sample
exactly what it gives alone. Batch and width are dynamic axes. The model's JSON header (task,
vocabulary, preprocessing, recipe, training data) travels inside the artifact with an ``export``
entry saying how it was made.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from .decode import greedy_decode
from .runtime import META_KEY, TORCHSCRIPT_META, LoadedModel, file_sha256, open_model

log = logging.getLogger("recognize")

FORMATS = ("onnx", "torchscript")
QUANTIZE = ("int8",)
DEFAULT_OPSET = 17
LOG_FLOOR = -18.0  # log-probs below this (p < 1.5e-8) are compared as equal: their digits are noise
TOLERANCE = {None: 1e-3, "int8": 1.5}  # max |log-prob difference| the check accepts, per quantisation


class ExportError(ValueError):
    """An export that cannot be made or does not pass its check (one-line reason)."""


EXTENSIONS = {"onnx": ".onnx", "torchscript": ".ts"}


def artifact_name(model_path: Path, fmt: str, quantize: str | None) -> str:
    stem = model_path.name.removesuffix(".safetensors")
    return f"{stem}{'.' + quantize if quantize else ''}{EXTENSIONS[fmt]}"


def artifact_path(out: Path, model_path: Path, fmt: str, quantize: str | None) -> Path:
    """Where an export goes: ``out`` itself when it is named like an export (``model.onnx``), else
    ``out/<model name>.onnx|.int8.onnx|.ts``."""
    if out.suffix in EXTENSIONS.values() and not out.is_dir():
        if out.suffix != EXTENSIONS[fmt]:
            raise ExportError(f"{out}: a {fmt} export is named *{EXTENSIONS[fmt]}")
        return out
    return out / artifact_name(model_path, fmt, quantize)


def _example(model: LoadedModel) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of two inputs of different widths (tracing sees the padding path)."""
    fe = model.meta["model"]["frontend"]
    w = 16 * model.width_stride
    return torch.zeros(2, fe.get("in_channels", 1), fe["height"], w), torch.tensor([w, w // 2])


def _header(model: LoadedModel, fmt: str, quantize: str | None, opset: int | None) -> str:
    export = {"format": fmt, "quantize": quantize, "opset": opset, "source": model.path.name,
              "source_sha256": file_sha256(model.path), "torch": torch.__version__, "recognize": __version__,
              "inputs": ["inputs [N, C, H, W] float32", "lengths [N] int64"],
              "outputs": ["log_probs [N, T, V] float32", "frames [N] int64"]}
    return json.dumps({**model.meta, "export": export}, ensure_ascii=False)


def export(model: LoadedModel, fmt: str, out: Path, quantize: str | None = None,
           opset: int = DEFAULT_OPSET) -> Path:
    """Write ``model`` (a native model from ``load_model``) as ``out/<name>.onnx|.int8.onnx|.ts``, or as
    ``out`` when that is named like the export."""
    if model.net is None:
        raise ExportError(f"{model.path}: already an exported model; export the .safetensors model")
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    if quantize not in (None, *QUANTIZE):
        raise ExportError(f"unknown quantisation {quantize!r} (choose from {', '.join(QUANTIZE)})")
    if quantize and fmt != "onnx":
        raise ExportError("--quantize int8 is for ONNX (ONNX Runtime's int8 kernels); TorchScript exports "
                          "stay float32")
    path = artifact_path(Path(out), model.path, fmt, quantize)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = model.net.cpu().eval()
    mode, net.rnn.mode = net.rnn.mode, "dense"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and exporter warnings about Python values in shapes
            if fmt == "torchscript":
                traced = torch.jit.trace(net, _example(model), check_trace=False)
                torch.jit.save(traced, str(tmp), _extra_files={TORCHSCRIPT_META: _header(model, fmt, None, None)})
            else:
                _onnx(net, model, tmp, quantize, opset)
        os.replace(tmp, path)
    finally:
        net.rnn.mode = mode
        tmp.unlink(missing_ok=True)
    carry_decoding(Path(model.path), path)
    return path


def carry_decoding(model_path: Path, artifact: Path) -> Path | None:
    """Write the model's decoding config (``<model>.decoding.json``: its default decoding, or what
    ``--decoder beam`` uses) next to the artifact, where the commands look for it, so that the
    export decodes as the model does; an LM path in it is made absolute. Returns the file written."""
    from .decoders import read_config, write_spec
    config = model_path.with_name(f"{model_path.stem}.decoding.json")
    target = artifact.with_name(config.name)
    if not config.is_file() or target.resolve() == config.resolve():
        return None
    spec, extra = read_config(config)
    write_spec(spec, target, extra)
    log.info("wrote %s (the model's decoding config)", target)
    return target


def _onnx(net, model: LoadedModel, path: Path, quantize: str | None, opset: int) -> None:
    import onnx
    fp32 = path.with_suffix(".fp32.tmp") if quantize else path
    try:
        # the TorchScript-based exporter: it maps torch.lstm/gru to ONNX's LSTM/GRU ops
        torch.onnx.export(net, _example(model), str(fp32), dynamo=False, opset_version=opset,
                          input_names=["inputs", "lengths"], output_names=["log_probs", "frames"],
                          dynamic_axes={"inputs": {0: "batch", 3: "width"}, "lengths": {0: "batch"},
                                        "log_probs": {0: "batch", 1: "time"}, "frames": {0: "batch"}})
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic
            # weights int8, activations quantised on the fly; convolutions stay float32 (ONNX Runtime's
            # ConvInteger is slower than its float convolutions on x86)
            root = logging.getLogger()
            level, root.level = root.level, logging.ERROR  # its advice to pre-process goes to the root logger
            try:
                quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8,
                                 op_types_to_quantize=["MatMul", "Gemm", "LSTM"])
            finally:
                root.setLevel(level)
    finally:
        if quantize:
            fp32.unlink(missing_ok=True)
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    entry = proto.metadata_props.add()
    entry.key, entry.value = META_KEY, _header(model, "onnx", quantize, opset)
    proto.producer_name, proto.producer_version = "recognize", __version__
    onnx.save(proto, str(path))


@dataclass
class CheckReport:
    """How an exported artifact compares with the PyTorch model on the same inputs."""

    artifact: str
    inputs: int
    batch_sizes: list[int]
    tolerance: float
    max_abs_diff: float = 0.0          # largest |log-prob difference| (floored at LOG_FLOOR), any batch
    batch_vs_single: float = 0.0       # largest difference of the artifact's batched vs single outputs
    decoded_differences: int = 0       # inputs whose greedy transcript differs from PyTorch's (any batch)
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.max_abs_diff <= self.tolerance and self.batch_vs_single <= self.tolerance
                and self.decoded_differences == 0)

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def _floored(lp: np.ndarray) -> np.ndarray:
    return np.maximum(lp, LOG_FLOOR)


def _runs(model: LoadedModel, inputs: list[np.ndarray], batch: int) -> list[np.ndarray]:
    """Log-probs of each input run in consecutive batches of ``batch`` (input order, not sorted:
    each batch mixes widths, so padding is exercised)."""
    return model.log_probs(inputs, batch, sys.maxsize, sort=False)


def check(native: LoadedModel, artifact: Path, inputs: list[np.ndarray], quantize: str | None = None,
          batch_sizes: tuple[int, ...] = (1, 3, 8)) -> CheckReport:
    """Run the artifact and the PyTorch model on ``inputs`` (``[C, H, W]`` arrays of several widths)
    in several batch sizes; compare log-probs and greedy transcripts."""
    exported = open_model(artifact, "cpu")
    native.net.cpu()  # the comparison runs where the artifact runs
    sizes = sorted({min(b, len(inputs)) for b in batch_sizes})
    report = CheckReport(artifact.name, len(inputs), sizes, TOLERANCE[quantize])
    ref = _runs(native, inputs, 1)
    ref_text = [h.text for h in _decode(ref, native.vocab)]
    single, differ = None, {}
    for b in sizes:
        got = _runs(exported, inputs, b)
        if single is None:
            single = got
        for i, (r, g) in enumerate(zip(ref, got)):
            if r.shape != g.shape:
                raise ExportError(f"{artifact}: input {i} gives {g.shape[0]} frames, PyTorch {r.shape[0]}")
            report.max_abs_diff = max(report.max_abs_diff, float(np.abs(_floored(r) - _floored(g)).max()))
            report.batch_vs_single = max(report.batch_vs_single,
                                         float(np.abs(_floored(single[i]) - _floored(g)).max()))
        for i, (want, h) in enumerate(zip(ref_text, _decode(got, native.vocab))):
            if h.text != want and i not in differ:
                differ[i] = f"input {i} (batch {b}): {difference(want, h.text)}"
    report.decoded_differences = len(differ)
    report.examples = [differ[i] for i in sorted(differ)[:3]]
    return report


def difference(want: str, got: str, context: int = 16) -> str:
    """Where two transcripts differ, with a little context: ``…abc[X→Y]def…``."""
    a = 0
    while a < min(len(want), len(got)) and want[a] == got[a]:
        a += 1
    b = 0
    while b < min(len(want), len(got)) - a and want[-1 - b] == got[-1 - b]:
        b += 1
    head = ("…" if a > context else "") + want[max(0, a - context):a]
    tail = want[len(want) - b:][:context] + ("…" if b > context else "")
    return f"{head}[{want[a:len(want) - b]!r} → {got[a:len(got) - b]!r}]{tail}"


def _decode(lps: list[np.ndarray], vocab):
    return [greedy_decode(lp[None], np.array([lp.shape[0]]), vocab)[0] for lp in lps]


def random_inputs(model: LoadedModel, count: int = 8, seed: int = 0) -> list[np.ndarray]:
    """Inputs of several widths when no real ones are at hand (noise: a numerical check only)."""
    rng = np.random.default_rng(seed)
    fe = model.meta["model"]["frontend"]
    widths = np.linspace(4, 96, count).astype(int) * model.width_stride
    return [rng.random((fe.get("in_channels", 1), fe["height"], int(w)), dtype=np.float32) for w in widths]
