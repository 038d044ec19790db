"""Our speech-commands model vs PocketSphinx 5 (bundled en-us model, JSGF grammar) on the same real clips.

    .venv/bin/python benchmarks/speech.py [--model exports/speech-commands.safetensors] [--threads 2]
        [--sets core10 all35 fsdd] [--limit N] [--data ../shared/data] [--repeat 3]

Sets (speakers never seen in training):
  core10  Speech Commands test split (speaker hash, seed 1 as in recipes/speech_commands.yaml), clips of
          the 10 core words; both engines constrained to those 10 words.
  all35   the same split, clips of all 35 words; both constrained to the 35 words.
  fsdd    FSDD speaker nicolas (8 kHz, resampled to 16 kHz); both constrained to zero..nine.
A clip is correct when the output equals the reference word exactly. Both engines get the same cores:
ours runs with torch.set_num_threads(threads), PocketSphinx on `threads` worker processes, each with its
own Decoder. Times include audio decoding (and our features), after a warm-up and after every clip
has been read once (so neither engine pays for a cold disk cache), the best of --repeat runs (this
VM's speed drifts by 20-40 % between runs); RTF is per core:
wall seconds x threads / audio seconds. A last line per set times our audio decoding and features alone
(the floor under any network; they run on one thread, counted as `threads` like the rest).
PocketSphinx runs with bestpath off: with the default, the lattice pass fails on some clips ("Final result
does not match the grammar") and gives no output.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.shared_data import SHARED, need  # noqa: E402
from recognize.core.runtime import LoadedModel  # noqa: E402
from recognize.speech.audio import audio_info, load_audio  # noqa: E402
from recognize.speech.dataset import DIGITS, fsdd_items, speech_commands_items  # noqa: E402

CORE = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
ALL35 = CORE + DIGITS + ("backward", "bed", "bird", "cat", "dog", "follow", "forward", "happy", "house",
                         "learn", "marvin", "sheila", "tree", "visual", "wow")
SETS = ("core10", "all35", "fsdd")
RATE = 16000


def load_set(name: str, data: Path, limit: int) -> tuple[list[str], list[str], tuple[str, ...]]:
    """``(paths, reference words, grammar words)`` of one evaluation set."""
    if name == "fsdd":
        items, words = fsdd_items(data / "fsdd", speakers=["nicolas"], limit=limit), DIGITS
    else:
        words = CORE if name == "core10" else ALL35
        items = speech_commands_items(data / "speech_commands", split="test", seed=1, silence=False,
                                      words=words, limit=limit)
    return [it.key for it in items], [it.text for it in items], words


# --- ours -------------------------------------------------------------------------------------------------


def run_ours(model: LoadedModel, paths: list[str], words: tuple[str, ...], batch: int) -> tuple[list[str], float]:
    """Hypotheses and wall seconds (prepare + recognize) of the model, constrained to ``words``."""
    from recognize.core.decoders import DecoderSpec, make_decoder
    from recognize.speech.predict import Decoding, prepare, recognize
    dec = Decoding(make_decoder(DecoderSpec("beam", beam_width=50, lexicon=list(words)), model.vocab,
                                runtime=model.runtime), threshold=0.0)
    recognize(model, [prepare(paths[0], model.preprocess)], batch_size=batch, decoding=dec)  # warm-up
    t0 = time.perf_counter()
    results = recognize(model, [prepare(p, model.preprocess) for p in paths], batch_size=batch, decoding=dec)
    secs = time.perf_counter() - t0
    return [getattr(r, "text", "") for r in results], secs


def run_front(model: LoadedModel, paths: list[str]) -> tuple[list[str], float]:
    """Wall seconds of our audio decoding and features alone (what every model pays before the network)."""
    from recognize.speech.predict import prepare
    t0 = time.perf_counter()
    for p in paths:
        prepare(p, model.preprocess)
    return [], time.perf_counter() - t0


# --- pocketsphinx -----------------------------------------------------------------------------------------

_decoder = None  # one per worker process


def _init_sphinx(words: tuple[str, ...]) -> None:
    global _decoder
    from pocketsphinx import Decoder
    _decoder = Decoder(lm=None, loglevel="FATAL", bestpath=False)
    _decoder.add_jsgf_string("cmd", f"#JSGF V1.0; grammar cmd; public <cmd> = {' | '.join(words)} ;")
    _decoder.activate_search("cmd")


def _sphinx_one(path: str) -> str:
    audio = load_audio(path, RATE)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    _decoder.start_utt()
    _decoder.process_raw(pcm, full_utt=True)
    _decoder.end_utt()
    hyp = _decoder.hyp()
    return hyp.hypstr if hyp is not None else ""


def run_sphinx(paths: list[str], words: tuple[str, ...], threads: int) -> tuple[list[str], float]:
    """Hypotheses and wall seconds (audio loading + decoding) on ``threads`` worker processes."""
    from pocketsphinx import Decoder
    lexicon = Decoder(lm=None, loglevel="FATAL")
    missing = [w for w in words if lexicon.lookup_word(w) is None]
    if missing:
        raise SystemExit(f"pocketsphinx dictionary lacks {missing}")
    with mp.get_context("spawn").Pool(threads, initializer=_init_sphinx, initargs=(words,)) as pool:
        pool.map(_sphinx_one, paths[:threads], chunksize=1)  # warm-up: workers started, decoders built
        t0 = time.perf_counter()
        hyps = pool.map(_sphinx_one, paths, chunksize=max(1, len(paths) // (8 * threads)))
        secs = time.perf_counter() - t0
    return hyps, secs


def best_of(repeat: int, fn) -> tuple[object, float]:
    """The ``(output, seconds)`` of ``fn`` with the fewest seconds over ``repeat`` calls."""
    return min((fn() for _ in range(max(1, repeat))), key=lambda r: r[1])


# --- table ------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "exports" / "speech-commands.safetensors")
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--limit", type=int, default=0, help="Use N clips spread evenly over each set.")
    ap.add_argument("--repeat", type=int, default=3, help="Time each engine this many times; keep the best.")
    args = ap.parse_args()
    if not args.model.is_file():
        raise SystemExit(f"{args.model}: no such model (give --model)")
    need(*(args.data / ("fsdd" if name == "fsdd" else "speech_commands") for name in args.sets))
    import torch

    torch.set_num_threads(args.threads)
    from recognize.core.runtime import open_model
    model = open_model(args.model, "cpu", args.threads)  # .safetensors on PyTorch, .onnx on ONNX Runtime
    print(f"model {args.model} ({model.runtime})  threads {args.threads}  (pocketsphinx {version('pocketsphinx')}: "
          f"en-us, JSGF, bestpath off, {args.threads} processes)")
    header = f"{'set':<8}{'clips':>6}{'audio s':>9}  {'engine':<14}{'accuracy':>9}{'RTF/core':>10}"
    print(header)
    print("-" * len(header))
    for name in args.sets:
        paths, refs, words = load_set(name, args.data, args.limit)
        if not paths:
            print(f"{name}: no clips, skipped")
            continue
        seconds = sum(audio_info(p).seconds for p in paths)
        for p in paths:  # both engines then read the clips from the page cache, whichever runs first
            Path(p).read_bytes()
        rows: dict[str, tuple[float, float]] = {}
        runs = {"recognize": lambda: run_ours(model, paths, words, args.batch_size),  # noqa: B023
                "pocketsphinx": lambda: run_sphinx(paths, words, args.threads)}  # noqa: B023
        for engine, run in runs.items():
            hyps, wall = best_of(args.repeat, run)
            acc = sum(h == r for h, r in zip(hyps, refs)) / len(refs)
            rtf = wall * args.threads / seconds
            rows[engine] = (acc, rtf)
            print(f"{name:<8}{len(paths):>6}{seconds:>9.1f}  {engine:<14}{100 * acc:>8.1f}%{rtf:>10.4f}")
        (oa, orf), (pa, prf) = rows["recognize"], rows["pocketsphinx"]
        print(f"{'':<8}{'':>6}{'':>9}  {'ours - ps':<14}{100 * (oa - pa):>+8.1f}p{prf / orf:>9.2f}x"
              "   (accuracy points; RTF pocketsphinx/ours)")
        _, front = best_of(args.repeat, lambda: run_front(model, paths))  # noqa: B023
        rtf = front * args.threads / seconds
        print(f"{'':<8}{'':>6}{'':>9}  {'audio+features':<14}{'':>9}{rtf:>10.4f}   (ours before the network, on one "
              f"thread: {100 * rtf / orf:.0f} % of our RTF, 1/{prf / rtf:.0f} of pocketsphinx's)")


if __name__ == "__main__":
    main()
