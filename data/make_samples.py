"""Write the bundled samples the demo reads: data/samples/ocr, data/samples/speech, data/samples/omr.

    .venv/bin/python data/make_samples.py [--speech-commands ../shared/data/speech_commands]

OCR lines are rendered from a seed no recipe trains on (2026), at their native resolution, so the
demo reads lines the shipped model has never seen. Speech samples are real Speech Commands clips
from the speaker-disjoint test split of the recipe's seed (speakers the model never heard; CC BY 4.0,
Warden 2018) and one generated recording with several commands at known times. Score samples are
generated incipits (seed 2026, no recipe trains on it) in the PrIMuS layout, clean and
camera-distorted, with their labels.
"""
from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import numpy as np

from recognize.ocr.synth.generate import synth_image

SAMPLES = Path(__file__).parent / "samples"
OUT = SAMPLES / "ocr"
SEED, COUNT = 2026, 8
SPEECH_WORDS = ("yes", "no", "left", "right", "stop", "go", "seven", "forward")
RECIPE_SEED = 1  # recipes/speech_commands.yaml splits Speech Commands by speaker with this seed


def speech_samples(commands: Path) -> None:
    from recognize.speech.dataset import speech_commands_items
    from recognize.speech.synth.generate import SynthConfig, make_sample
    out = SAMPLES / "speech"
    out.mkdir(parents=True, exist_ok=True)
    test = speech_commands_items(commands, split="test", seed=RECIPE_SEED, silence=False, words=SPEECH_WORDS)
    for word in SPEECH_WORDS:
        src = Path(next(it.key for it in test if it.text == word))
        dst = out / f"{word}_{src.stem.split('_')[0]}.wav"
        shutil.copyfile(src, dst)
        print(f"{dst.name}\t{word}")
    # a 12-s recording with four commands by different engines over quiet noise
    import soundfile as sf
    rng = random.Random(SEED)
    audio = np.zeros(12 * 16_000, np.float32)
    said = []
    for k, word in enumerate(("go", "left", "stop", "yes")):
        s = make_sample("words", k, SEED, SynthConfig(words=(word,)))
        at = 1.0 + 2.7 * k + rng.uniform(0, 0.5)
        i = round(at * 16_000)
        audio[i: i + len(s.audio)] += s.audio
        said.append(f"{word}\t{at + s.spans[0][1]:.2f}\t{at + s.spans[0][2]:.2f}")
    audio += 0.002 * np.random.default_rng(SEED).standard_normal(len(audio)).astype(np.float32)
    sf.write(out / "four_commands.wav", audio, 16_000, subtype="PCM_16")
    (out / "four_commands.times.tsv").write_text("word\tstart\tend\n" + "\n".join(said) + "\n")
    print("four_commands.wav\t" + " ".join(r.split("\t")[0] for r in said))


def omr_samples(count: int = 4) -> None:
    from recognize.omr.synth.generate import make_sample, write_sample
    out = SAMPLES / "omr"
    out.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        sample = make_sample(SEED, i, distorted=True)
        write_sample(out, sample)
        print(f"{sample.id}\t{' '.join(sample.semantic)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speech-commands", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared" / "data" / "speech_commands")
    args = ap.parse_args()
    speech_samples(args.speech_commands)
    omr_samples()
    OUT.mkdir(parents=True, exist_ok=True)
    for i in range(COUNT):
        img, text = synth_image(i, SEED)
        img.save(OUT / f"line{i:02d}.png", optimize=True)
        (OUT / f"line{i:02d}.gt.txt").write_text(text + "\n", encoding="utf-8")
        print(f"line{i:02d}.png\t{img.size[0]}x{img.size[1]}\t{text}")


if __name__ == "__main__":
    main()
