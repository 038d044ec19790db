"""Decoding stored log-probs: batches padded and length-sorted, hypotheses back in input order."""
import numpy as np

from recognize.core.decode import GreedyDecoder
from recognize.core.tuning import decode_batches, score, stored_batches
from recognize.core.vocab import Vocabulary


def spelling(text: str, vocab: Vocabulary, pad_frames: int) -> np.ndarray:
    """Log-probs ``[T, V]`` whose best path spells ``text`` (a blank between letters, blanks after)."""
    ids = [i for t in vocab.encode(text) for i in (t, 0)] + [0] * pad_frames
    lp = np.full((len(ids), len(vocab)), np.log(0.01 / (len(vocab) - 1)), np.float32)
    lp[np.arange(len(ids)), ids] = np.log(0.99)
    return lp


def test_hypotheses_come_back_in_input_order_whatever_the_batching():
    vocab = Vocabulary.from_texts(["abc"])
    texts = ["cab", "a", "bcab", "", "ccc", "ba"]
    lps = [spelling(t, vocab, pad) for t, pad in zip(texts, [3, 9, 0, 5, 1, 7])]
    for batch_size in (1, 2, 4, 32):
        batches = stored_batches(lps, batch_size)
        assert [x.shape[1] for _, x, _ in batches] == sorted(x.shape[1] for _, x, _ in batches)
        assert [h.text for h in decode_batches(GreedyDecoder(vocab), batches)] == texts
    def wrong(refs, hyps):
        return sum(r != h for r, h in zip(refs, hyps)) / len(refs)
    result, hyps = score(GreedyDecoder(vocab), stored_batches(lps), texts[::-1], wrong)
    assert hyps == texts and result.error == 1 and result.items == len(texts)  # refs reversed: none match
