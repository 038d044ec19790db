"""Write the shipped speech models' default decoding configs (exports/speech-commands*.decoding.json).

    .venv/bin/python data/speech_decoding.py

The commands models were trained on the 35 words of Speech Commands (real clips, FSDD's digits
among them, and TTS clips and sequences of the same words), so they decode with those words unless
told otherwise: a lexicon-constrained beam search (flashlight, width 50), which reads no word
outside them. `recognize transcribe --decoder greedy` reads character by character instead.
"""
from pathlib import Path

from recognize.core.decoders import DecoderSpec, write_spec
from recognize.speech.synth import vocabulary

EXPORTS = Path(__file__).resolve().parents[1] / "exports"
NOTE = ("the default decoding of recognize transcribe with this model (\"default\": true): only the 35 words it "
        "was trained on; --decoder greedy or --vocabulary WORDS override it (written by data/speech_decoding.py)")

for name in ("speech-commands", "speech-commands-fast"):
    spec = DecoderSpec(decoder="beam", backend="flashlight", beam_width=50, lexicon=sorted(vocabulary()))
    write_spec(spec, EXPORTS / f"{name}.decoding.json", {"default": True, "note": NOTE})
    print(f"wrote {EXPORTS / f'{name}.decoding.json'}")
