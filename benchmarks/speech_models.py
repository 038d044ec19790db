"""Candidate speech models side by side: validation CTC loss and accuracy, then the test sets.

    .venv/bin/python benchmarks/speech_models.py MODEL... [--data ../shared/data] [--threads 2]

For each model (any format): the mean CTC loss per clip on the recipe's validation speakers (the
Speech Commands valid split, speaker hash, seed 1; word clips only) and its accuracy there, then
the accuracy on the three sets of benchmarks/speech.py (core10, all35, fsdd), every set decoded as
that benchmark decodes it (lexicon beam constrained to the set's words). The validation loss is
what chose the shipped model among averages of its runs (README, Benchmarks: Spoken commands); its
accuracy is too coarse for that (a clip is 0.6 points).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.shared_data import SHARED, need  # noqa: E402
from benchmarks.speech import ALL35, load_set, run_ours  # noqa: E402


def validation_loss(model, items) -> float:
    """Mean CTC negative log-likelihood per clip of the items' transcripts."""
    import torch

    from recognize.speech.predict import prepare
    lps = model.log_probs([prepare(it.key, model.preprocess).features for it in items], 32, sys.maxsize)
    total = 0.0
    for lp, it in zip(lps, items):
        target = torch.tensor([model.vocab.encode(it.text)])
        total += float(torch.nn.functional.ctc_loss(torch.from_numpy(lp)[:, None], target, [lp.shape[0]],
                                                    [target.shape[1]], reduction="sum"))
    return total / len(items)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    need(args.data / "speech_commands", args.data / "fsdd")
    import torch

    from recognize.core.runtime import open_model
    from recognize.speech.dataset import speech_commands_items
    torch.set_num_threads(args.threads)
    valid = speech_commands_items(args.data / "speech_commands", split="valid", seed=1, silence=False)
    sets = {name: load_set(name, args.data, 0) for name in ("core10", "all35", "fsdd")}
    print(f"{'model':<48}{'valid loss':>11}{'valid acc':>10}" + "".join(f"{n:>9}" for n in sets))
    for path in args.models:
        model = open_model(path, "cpu", args.threads)
        cells = [f"{validation_loss(model, valid):>11.4f}"]
        hyps, _ = run_ours(model, [it.key for it in valid], ALL35, 32)
        cells.append(f"{100 * sum(h == it.text for h, it in zip(hyps, valid)) / len(valid):>9.1f}%")
        for paths, refs, words in sets.values():
            hyps, _ = run_ours(model, paths, words, 32)
            cells.append(f"{100 * sum(h == r for h, r in zip(hyps, refs)) / len(refs):>8.1f}%")
        print(f"{str(path)[-47:]:<48}{''.join(cells)}", flush=True)


if __name__ == "__main__":
    main()
