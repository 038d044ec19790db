"""Helpers shared by the commands: model lookup, device/threads, usage errors."""
from __future__ import annotations

import functools
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import typer

EXPORTS = Path(__file__).resolve().parents[2] / "exports"
DEFAULT_MODELS = {"ocr": "ocr-en.safetensors", "speech": "speech-commands.safetensors",
                  "omr": "omr-semantic.safetensors"}


def usage_error(message: str) -> typer.Exit:
    print(f"recognize: usage error: {message}", file=sys.stderr)
    return typer.Exit(2)


def default_model(task: str) -> Path:
    """The shipped model of ``task``; without PyTorch installed, its shipped ONNX export."""
    root = Path(os.environ.get("RECOGNIZE_MODELS", EXPORTS))
    native = root / DEFAULT_MODELS[task]
    if not have_torch():
        stem = native.name.removesuffix(".safetensors")
        for name in (f"{stem}.int8.onnx", f"{stem}.onnx"):
            if (root / name).is_file():
                return root / name
    return native


def have_torch() -> bool:
    try:
        return importlib.util.find_spec("torch") is not None
    except ImportError:  # an import hook that refuses torch
        return False


def load(model: Path | None, task: str, device: str = "cpu", threads: int = 0):
    """Load ``model`` (or the task's shipped default) of any format or exit 2 with the reason:
    ``.safetensors`` runs on PyTorch, ``.ts`` on TorchScript, ``.onnx`` on ONNX Runtime (CPU)."""
    from ..core.runtime import ModelFileError, model_format, open_model
    path = model or default_model(task)
    if model is None and not path.is_file():
        raise usage_error(f"{path}: the shipped {task} model is not there (it lives in the repository's "
                          "exports/: install with pip install -e, set RECOGNIZE_MODELS=DIR, or pass -m MODEL)")
    fmt = model_format(path)
    if fmt != "onnx":
        try:
            import torch
        except ImportError:
            raise usage_error(f"{path}: running {fmt} models needs PyTorch, which this install lacks: "
                              "pip install 'recognize[torch]', or run an ONNX export (-m model.onnx)") from None
    try:
        if fmt == "onnx":  # no torch needed
            m = open_model(path, "cpu" if device == "auto" else device, threads)
        else:
            from ..core.train import pick_device
            if threads:
                torch.set_num_threads(threads)
            m = open_model(path, pick_device(device))
    except (ModelFileError, RuntimeError) as e:
        raise usage_error(str(e)) from None
    if m.task != task:
        raise usage_error(f"{path}: is a {m.task} model, not a {task} model")
    return m


def model_task(path: Path) -> str | None:
    """The task a model file is for (None when it cannot be read: ``load`` then says why)."""
    from ..core.runtime import ModelFileError, read_metadata
    try:
        return read_metadata(path).get("task")
    except (ModelFileError, OSError):
        return None


DEVICE = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N.")
THREADS = typer.Option(0, "--threads", help="CPU threads for torch (0 = all cores).")
BATCH = typer.Option(16, "--batch-size", "-b", help="Inputs per batch.")
WORKERS = typer.Option(None, "--workers", "-j", min=0, help="Processes reading and preparing inputs ahead of the "
                       "network (default: from 64 inputs, one per 4 cores, at most 2; 0 = in the main process).")


def check_formats(formats: list[str], known, out: Path | None) -> None:
    bad = [f for f in formats if f not in known]
    if bad:
        raise usage_error(f"unknown format {bad[0]!r} (choose from {', '.join(known)})")
    if out is None and len(formats) > 1:
        raise usage_error("several --format values need --out DIR")
    if out is not None and out.exists() and not out.is_dir():
        raise usage_error(f"--out {out}: exists and is not a directory")


def check_stdout(formats: list[str], out: Path | None, inputs: int, line_formats: tuple[str, ...]) -> None:
    """Several inputs go to stdout only in a format whose outputs can follow each other and still
    say which input each is: a one-line format (prefixed with the path) or json (each document
    names its source; jq reads a stream of them). Binary files, XML documents, subtitles and tables
    would run into each other."""
    if out is None and inputs > 1 and formats[0] not in (*line_formats, "json"):
        raise usage_error(f"format {formats[0]!r} of several inputs needs --out DIR")


BEAM_WIDTH_DEFAULTS = {"speech": 50}  # commands are short: a wide beam costs little; others: DecoderSpec's

DECODER = typer.Option(None, "--decoder", help="greedy (the default) or beam.")
BEAM_BACKEND = typer.Option(None, "--beam-backend", help="auto (default: flashlight; pyctcdecode for word LMs "
                            "and hotwords), flashlight, pyctcdecode or cuda (refused while torchaudio's GPU "
                            "decoder has its crash bug: every release up to 2.11).")
BEAM_WIDTH = typer.Option(None, "--beam-width", min=1, help="Hypotheses kept by beam search (default 8; "
                          "50 for speech).")
LM = typer.Option(None, "--lm", help="KenLM language model (from `recognize lm build`); 'none' for no LM.")
ALPHA = typer.Option(None, "--alpha", help="LM weight (default 0.5).")
BETA = typer.Option(None, "--beta", help="Bonus per word (default 0).")
LEXICON = typer.Option(None, "--lexicon", help="Only these words: a file (one per line) or a list 'a,b,c'.")
HOTWORDS = typer.Option(None, "--hotword", help="Words to favour (repeatable; pyctcdecode).")
NBEST = typer.Option(None, "--nbest", min=1, help="Keep the N best hypotheses with scores in the JSON output.")
DECODING = typer.Option(None, "--decoding", help="Decoding config (JSON, e.g. from `recognize tune`); "
                        "the options above override it.")


@dataclass
class DecodingOptions:
    """The decoding options of one command line, as given (None: not given)."""

    decoder: str | None = None
    beam_backend: str | None = None
    beam_width: int | None = None
    lm: str | None = None
    alpha: float | None = None
    beta: float | None = None
    lexicon: str | None = None
    hotword: list[str] | None = None
    nbest: int | None = None
    decoding: Path | None = None


_DECODING_PARAMS = [("decoder", str, DECODER), ("beam_backend", str, BEAM_BACKEND), ("beam_width", int, BEAM_WIDTH),
                    ("lm", str, LM), ("alpha", float, ALPHA), ("beta", float, BETA), ("lexicon", str, LEXICON),
                    ("hotword", list[str], HOTWORDS), ("nbest", int, NBEST), ("decoding", Path, DECODING)]


def with_decoding_options(command):
    """Give a command the decoding options (--decoder, --lm, --alpha, ...): typer sees them as the
    command's own parameters, listed before --device; the command receives them bundled as its
    ``decoding_options`` parameter (a :class:`DecodingOptions`)."""
    sig = inspect.signature(command, eval_str=True)
    params = [p for p in sig.parameters.values() if p.name != "decoding_options"]
    at = next((i for i, p in enumerate(params) if p.name == "device"), len(params))
    added = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=option, annotation=kind)
             for name, kind, option in _DECODING_PARAMS]

    @functools.wraps(command)
    def run(**kwargs):
        options = DecodingOptions(**{name: kwargs.pop(name) for name, _, _ in _DECODING_PARAMS})
        return command(decoding_options=options, **kwargs)

    run.__signature__ = sig.replace(parameters=params[:at] + added + params[at:])
    return run


def decoding_config(model_path: Path | None, m) -> Path:
    """The decoding config shipped next to a model (``exports/ocr-en.decoding.json``), used by
    ``--decoder beam`` when no other config is given; an exported model (``ocr-en.int8.onnx``) uses
    its source model's."""
    path = model_path or default_model(m.task)
    source = m.meta.get("export", {}).get("source")
    return path.with_name(f"{Path(source).stem if source else path.stem}.decoding.json")


def is_default_decoding(path: Path) -> bool:
    """Whether a shipped decoding config says it is its model's default (``"default": true``): the
    speech models decode with the words they were trained on unless told otherwise."""
    from ..core.decoders import DecoderError, read_config
    try:
        return read_config(path)[1].get("default") is True
    except DecoderError:
        return False


def decoder_spec(m, model_path: Path | None, options: DecodingOptions):
    """The decoder settings the options ask for, or exit 2 with the reason.

    Settings come from, in order: the defaults, the model's shipped decoding config (when
    ``--decoder beam`` is given without ``--decoding``, or with no --decoder at all when the config
    is the model's default), ``--decoding FILE``, then the options. Asking for an LM, a lexicon,
    hotwords or an n-best list implies beam search.
    """
    from ..core import decoders
    from ..core.lexicon import read_word_list
    o = options
    try:
        spec = decoders.DecoderSpec(beam_width=BEAM_WIDTH_DEFAULTS.get(m.task, decoders.DecoderSpec.beam_width))
        shipped = decoding_config(model_path, m)
        if o.decoding is not None:
            spec = decoders.read_spec(o.decoding)
        elif shipped.is_file() and (o.decoder == "beam" or (o.decoder is None and is_default_decoding(shipped))):
            spec = decoders.read_spec(shipped)
        wants_beam = o.lm not in (None, "none") or o.lexicon or o.hotword or o.nbest
        spec = spec.merged(decoder=o.decoder or ("beam" if wants_beam else None), backend=o.beam_backend,
                           beam_width=o.beam_width, alpha=o.alpha, beta=o.beta, nbest=o.nbest,
                           lexicon=read_word_list(o.lexicon) if o.lexicon else None, hotwords=o.hotword or None)
        if o.beam_width is None:  # an n-best list of N needs a beam N wide
            spec.beam_width = max(spec.beam_width, spec.nbest)
    except (decoders.DecoderError, OSError) as e:
        raise usage_error(str(e)) from None
    if o.lm is not None:
        spec.lm = None if o.lm == "none" else o.lm
    return spec


def make_decoder(m, model_path: Path | None, options: DecodingOptions):
    """The decoder the options ask for (see :func:`decoder_spec`), or exit 2 with the reason. A
    model's default decoding that cannot run here (beam search in an install without torch) gives
    way to greedy decoding, with a warning: nobody asked for it."""
    from ..core import decoders
    spec = decoder_spec(m, model_path, options)
    try:
        return decoders.make_decoder(spec, m.vocab, m.device, m.runtime)
    except (decoders.DecoderError, OSError) as e:
        if options == DecodingOptions() and spec.decoder != "greedy":
            print(f"recognize: warning: decoding greedily: the model's default decoding cannot run here: {e}",
                  file=sys.stderr)
            return decoders.make_decoder(decoders.DecoderSpec(), m.vocab, m.device, m.runtime)
        raise usage_error(str(e)) from None
