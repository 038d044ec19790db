"""How ``recognize transcribe --unk-threshold`` trades kept commands for rejected unknown words.

    .venv/bin/python benchmarks/speech_threshold.py [--model exports/speech-commands.safetensors]

On the validation speakers of the recipe's split (Speech Commands, speaker hash, seed 1): clips of
the 10 core words are decoded constrained to those words, as a user spotting commands would, and a
clip is right when its output is its word; clips of the other 25 words and ``_silence_`` are
rejected when every word of the output is ``<unk>`` (or there is none). The default threshold is
the largest that loses no right core word.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.shared_data import SHARED, need  # noqa: E402

THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "exports" / "speech-commands.safetensors")
    ap.add_argument("--data", type=Path, default=SHARED / "speech_commands")
    args = ap.parse_args()
    need(args.data)
    from benchmarks.speech import CORE
    from recognize.core.decoders import DecoderSpec, make_decoder
    from recognize.core.runtime import open_model
    from recognize.speech.dataset import speech_commands_items
    from recognize.speech.predict import UNKNOWN, Decoding, prepare, recognize
    model = open_model(args.model, "cpu", 2)
    items = speech_commands_items(args.data, split="valid", seed=1, silence=True)
    decoding = Decoding(make_decoder(DecoderSpec("beam", beam_width=50, lexicon=list(CORE)), model.vocab))
    results = recognize(model, [prepare(it.key, model.preprocess) for it in items], 32, decoding=decoding)
    core = [(it.text, r.words) for it, r in zip(items, results) if it.text in CORE]
    other = [r.words for it, r in zip(items, results) if it.text not in CORE]
    print(f"{args.model.name}: {len(core)} core-word clips, {len(other)} unknown-word and silence clips "
          "(validation speakers, seed 1)")
    for t in THRESHOLDS:
        right = sum(" ".join(w.text if w.confidence >= t else UNKNOWN for w in words) == ref for ref, words in core)
        rejected = sum(all(w.confidence < t for w in words) for words in other)
        print(f"  --unk-threshold {t:.1f}: core words right {right}/{len(core)} ({100 * right / len(core):.1f} %), "
              f"unknown/silence rejected {rejected}/{len(other)}")


if __name__ == "__main__":
    main()
