"""Long files with real voices: 60-s recordings of ten commands each, spoken by unseen speakers.

    .venv/bin/python benchmarks/speech_long.py [--model exports/speech-commands.safetensors]
        [--data ../shared/data] [--split test|valid] [--files 26] [--seed 0]

Each file is 60 s of quiet pink noise (-50 dB) with ten real clips of the 10 core words laid in at
known times (one every 5.6 s, +-0.5 s), taken in turn from the clips of the 10 core words of the
Speech Commands test split (speaker hash, seed 1: the core10 set of benchmarks/speech.py, speakers
the model never heard), so 26 files use all 261 clips once; ``--split valid`` takes the validation
speakers' 122 clips instead (12 files), for tuning. The files go through the long-file path of
``recognize transcribe`` (windows, speech regions), greedy and with ``--vocabulary`` (the 10 words),
with no ``--unk-threshold`` as in benchmarks/speech.py and with the default 0.6 (doubtful words
written ``<unk>``). Reported: word error rate against the ten words of each file, files with all ten
right, ``<unk>`` written, and the timing of the words that are right: a clip is one second and its
word is somewhere in it, so the reference is the clip, and a word is "in clip" when its start and
end lie within the clip's second (+-0.2 s). Where in the clip the word is no label says (a level
threshold catches the clicks and breaths of real recordings too), so the issue's bar, start and end
within 0.2 s of the truth, is checked on TTS voices, whose spans are known:
tests/speech/test_shipped_commands_model.py.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.shared_data import SHARED, need  # noqa: E402
from benchmarks.speech import CORE  # noqa: E402

RATE, SECONDS, PER_FILE = 16_000, 60.0, 10


def make_files(paths: list[str], refs: list[str], folder: Path, count: int, seed: int):
    """``count`` wav files and, for each, its ``[(word, clip start, clip end)]`` in seconds."""
    from recognize.speech.audio import load_audio
    from recognize.speech.augment import colored_noise
    rng = random.Random(seed)
    order = list(range(len(paths)))
    rng.shuffle(order)
    files = []
    for f in range(count):
        audio = 10 ** (-50 / 20) * colored_noise(int(SECONDS * RATE), rng, "pink")
        truth = []
        for k, idx in enumerate(order[f * PER_FILE:(f + 1) * PER_FILE]):
            clip = load_audio(paths[idx], RATE)
            at = 2.0 + 5.6 * k + rng.uniform(-0.5, 0.5)
            i = round(at * RATE)
            audio[i:i + len(clip)] += clip
            truth.append((refs[idx], at, at + len(clip) / RATE))
        path = folder / f"long{f:02d}.wav"
        import soundfile as sf
        sf.write(path, np.clip(audio, -1, 1), RATE, subtype="PCM_16")
        files.append((path, truth))
    return files


def score(files, transcripts) -> tuple[float, int, int, int, int]:
    """WER, files with all words right, ``<unk>`` written, right words, and of those the words
    within their clip (+-0.2 s)."""
    from recognize.core.metrics import error_rates
    from recognize.speech.predict import UNKNOWN
    refs = [" ".join(w for w, *_ in truth) for _, truth in files]
    hyps = [" ".join(w.text for w in t.words) for t in transcripts]
    wer = error_rates(refs, hyps).wer
    perfect = sum(r == h for r, h in zip(refs, hyps))
    unknown = sum(w.text == UNKNOWN for t in transcripts for w in t.words)
    right = in_clip = 0
    for (_, truth), t in zip(files, transcripts):
        for word, c0, c1 in truth:  # the hypothesis word of that text that overlaps the clip most
            near = [w for w in t.words if w.text == word and w.end > c0 and w.start < c1]
            if near:
                right += 1
                w = max(near, key=lambda w: min(w.end, c1) - max(w.start, c0))
                in_clip += w.start >= c0 - 0.2 and w.end <= c1 + 0.2
    return wer, perfect, unknown, right, in_clip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "exports" / "speech-commands.safetensors")
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--split", choices=("test", "valid"), default="test")
    ap.add_argument("--files", type=int, default=26)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    need(args.data / "speech_commands")
    import torch

    from recognize.core.decoders import DecoderSpec, make_decoder
    from recognize.core.runtime import open_model
    from recognize.speech.dataset import speech_commands_items
    from recognize.speech.predict import Decoding, prepare, recognize
    torch.set_num_threads(2)
    model = open_model(args.model, "cpu", 2)
    items = speech_commands_items(args.data / "speech_commands", split=args.split, seed=1, silence=False,
                                  words=CORE)
    paths, refs = [it.key for it in items], [it.text for it in items]
    count = min(args.files, len(paths) // PER_FILE)
    print(f"model {args.model.name}; {count} files of {SECONDS:.0f} s, {PER_FILE} real core-word clips each "
          f"({args.split} speakers), seed {args.seed}")
    print(f"{'decoding':<34}{'WER %':>6}{'all right':>10}{'<unk>':>6}{'right':>8}{'in clip':>15}")
    lexicon = DecoderSpec("beam", beam_width=50, lexicon=list(CORE))
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(paths, refs, Path(tmp), count, args.seed)
        for name, spec, threshold in (("greedy", None, 0.0), ("--vocabulary", lexicon, 0.0),
                                      ("greedy, --unk-threshold 0.6", None, 0.6),
                                      ("--vocabulary, --unk-threshold 0.6", lexicon, 0.6)):
            dec = Decoding(make_decoder(spec, model.vocab, runtime=model.runtime) if spec else None, threshold)
            transcripts = recognize(model, [prepare(p, model.preprocess) for p, _ in files], decoding=dec)
            wer, perfect, unknown, right, in_clip = score(files, transcripts)
            print(f"{name:<34}{100 * wer:>6.2f}{f'{perfect}/{count}':>10}{unknown:>6}{right:>8}"
                  f"{f'{in_clip} ({100 * in_clip / max(right, 1):.1f} %)':>15}")


if __name__ == "__main__":
    main()
