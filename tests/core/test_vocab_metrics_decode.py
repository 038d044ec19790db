import math

import pytest
import torch

from recognize.core.data import BucketBatchSampler, Item, ctc_min_frames, feasible
from recognize.core.decode import greedy_decode
from recognize.core.metrics import error_rates
from recognize.core.vocab import BLANK, Vocabulary


def test_vocab_blank_is_zero_and_roundtrips():
    v = Vocabulary.from_texts(["hello world"])
    assert v.tokens[0] == BLANK
    assert v.decode(v.encode("hello")) == "hello"
    assert Vocabulary.from_dict(v.to_dict()) == v


def test_unknown_characters_are_counted_not_silently_dropped():
    v = Vocabulary.from_texts(["abc"])
    assert v.encode("abXcX") == v.encode("abc")
    assert v.unknown["X"] == 2
    assert v.missing("aXb") == ["X"]


def test_multi_character_tokens():
    v = Vocabulary.from_texts(["clef-G2 note-C4_quarter barline"], tokenizer="whitespace")
    ids = v.encode("clef-G2 barline")
    assert len(ids) == 2 and v.decode(ids) == "clef-G2 barline"


def test_extended_vocabulary_keeps_old_ids():
    v = Vocabulary.from_texts(["abc"])
    w = v.extended(["abz"])
    assert w.tokens[: len(v)] == v.tokens and "z" in w


def lp_from_path(path, vocab_size, p=0.9):
    """Log-probs [1, T, V] whose best path is ``path``."""
    T = len(path)
    probs = torch.full((1, T, vocab_size), (1 - p) / (vocab_size - 1))
    for t, k in enumerate(path):
        probs[0, t, k] = p
    return probs.log()


def test_greedy_collapses_repeats_and_blanks_with_spans():
    v = Vocabulary([BLANK, "a", "b"])
    #          frames: 0 1 2 3 4 5 6
    lp = lp_from_path([1, 1, 0, 1, 2, 2, 0], 3)
    (h,) = greedy_decode(lp, torch.tensor([7]), v)
    assert h.text == "aab"
    assert [(t.start, t.end) for t in h.tokens] == [(0, 2), (3, 4), (4, 6)]
    assert all(math.isclose(t.confidence, 0.9, rel_tol=1e-5) for t in h.tokens)


def test_greedy_respects_lengths():
    v = Vocabulary([BLANK, "a", "b"])
    lp = lp_from_path([1, 0, 2, 2], 3)
    (h,) = greedy_decode(lp, torch.tensor([2]), v)
    assert h.text == "a"


def test_error_rates():
    r = error_rates(["abcd", "hello world"], ["abed", "hello world"])
    assert r.cer == pytest.approx(1 / 15)
    assert r.wer == pytest.approx(1 / 3)
    assert r.seq == pytest.approx(0.5)


def test_ctc_feasibility_counts_repeats_and_drops_short_samples(caplog):
    v = Vocabulary.from_texts(["aab"])
    assert ctc_min_frames(v.encode("aab")) == 4
    items = [Item("ok", "aab", 16), Item("short", "aab", 12)]
    kept = feasible(items, v, lambda n: n // 4)
    assert [i.key for i in kept] == ["ok"]
    assert "too short" in caplog.text


def test_bucket_sampler_respects_budget_and_is_deterministic():
    lengths = [10 * (i % 17 + 1) for i in range(200)]
    s = BucketBatchSampler(lengths, budget=600, max_batch=8, seed=3)
    batches = s.batches()
    assert sorted(i for b in batches for i in b) == list(range(200))
    assert all(len(b) * max(lengths[i] for i in b) <= 600 or len(b) == 1 for b in batches)
    assert all(len(b) <= 8 for b in batches)
    assert s.batches() == batches
    s.set_epoch(1)
    assert s.batches() != batches
    s.set_epoch(0, skip=5)
    assert list(s) == batches[5:]


def test_bucket_sampler_shares_batches_between_processes():
    lengths = [10 * (i % 17 + 1) for i in range(203)]
    whole = BucketBatchSampler(lengths, budget=600, max_batch=8, seed=3).batches()
    ranks = [BucketBatchSampler(lengths, 600, 8, True, 3, num_replicas=3, rank=r).batches() for r in range(3)]
    assert len({len(b) for b in ranks}) == 1  # training: the same number of steps on every process
    assert {tuple(b) for r in ranks for b in r} == {tuple(b) for b in whole}
    valid = [BucketBatchSampler(lengths, 600, 8, False, num_replicas=3, rank=r, even=False).batches() for r in range(3)]
    assert sorted(i for r in valid for b in r for i in b) == list(range(203))  # validation: each sample once


def test_plain_sampler_makes_random_batches_of_max_batch():
    lengths = [10 * (i % 17 + 1) for i in range(100)]
    s = BucketBatchSampler(lengths, budget=600, max_batch=8, seed=3, bucketing=False)
    batches = s.batches()
    assert sorted(i for b in batches for i in b) == list(range(100)) and all(len(b) <= 8 for b in batches)
    assert sum(len(b) == 8 for b in batches) == 12  # no budget: full batches whatever the lengths
    spread = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches]
    assert sum(spread) / len(spread) > 80  # mixed lengths, unlike bucketed batches
