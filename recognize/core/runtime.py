"""A model ready to run, whatever runs it: PyTorch (``.safetensors``), TorchScript (``.ts``) or ONNX
Runtime (``.onnx``).

Every inference path calls ``model.run(x, lengths)`` with a padded float32 batch ``[N, C, H, W]``
and each sample's valid width, and gets CTC log-probs ``[N, T, V]`` with their valid lengths.
This module imports neither torch nor onnxruntime until a model of that kind is opened, so the
runtime-only install (numpy, Pillow, soundfile, onnxruntime) runs ONNX models without torch.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .vocab import Vocabulary

FORMAT = "recognize-model/1"
META_KEY = "recognize"                 # ONNX metadata_props key holding the JSON header
TORCHSCRIPT_META = "recognize.json"    # TorchScript extra file holding the JSON header
ONNX_SUFFIXES = (".onnx",)
TORCHSCRIPT_SUFFIXES = (".ts", ".torchscript")


class ModelFileError(Exception):
    """A model file that cannot be read, with the reason."""


def model_format(path: str | Path) -> str:
    """``onnx``, ``torchscript`` or ``safetensors`` (the native format), from the file name."""
    suffix = Path(path).suffix.lower()
    if suffix in ONNX_SUFFIXES:
        return "onnx"
    if suffix in TORCHSCRIPT_SUFFIXES:
        return "torchscript"
    return "safetensors"


def width_stride(meta: dict) -> int:
    """Input columns per output frame: the product of the front-end's width poolings."""
    s = 1
    for block in meta["model"]["frontend"]["blocks"]:
        s *= int(block.get("pool", (1, 1))[1])
    return s


@dataclass
class LoadedModel:
    """A model and what runs it. ``net`` is the PyTorch ``CTCModel`` of a native model (training,
    export, tuning need it) and None for an exported one; ``engine`` runs the forward pass."""

    net: Any
    vocab: Vocabulary
    meta: dict
    path: Path
    engine: Any = None
    _identity: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.engine is None:
            self.engine = TorchEngine(self.net)

    @property
    def task(self) -> str:
        return self.meta["task"]

    @property
    def preprocess(self) -> dict:
        return self.meta.get("preprocess", {})

    @property
    def width_stride(self) -> int:
        return width_stride(self.meta)

    @property
    def device(self) -> str:
        return self.engine.device

    @property
    def runtime(self) -> str:
        return self.engine.name

    def run(self, x: np.ndarray, lengths: np.ndarray):
        """Log-probs ``[N, T, V]`` and valid frames ``[N]`` (torch tensors from the torch engines,
        numpy arrays from ONNX Runtime; decoders take either)."""
        return self.engine(x, lengths)

    def log_probs(self, arrays: list[np.ndarray], batch_size: int, budget: int, sort: bool = True
                  ) -> list[np.ndarray]:
        """The log-probs ``[T, V]`` of each input ``[C, H, W]``, in input order, run in width-sorted
        batches, or in input order when ``sort`` is off (tuning and benchmarks decode them many ways
        without running the network again; the export check mixes widths in a batch on purpose)."""
        from .batching import sorted_batches
        from .decode import to_numpy
        out: list = [None] * len(arrays)
        for idx, x, lengths in sorted_batches(arrays, batch_size, budget, sort):
            lp, n = self.run(x, lengths)
            lp, n = to_numpy(lp), to_numpy(n)
            for j, i in enumerate(idx):
                out[i] = lp[j, : int(n[j])].copy()
        return out

    def describe(self) -> dict:
        """Short identity used in outputs (name, task, sha256 prefix, runtime); the file is hashed once."""
        if not self._identity:
            self._identity.update(name=self.path.name, task=self.task, sha256=file_sha256(self.path)[:16])
            if self.runtime != "torch":
                self._identity.update(runtime=self.runtime, quantize=self.meta.get("export", {}).get("quantize"))
        return dict(self._identity)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_header(meta: dict, path: Path) -> dict:
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: unsupported model format {meta.get('format')!r} (expected {FORMAT})")
    return meta


class TorchEngine:
    """A PyTorch ``CTCModel`` on its device; numpy batches in, tensors out (kept on the device)."""

    name = "torch"

    def __init__(self, net):
        self.net = net

    @property
    def device(self) -> str:
        return str(next(self.net.parameters()).device)

    def __call__(self, x: np.ndarray, lengths: np.ndarray):
        import torch
        dev = self.device
        with torch.inference_mode():
            return self.net(torch.from_numpy(x).to(dev), torch.from_numpy(lengths).to(dev))


class TorchScriptEngine(TorchEngine):
    name = "torchscript"

    def __init__(self, module, device: str):
        self.net, self._device = module, str(device)

    @property
    def device(self) -> str:
        return self._device


class OnnxEngine:
    """An ONNX Runtime session (CPU); numpy in, numpy out."""

    name = "onnxruntime"
    device = "cpu"

    def __init__(self, session):
        self.session = session
        self.inputs = [i.name for i in session.get_inputs()]

    def __call__(self, x: np.ndarray, lengths: np.ndarray):
        log_probs, out_lengths = self.session.run(None, {self.inputs[0]: np.ascontiguousarray(x, np.float32),
                                                         self.inputs[1]: lengths.astype(np.int64)})
        return log_probs, out_lengths


def onnx_session(path: Path, threads: int = 0):
    try:
        import onnxruntime as ort
    except ImportError:
        raise ModelFileError(f"{path}: running ONNX models needs onnxruntime (pip install "
                             "'recognize[runtime]')") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads  # 0 = one per core
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # no warnings about unused initialisers on stderr
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph/... types
        raise ModelFileError(f"{path}: not a readable ONNX model ({str(e).splitlines()[0][:200]})") from None


def read_metadata(path: str | Path) -> dict:
    """The JSON header of a model file of any format (task, vocabulary, preprocessing, recipe ...)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    fmt = model_format(path)
    if fmt == "onnx":
        return _onnx_metadata(onnx_session(path, 1), path)
    if fmt == "torchscript":
        return _torchscript_load(path, "cpu")[1]
    from .modelfile import read_safetensors_metadata
    return read_safetensors_metadata(path)


def _onnx_metadata(session, path: Path) -> dict:
    raw = session.get_modelmeta().custom_metadata_map.get(META_KEY)
    if raw is None:
        raise ModelFileError(f"{path}: ONNX model without recognize metadata (not exported by `recognize export`)")
    return check_header(json.loads(raw), path)


def _torchscript_load(path: Path, device: str):
    import torch
    extra = {TORCHSCRIPT_META: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "torch.jit.load is deprecated" (torch >= 2.10)
            module = torch.jit.load(str(path), map_location=device, _extra_files=extra)
    except Exception as e:  # a damaged archive raises RuntimeError or ValueError
        raise ModelFileError(f"{path}: not a readable TorchScript model ({str(e).splitlines()[0][:200]})") from None
    if not extra[TORCHSCRIPT_META]:
        raise ModelFileError(f"{path}: TorchScript model without recognize metadata "
                             "(not exported by `recognize export`)")
    return module.eval(), check_header(json.loads(extra[TORCHSCRIPT_META]), path)


def open_model(path: str | Path, device="cpu", threads: int = 0) -> LoadedModel:
    """Open a model of any format for inference. ``device``: cpu or cuda[:N] (ONNX runs on the CPU);
    ``threads`` sets ONNX Runtime's intra-op threads (torch's are process-wide: ``torch.set_num_threads``)."""
    path, device = Path(path), str(device)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    fmt = model_format(path)
    if fmt == "onnx":
        if device != "cpu":
            raise ModelFileError(f"{path}: ONNX models run on the CPU here (onnxruntime's CPU provider); "
                                 "use --device cpu, or the .safetensors model on a GPU")
        session = onnx_session(path, threads)
        meta = _onnx_metadata(session, path)
        return LoadedModel(None, Vocabulary.from_dict(meta["vocab"]), meta, path, OnnxEngine(session))
    if fmt == "torchscript":
        module, meta = _torchscript_load(path, device)
        return LoadedModel(None, Vocabulary.from_dict(meta["vocab"]), meta, path, TorchScriptEngine(module, device))
    from .modelfile import load_model
    return load_model(path, device)
