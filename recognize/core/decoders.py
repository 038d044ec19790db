"""One decoder interface for every task: greedy, or beam search on one of three backends.

A decoder is a callable ``(log_probs [N, T, V], lengths [N]) -> list[Hypothesis]`` with a
``settings()`` dict that the JSON outputs record. :class:`DecoderSpec` says which one to build; it is
what ``--decoder``, ``--lm``, ``--alpha`` ... and the decoding configs written by ``recognize tune``
hold.

Backends (``auto`` picks the fastest one that can do what is asked):

- ``flashlight`` (flashlight-text's C++ decoder, built as torchaudio's ``ctc_decoder`` builds it but
  without torch): lexicon-free with a token-level LM (characters for OCR, music tokens), or
  constrained to a lexicon with an optional word LM. The default.
- ``pyctcdecode`` (Python): open-vocabulary word LMs and hotwords; picked only for those.
- ``cuda`` (torchaudio's ``cuda_ctc_decoder``): beam search on the GPU, no LM. Refused while the
  installed torchaudio has the kernel's shared-memory bug (:func:`cuda_decoder_fault`: every release up
  to 2.11); with a fixed one, picked on a GPU when there is neither LM nor lexicon.
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .decode import GreedyDecoder, Hypothesis
from .lm import LMInfo, read_info
from .vocab import Vocabulary

BACKENDS = ("auto", "flashlight", "pyctcdecode", "cuda")
DECODERS = ("greedy", "beam")
NEEDS = {"flashlight": [("flashlight-text", "flashlight.lib.text")],  # (package, module) each backend imports
         "pyctcdecode": [("pyctcdecode", "pyctcdecode")],  # and kenlm with an LM
         "cuda": [("torchaudio", "torchaudio")]}


class DecoderError(ValueError):
    """Decoder settings that cannot work together or with the model (one-line reason)."""


Decoder = Callable[[Any, Any], list[Hypothesis]]  # (log_probs, lengths): torch tensors or numpy arrays


@dataclass
class DecoderSpec:
    decoder: str = "greedy"        # greedy | beam
    backend: str = "auto"
    beam_width: int = 8            # benchmarks/decoding.py --sweep: with an LM or lexicon 16 and 32 did no better
    lm: str | None = None          # KenLM file (ARPA or binary) with its JSON sidecar
    alpha: float = 0.5             # LM weight
    beta: float = 0.0              # bonus per word (lexicon / pyctcdecode) or per word boundary (lexicon-free)
    lexicon: list[str] | None = None  # only these words (constrained decoding)
    hotwords: list[str] = field(default_factory=list)
    hotword_weight: float = 10.0
    nbest: int = 1

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}

    @classmethod
    def from_dict(cls, d: dict, base: Path | None = None) -> DecoderSpec:
        known = {f.name for f in fields(cls)}
        bad = sorted(set(d) - known)
        if bad:
            raise DecoderError(f"unknown decoding setting {bad[0]!r}")
        spec = cls(**d)
        if spec.lm and base is not None and not Path(spec.lm).is_absolute():
            spec = replace(spec, lm=str(base / spec.lm))
        return spec

    def merged(self, **overrides) -> DecoderSpec:
        """This spec with the given settings replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def read_config(path: str | Path) -> tuple[DecoderSpec, dict]:
    """A decoding config (JSON written by ``recognize tune`` or shipped next to a model): its settings
    (relative LM paths are relative to it) and the other entries (``note``, ``default``, ...)."""
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise DecoderError(f"{path}: cannot read decoding config: {e}") from None
    extra = {k: v for k, v in d.items() if k != "decoding"} if "decoding" in d else {}
    return DecoderSpec.from_dict(d.get("decoding", d), path.parent), extra


def read_spec(path: str | Path) -> DecoderSpec:
    """The settings of a decoding config (see :func:`read_config`)."""
    return read_config(path)[0]


def write_spec(spec: DecoderSpec, path: Path, extra: dict | None = None) -> None:
    """Write ``spec`` as a decoding config; the LM path is stored relative to the config's folder."""
    d = spec.to_dict()
    if spec.lm:
        lm = Path(spec.lm).resolve()
        d["lm"] = str(lm.relative_to(path.parent.resolve())) if lm.is_relative_to(path.parent.resolve()) else str(lm)
    path.write_text(json.dumps({"decoding": d, **(extra or {})}, indent=1) + "\n", encoding="utf-8")


CUCTC_BROKEN_UP_TO = (2, 11)  # the newest torchaudio release, which still has the bug


def cuda_decoder_fault() -> str | None:
    """Why torchaudio's ``cuda_ctc_decoder`` must not run, or None. Its top-k kernel puts its values at
    a wrong shared-memory offset (``block_topk_key + sizeof(float) * beam`` counted in floats;
    pytorch/audio#3754, fix #4198 not merged). On an H200 it aborted the whole process with
    cudaErrorIllegalAddress (benchmarks/gpu/run.sh); an abort cannot be caught, so it is refused."""
    try:
        found = version("torchaudio")
    except PackageNotFoundError:
        return "torchaudio is not installed"
    m = re.match(r"(\d+)\.(\d+)", found)
    if m and (int(m[1]), int(m[2])) <= CUCTC_BROKEN_UP_TO:
        return (f"torchaudio {found}'s cuda_ctc_decoder writes outside its shared memory and aborts the process "
                "on Hopper GPUs (pytorch/audio#3754, unfixed); use --beam-backend flashlight")
    return None


def choose_backend(spec: DecoderSpec, lm: LMInfo | None, vocab: Vocabulary, device: str) -> str:
    """The backend ``auto`` stands for, or the one asked for once it is checked to fit."""
    word_lm = lm is not None and vocab.tokenizer == "chars" and lm.unit == "word"
    backend = spec.backend
    if backend == "auto":
        if spec.hotwords or (word_lm and not spec.lexicon):
            backend = "pyctcdecode"
        elif device.startswith("cuda") and lm is None and not spec.lexicon and cuda_decoder_fault() is None:
            backend = "cuda"
        else:
            backend = "flashlight"
    if backend not in BACKENDS:
        raise DecoderError(f"unknown beam backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if lm is not None and vocab.tokenizer == "chars" and lm.unit == "token":
        raise DecoderError(f"{lm.path}: a token LM cannot score a character model (build it with --unit char)")
    if lm is not None and vocab.tokenizer == "whitespace" and lm.unit == "char":
        raise DecoderError(f"{lm.path}: a character LM cannot score a token model (build it with --unit token)")
    if lm is not None and vocab.tokenizer == "whitespace" and lm.unit == "word" and lm.unigrams:
        known = len(set(lm.unigrams) & set(vocab.tokens[1:]))
        if known < 0.1 * (len(vocab) - 1):  # e.g. an English word LM for a music model
            raise DecoderError(f"{lm.path}: a word LM that knows {known} of the model's {len(vocab) - 1} tokens "
                               "cannot score it (build a token LM with --unit token)")
    if backend == "cuda" and (lm is not None or spec.lexicon or spec.hotwords):
        raise DecoderError("the cuda backend takes no LM, lexicon or hotwords")
    if backend == "cuda" and not device.startswith("cuda"):
        raise DecoderError("the cuda backend needs --device cuda")
    if backend == "cuda" and (fault := cuda_decoder_fault()):
        raise DecoderError(f"the cuda backend is off: {fault}")
    if backend == "pyctcdecode" and spec.lexicon:
        raise DecoderError("pyctcdecode cannot constrain to a lexicon (use the flashlight backend)")
    if backend == "pyctcdecode" and lm is not None and vocab.tokenizer == "chars" and lm.unit == "char":
        raise DecoderError("pyctcdecode needs a word LM; a character LM needs the flashlight backend")
    if backend == "flashlight" and spec.hotwords:
        raise DecoderError("hotwords need the pyctcdecode backend")
    if backend == "flashlight" and word_lm and not spec.lexicon:
        raise DecoderError("a word LM on the flashlight backend needs --lexicon (open vocabulary: pyctcdecode)")
    if backend == "flashlight" and spec.lexicon and lm is not None and lm.unit != "word" and vocab.tokenizer == "chars":
        raise DecoderError("a lexicon is scored with a word LM, not a character LM")
    return backend


def resolve(spec: DecoderSpec, vocab: Vocabulary, device: str = "cpu") -> tuple[str, LMInfo | None]:
    """The backend and LM a beam-search spec stands for, checked against each other and the model,
    without building anything (raises DecoderError)."""
    if spec.beam_width < 1 or spec.nbest < 1:
        raise DecoderError("--beam-width and --nbest must be at least 1")
    try:
        lm = read_info(spec.lm) if spec.lm else None
    except (OSError, ValueError, KeyError) as e:
        raise DecoderError(str(e)) from None
    return choose_backend(spec, lm, vocab, device), lm


def make_decoder(spec: DecoderSpec, vocab: Vocabulary, device: str = "cpu", runtime: str = "torch") -> Decoder:
    """Build the decoder ``spec`` describes for a model with ``vocab`` (raises DecoderError).

    ``runtime`` is the network's (``LoadedModel.runtime``). The flashlight and pyctcdecode backends
    need no torch (the runtime-only install has flashlight). When the network is not torch's but
    torch is loaded anyway (then the alignment uses torchaudio's), torch is made single-threaded:
    its idle OpenMP workers would otherwise spin against ONNX Runtime's threads (speech, 2 cores:
    2.50 -> 2.15 ms per clip)."""
    if spec.decoder not in DECODERS:
        raise DecoderError(f"unknown decoder {spec.decoder!r} (choose from {', '.join(DECODERS)})")
    if spec.decoder == "greedy":
        return GreedyDecoder(vocab)
    if runtime not in ("torch", "torchscript") and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    backend, lm = resolve(spec, vocab, device)
    needs = NEEDS[backend] + ([("kenlm", "kenlm")] if backend == "pyctcdecode" and lm is not None else [])
    missing = next((pkg for pkg, module in needs if importlib.util.find_spec(module) is None), None)
    if missing:
        raise DecoderError(f"the {backend} beam search needs {missing}, which this install lacks: "
                           "pip install 'recognize[decode]'")
    if backend == "flashlight":
        from .beam_flashlight import FlashlightDecoder
        return FlashlightDecoder(spec, vocab, lm)
    if backend == "pyctcdecode":
        from .beam_pyctc import PyctcDecoder
        return PyctcDecoder(spec, vocab, lm)
    from .beam_cuda import CudaDecoder
    return CudaDecoder(spec, vocab, device)


def beam_settings(spec: DecoderSpec, backend: str, lm: LMInfo | None) -> dict:
    """What a beam decoder records in the outputs."""
    d = {"name": "beam", "backend": backend, "beam_width": spec.beam_width}
    if lm is not None:
        d.update(lm=lm.describe(), alpha=spec.alpha, beta=spec.beta)
    elif spec.lexicon:
        d["beta"] = spec.beta
    if spec.lexicon:
        d["lexicon_words"] = len(spec.lexicon)
    if spec.hotwords:
        d.update(hotwords=list(spec.hotwords), hotword_weight=spec.hotword_weight)
    if spec.nbest > 1:
        d["nbest"] = spec.nbest
    return d
