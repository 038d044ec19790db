"""Lexicon-constrained decoding on hand-made log-probs where the right answer is known."""
import string

import pytest
import torch

from recognize.core.decode import greedy_decode
from recognize.core.decoders import DecoderError, DecoderSpec, make_decoder
from recognize.core.lexicon import LexiconError, read_word_list
from recognize.core.vocab import Vocabulary

from ..helpers import ctc_logits

VOCAB = Vocabulary(["<blank>", *string.ascii_lowercase, " ", "'"])
COMMANDS = ["yes", "no", "up", "down", "go", "stop"]


def logits(frames) -> torch.Tensor:
    return ctc_logits(frames, VOCAB)


def LexiconDecoder(words, vocab):
    return make_decoder(DecoderSpec("beam", beam_width=50, lexicon=words), vocab)


def decode(dec, lp: torch.Tensor):
    return dec(lp, torch.tensor([lp.shape[1]]))[0]


def test_constrained_output_corrects_a_misspelling():
    lp = logits(["", "y", "", {"a": 0.5, "e": 0.4}, "", "s", ""])
    assert greedy_decode(lp, torch.tensor([7]), VOCAB)[0].text == "yas"
    h = decode(LexiconDecoder(COMMANDS, VOCAB), lp)
    assert h.text == "yes"
    assert [(t.text, t.start) for t in h.tokens] == [("y", 1), ("e", 3), ("s", 5)]
    assert h.tokens[1].confidence == pytest.approx(0.4 / 0.9, abs=0.01)  # the forced 'e' is doubtful


def test_sequences_with_and_without_separator():
    dec = LexiconDecoder(COMMANDS, VOCAB)
    spaced = decode(dec, logits(["g", "o", "", " ", "", "u", "p", ""]))
    assert spaced.text == "go up" and [t.text for t in spaced.tokens] == ["g", "o", " ", "u", "p"]
    run_on = decode(dec, logits(["", "s", "t", "o", "p", "", "n", "o", ""]))
    assert run_on.text == "stop no"  # words may follow each other without the separator
    assert [(t.text, t.start, t.end) for t in run_on.tokens][3:6] == [("p", 4, 5), (" ", 5, 5), ("n", 6, 7)]


def test_repeated_letters_and_silence():
    dec = LexiconDecoder(["off", "on"], VOCAB)
    assert decode(dec, logits(["o", "f", "", "f", ""])).text == "off"
    silent = decode(dec, logits([""] * 10))
    assert silent.text == "" and silent.tokens == []


def test_nothing_outside_the_word_list_can_come_out():
    dec = LexiconDecoder(COMMANDS, VOCAB)
    torch.manual_seed(0)
    lp = torch.randn(16, 30, len(VOCAB)).mul(3).log_softmax(-1)
    for h in dec(lp, torch.full((16,), 30)):
        assert all(w in COMMANDS for w in h.text.split()), h.text
    free = greedy_decode(lp, torch.full((16,), 30), VOCAB)
    assert any(w not in COMMANDS for h in free for w in h.text.split())  # the test is not vacuous


def test_word_lists(tmp_path):
    f = tmp_path / "words.txt"
    f.write_text("# commands\nyes\nno  # negative\n\nyes\n")
    assert read_word_list(str(f)) == ["yes", "no"]
    assert read_word_list("yes, no stop") == ["yes", "no", "stop"]
    with pytest.raises(LexiconError, match="no words"):
        read_word_list(" , ")
    with pytest.raises(DecoderError, match="'Yes'"):
        LexiconDecoder(["Yes"], VOCAB)
    with pytest.raises(DecoderError, match="separator"):
        LexiconDecoder(["ab"], Vocabulary(["<blank>", "a", "b"]))
