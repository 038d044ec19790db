"""Greedy vs every beam backend on the same log-probs, for each task, in one run.

The network runs once per set; each decoder then decodes the stored log-probs (search plus the
forced alignment that gives token spans), so items/s compare decoders only. Sets (from ../shared):

  ocr     uw3-dev (CER, quotes unified), sroie-receipts (CER, case-insensitive), earlyprint (CER)
  speech  Speech Commands test split (speaker hash, seed 1), all 35 words: WER and the share of outputs
          with a word outside the 35 (constrained decoding must make it 0)
  omr     the 14 real PrIMuS incipits and the fixed synthetic test set (seed 20261128): SER

    .venv/bin/python benchmarks/decoding.py [--tasks ocr,speech,omr] [--threads 2] [--repeat 3] [--sweep 1,2,4,...]

Each decoder's time is the best of --repeat runs (this VM's speed drifts by 20-40 % between runs).

--sweep compares the two CPU backends at equal error rate instead of equal settings: both run at
each beam width (with the music token LM for music, which both can use; without LM for the others),
and for each set a summary line takes the lowest error both backends reach and each backend's
fastest width that reaches it. The sweep also runs the other shipped set-ups at each width (OCR's character LM
on flashlight and word LM on pyctcdecode, the speech lexicon on flashlight).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.shared_data import SHARED, need  # noqa: E402
from recognize.core.decoders import DecoderSpec, cuda_decoder_fault, make_decoder, read_spec  # noqa: E402
from recognize.core.tuning import score, stored_batches  # noqa: E402

EXPORTS = ROOT / "exports"


def ocr_sets(model):
    from recognize.devsets import dev_logits
    return [dev_logits(model, SHARED / "ocr" / name, normalize=norm)
            for name, norm in (("uw3-dev", "quotes"), ("sroie-receipts", "nocase"), ("earlyprint", "exact"))]


def speech_sets(model):
    from recognize.devsets import DevSet
    from recognize.speech.dataset import speech_commands_items
    from recognize.speech.predict import clip_logits, prepare
    items = speech_commands_items(SHARED / "speech_commands", split="test", seed=1, silence=False)
    lps = clip_logits(model, [prepare(it.key, model.preprocess) for it in items])
    return [DevSet("speech_commands test (seed 1)", lps, [it.text for it in items], "wer")]


def omr_sets(model):
    from recognize.devsets import dev_logits
    from recognize.omr.synth.generate import write_dataset
    synth = ROOT / "data" / "cache" / "omr-bench" / "seed20261128"
    write_dataset(synth, 300, 20261128, workers=2, distorted=True)
    return [dev_logits(model, SHARED / "primus"), dev_logits(model, synth, limit=300)]


WORD_LM = ("word LM", EXPORTS / "ocr-en-words.klm", 0.5, 1.0)
CHAR_LM = ("char LM", EXPORTS / "ocr-en-chars.klm", 0.6, 0.0)
TOKEN_LM = ("token LM", EXPORTS / "omr-semantic-tokens.klm", 0.5, 0.0)
# (backend, LM) pairs swept: pyctcdecode against flashlight with the same LM (none, or the music token LM,
# which both can use), then what the width does to the other shipped set-ups (OCR's LMs, the speech
# lexicon).
SWEEP = {"ocr": [("flashlight", None), ("pyctcdecode", None), ("flashlight", CHAR_LM), ("pyctcdecode", WORD_LM)],
         "speech": [("flashlight", None), ("pyctcdecode", None), ("flashlight", "lexicon")],
         "omr": [("flashlight", TOKEN_LM), ("pyctcdecode", TOKEN_LM)]}


def sweep(task: str, widths: list[int], words: list[str]) -> list[tuple[str, DecoderSpec]]:
    out = [("greedy", DecoderSpec())]
    for backend, lm in SWEEP[task]:
        if lm == "lexicon":
            label, extra = " + lexicon", dict(lexicon=words)
        else:
            label, extra = (f" + {lm[0]}", dict(lm=str(lm[1]), alpha=lm[2], beta=lm[3])) if lm else ("", {})
        out += [(f"beam {backend}{label}, width {w}", DecoderSpec("beam", backend=backend, beam_width=w, **extra))
                for w in widths]
    return out


def equal_error(rows: list[tuple[str, object, list[str]]]) -> str:
    """flashlight vs pyctcdecode (same LM) at the lowest error both reach: each backend's fastest width
    with an error no higher than that."""
    pyc_family = next(n for n, _, _ in rows if "pyctcdecode" in n).split(",")[0]
    fl_family = pyc_family.replace("pyctcdecode", "flashlight")
    lowest = {f: min(r.error for n, r, _ in rows if n.split(",")[0] == f) for f in (pyc_family, fl_family)}
    target = max(lowest.values())

    def fastest(family: str):
        ok = [(n, r) for n, r, _ in rows if n.split(",")[0] == family and r.error <= target + 1e-12]
        return max(ok, key=lambda x: x[1].per_second)
    (fl, f), (pyc, p) = fastest(fl_family), fastest(pyc_family)
    alone = "".join(f"; {n.split()[1]} alone reaches {100 * e:.3f} %" for n, e in lowest.items() if e < target)
    return (f"equal error {100 * target:.3f} %: {fl} {f.per_second:.1f}/s vs {pyc} {p.per_second:.1f}/s = "
            f"{f.per_second / p.per_second:.1f}x{alone}")


def decoders(task: str, words: list[str], device: str) -> list[tuple[str, DecoderSpec]]:
    lm = {"ocr": [WORD_LM, CHAR_LM], "omr": [TOKEN_LM],
          "speech": []}[task]
    out = [("greedy", DecoderSpec()),
           ("beam flashlight", DecoderSpec("beam", backend="flashlight")),
           ("beam pyctcdecode", DecoderSpec("beam", backend="pyctcdecode"))]
    for name, path, alpha, beta in lm:
        for backend in ("flashlight", "pyctcdecode"):
            if (backend, name) not in (("flashlight", "word LM"), ("pyctcdecode", "char LM")):
                out.append((f"beam {backend} + {name}", DecoderSpec("beam", backend=backend, lm=str(path), alpha=alpha,
                                                                    beta=beta)))
    if task == "speech":
        out.append(("beam flashlight + lexicon", DecoderSpec("beam", backend="flashlight", beam_width=50,
                                                             lexicon=words)))
    shipped = {"ocr": "ocr-en", "omr": "omr-semantic", "speech": "speech-commands"}[task]
    config = EXPORTS / f"{shipped}.decoding.json"
    if config.is_file():
        out.append((f"default ({config.name})", read_spec(config)))
    if device.startswith("cuda") and cuda_decoder_fault() is None:
        out.append(("beam cuda", DecoderSpec("beam", backend="cuda")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="ocr,speech,omr")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeat", type=int, default=3, help="Decode each set this many times; keep the fastest.")
    ap.add_argument("--sweep", default="", metavar="W,W,...",
                    help="Run both CPU backends at these beam widths and compare them at equal error rate.")
    args = ap.parse_args()
    folders = {"ocr": "ocr", "speech": "speech_commands", "omr": "primus"}
    need(*(SHARED / folders[t] for t in args.tasks.split(",")), data_option=False)
    import torch

    from recognize.core.modelfile import load_model
    torch.set_num_threads(args.threads)
    models = {"ocr": "ocr-en", "speech": "speech-commands", "omr": "omr-semantic"}
    widths = [int(w) for w in args.sweep.split(",") if w]
    print(f"torch {torch.__version__}, {args.threads} threads, device {args.device}; items/s = decoding only")
    for task in args.tasks.split(","):
        model = load_model(EXPORTS / f"{models[task]}.safetensors", args.device)
        sets = {"ocr": ocr_sets, "speech": speech_sets, "omr": omr_sets}[task](model)
        words = sorted({w for s in sets for r in s.refs for w in r.split()})
        print(f"\n{task}: {models[task]}")
        print(f"  {'set':<32} {'decoder':<44} {'error %':>8} {'items/s':>9} {'vs pyctcdecode':>14}" +
              ("  outside the words" if task == "speech" else ""))
        for s in sets:
            rows, batches, first = [], stored_batches(s.lps), stored_batches(s.lps[:4])
            for name, spec in (sweep(task, widths, words) if widths else decoders(task, words, args.device)):
                dec = make_decoder(spec, model.vocab, args.device)
                score(dec, first, s.refs[:4], s.error)  # warm-up (LM loading, allocations)
                result, hyps = min((score(dec, batches, s.refs, s.error) for _ in range(max(1, args.repeat))),
                                   key=lambda r: r[0].seconds)
                rows.append((name, result, hyps))
            pyctc = {n.replace("pyctcdecode", "X"): r for n, r, _ in rows if "pyctcdecode" in n}
            for name, result, hyps in rows:
                ref = pyctc.get(name.replace("flashlight", "X")) if "flashlight" in name else None
                ratio = f"{result.per_second / ref.per_second:.1f}x" if ref else ""
                extra = ""
                if task == "speech":
                    oov = sum(any(w not in words for w in h.split()) for h in hyps)
                    extra = f"  {oov}/{len(hyps)}"
                print(f"  {s.name[-32:]:<32} {name:<44} {100 * result.error:>8.3f} {result.per_second:>9.1f} "
                      f"{ratio:>14}{extra}")
            if widths:
                print(f"  {s.name[-32:]:<32} {equal_error(rows)}")


if __name__ == "__main__":
    main()
