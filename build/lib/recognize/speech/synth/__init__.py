"""Synthetic speech for spoken commands from offline TTS engines (espeak-ng, MBROLA, flite, pico, festival).

``data/setup_tts.sh`` installs the engines on Debian. ``voices`` finds what is installed and calls the
engine binaries, ``words`` holds the vocabulary, ``generate`` makes word clips and command sequences,
deterministic in ``(seed, index)``, and writes them as a dataset with a manifest.
"""
from .generate import SynthConfig, synth_sequence, synth_word_clip, trim_silence, write_dataset
from .voices import ENGINES, SynthesisError, Voice, available_voices, voices_by_engine
from .words import CORE_WORDS, WORDS, random_sequence, vocabulary

__all__ = [
    "CORE_WORDS", "ENGINES", "WORDS", "SynthConfig", "SynthesisError", "Voice", "available_voices",
    "random_sequence", "synth_sequence", "synth_word_clip", "trim_silence", "vocabulary", "voices_by_engine",
    "write_dataset",
]
