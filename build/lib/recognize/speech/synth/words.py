"""The command vocabulary: the 35 Speech Commands v2 words, the 10 core commands, and random sequences."""
from __future__ import annotations

import random
from collections.abc import Sequence

WORDS: tuple[str, ...] = (
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward", "four", "go",
    "happy", "house", "learn", "left", "marvin", "nine", "no", "off", "on", "one", "right", "seven",
    "sheila", "six", "stop", "three", "tree", "two", "up", "visual", "wow", "yes", "zero",
)
CORE_WORDS: tuple[str, ...] = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
DIGIT_WORDS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_SETS = {"all": WORDS, "core": CORE_WORDS, "digits": DIGIT_WORDS}


def vocabulary(name: str = "all") -> tuple[str, ...]:
    """A named word set: ``all`` (35 words), ``core`` (10 commands) or ``digits``."""
    try:
        return _SETS[name]
    except KeyError:
        raise ValueError(f"unknown vocabulary {name!r} (use {', '.join(_SETS)})") from None


def random_sequence(rng: random.Random, words: Sequence[str] = WORDS, min_words: int = 2,
                    max_words: int = 5) -> list[str]:
    """``min_words``..``max_words`` words drawn with replacement (repeats allowed, as in "go go")."""
    if not words or not 1 <= min_words <= max_words:
        raise ValueError(f"need words and 1 <= min_words <= max_words, got {min_words}..{max_words}")
    return [rng.choice(words) for _ in range(rng.randint(min_words, max_words))]
