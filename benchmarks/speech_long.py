"""Long files with real voices: 60-s recordings of ten commands each, spoken by unseen speakers.

    .venv/bin/python benchmarks/speech_long.py [--model exports/speech-commands.safetensors]
        [--data ../shared/data] [--split test|valid] [--layout minute|sequence] [--files N] [--seed 0]

Each file is 60 s of quiet pink noise (-50 dB) with ten real clips of the 10 core words laid in at
known times (one every 5.6 s, +-0.5 s), taken in turn from the clips of the 10 core words of the
Speech Commands test split (speaker hash, seed 1: the core10 set of benchmarks/speech.py, speakers
the model never heard), so 26 files use all 261 clips once; ``--split valid`` takes the validation
speakers' 122 clips instead (12 files), for tuning. The files go through the long-file path of
``recognize transcribe`` (windows, speech regions), decoded greedily, with the model's 35 words (its
default decoding) and with ``--vocabulary`` (the 10 words), with no ``--unk-threshold`` as in
benchmarks/speech.py and with the default 0.6 (doubtful words written ``<unk>``). ``--layout
sequence`` makes files of three clips 0.05-0.3 s apart instead (about 3.5 s: read whole, as one
utterance of three commands). Reported: word error rate against the words of each file, files with
all of them right, ``<unk>`` written, and the timing of the words that are right: a clip is one
second and its word is somewhere in it, so the reference is the clip, and a word is "in clip" when
its start and end lie within the clip's second (+-0.2 s). Where in the clip the word is no label
says (a level threshold catches the clicks and breaths of real recordings too), so the issue's bar,
start and end within 0.2 s of the truth, is checked on TTS voices, whose spans are known:
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

RATE, NOISE_DB = 16_000, -50.0


def minute(k: int, _previous_end: float, rng: random.Random) -> float:
    """Where clip ``k`` of a 60-s file starts: one every 5.6 s, +-0.5 s."""
    return 2.0 + 5.6 * k + rng.uniform(-0.5, 0.5)


def sequence(_k: int, previous_end: float, rng: random.Random) -> float:
    """Where the next clip of a spoken sequence starts: 0.05-0.3 s after the one before."""
    return previous_end + rng.uniform(0.05, 0.3) if previous_end else 0.2


LAYOUTS = {"minute": (10, 60.0, minute), "sequence": (3, None, sequence)}  # clips per file, seconds, placement


def make_files(paths: list[str], refs: list[str], folder: Path, count: int, seed: int, layout: str = "minute"):
    """``count`` wav files of the clips laid out as ``layout`` says and, for each, its
    ``[(word, clip start, clip end)]`` in seconds."""
    import soundfile as sf

    from recognize.speech.audio import load_audio
    from recognize.speech.augment import colored_noise
    per_file, seconds, place = LAYOUTS[layout]
    rng = random.Random(seed)
    order = list(range(len(paths)))
    rng.shuffle(order)
    files = []
    for f in range(count):
        clips, truth, end = [], [], 0.0
        for k, idx in enumerate(order[f * per_file:(f + 1) * per_file]):
            clips.append(load_audio(paths[idx], RATE))
            at = place(k, end, rng)
            end = at + len(clips[-1]) / RATE
            truth.append((refs[idx], at, end))
        audio = 10 ** (NOISE_DB / 20) * colored_noise(int((seconds or end + 0.2) * RATE), rng, "pink")
        for clip, (_, at, _) in zip(clips, truth):
            i = round(at * RATE)
            audio[i:i + len(clip)] += clip
        path = folder / f"{layout}{f:02d}.wav"
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
    ap.add_argument("--files", type=int, default=0, help="At most this many files (default: all the clips).")
    ap.add_argument("--layout", choices=LAYOUTS, default="minute")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    need(args.data / "speech_commands")
    import torch

    from recognize.core.decoders import DecoderSpec, make_decoder
    from recognize.core.runtime import open_model
    from recognize.speech.dataset import speech_commands_items
    from recognize.speech.predict import Decoding, prepare, recognize
    from recognize.speech.synth import vocabulary
    torch.set_num_threads(2)
    model = open_model(args.model, "cpu", 2)
    items = speech_commands_items(args.data / "speech_commands", split=args.split, seed=1, silence=False,
                                  words=CORE)
    paths, refs = [it.key for it in items], [it.text for it in items]
    per_file, seconds, _ = LAYOUTS[args.layout]
    count = min(args.files or len(paths), len(paths) // per_file)
    length = f"{seconds:.0f} s" if seconds else "about 3.5 s"
    print(f"model {args.model.name}; {count} files of {length}, {per_file} real core-word clips each "
          f"({args.split} speakers), seed {args.seed}")
    print(f"{'decoding':<34}{'WER %':>6}{'all right':>10}{'<unk>':>6}{'right':>8}{'in clip':>15}")
    core = DecoderSpec("beam", beam_width=50, lexicon=list(CORE))
    words = DecoderSpec("beam", beam_width=50, lexicon=sorted(vocabulary()))  # what transcribe decodes with
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(paths, refs, Path(tmp), count, args.seed, args.layout)
        for name, spec, threshold in (("--decoder greedy", None, 0.0), ("its 35 words", words, 0.0),
                                      ("--vocabulary (10 words)", core, 0.0),
                                      ("its 35 words, unk 0.6 (default)", words, 0.6),
                                      ("--vocabulary, unk 0.6", core, 0.6)):
            dec = Decoding(make_decoder(spec, model.vocab, runtime=model.runtime) if spec else None, threshold)
            transcripts = recognize(model, [prepare(p, model.preprocess) for p, _ in files], decoding=dec)
            wer, perfect, unknown, right, in_clip = score(files, transcripts)
            total = count * per_file
            print(f"{name:<34}{100 * wer:>6.2f}{f'{perfect}/{count}':>10}{unknown:>6}{f'{right}/{total}':>8}"
                  f"{f'{in_clip} ({100 * in_clip / max(right, 1):.1f} %)':>15}")


if __name__ == "__main__":
    main()
