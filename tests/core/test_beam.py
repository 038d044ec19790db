"""Beam search backends and LMs on hand-made log-probs where the right answer is known."""
import itertools
import math
import string
import sys

import pytest
import torch

from recognize.core import decoders
from recognize.core.decode import greedy_decode
from recognize.core.decoders import DecoderError, DecoderSpec, choose_backend, make_decoder, read_spec, write_spec
from recognize.core.lm import build
from recognize.core.vocab import Vocabulary

from ..helpers import ctc_logits

VOCAB = Vocabulary(["<blank>", *string.ascii_lowercase, " "])
MUSIC = Vocabulary(["<blank>", "clef-G2", "note-C4_quarter", "note-D4_quarter", "note-E4_quarter", "barline"],
                   tokenizer="whitespace")
CORPUS = ["the cat sat on the mat", "a cat and a dog", "the cat ate", "my cat is a fat cat", "the dog sat"] * 4


def logits(frames, vocab=VOCAB) -> torch.Tensor:
    return ctc_logits(frames, vocab)


def spell(word: str, doubt: dict | None = None) -> list:
    """Frames spelling ``word`` with a blank after each letter; ``doubt`` replaces letter i by a mix."""
    frames = [""]
    for i, c in enumerate(word):
        frames += [(doubt or {}).get(i, c), ""]
    return frames


def run(spec: DecoderSpec, lp: torch.Tensor, vocab=VOCAB):
    return make_decoder(spec, vocab)(lp, torch.tensor([lp.shape[1]]))[0]


@pytest.fixture(scope="module")
def lms(tmp_path_factory):
    d = tmp_path_factory.mktemp("lm")
    return {"word": build(CORPUS, d / "word.klm", 3, "word").path,
            "char": build(CORPUS, d / "char.klm", 5, "char").path,
            "arpa": build(CORPUS, d / "word.arpa", 3, "word").path,
            "token": build(["clef-G2 note-C4_quarter note-D4_quarter note-E4_quarter barline"] * 5,
                           d / "music.klm", 3, "token").path}


def test_prefix_merging_beats_the_best_path():
    # two frames of p(a) = 0.4: the best path is blank-blank (0.36), but 'a' has 1 - 0.36 = 0.64
    lp = logits([{"": 0.6, "a": 0.4}] * 2)
    assert greedy_decode(lp, torch.tensor([2]), VOCAB)[0].text == ""
    for backend in ("flashlight", "pyctcdecode"):
        assert run(DecoderSpec("beam", backend=backend), lp).text == "a", backend


def test_beam_without_lm_keeps_a_clear_line():
    lp = logits(spell("the cat"))
    for backend in ("flashlight", "pyctcdecode"):
        h = run(DecoderSpec("beam", backend=backend), lp)
        assert h.text == "the cat"
        assert [(t.text, t.start, t.end) for t in h.tokens][:2] == [("t", 1, 2), ("h", 3, 4)]


def test_a_padded_batch_decodes_as_its_rows_alone():
    # the middle row repeats a letter across a run of sure blanks, which the search sees as one frame:
    # the letters stay apart, and their spans are the full frames'
    rows = [logits(spell("the cat"))[0], logits(["", "o", "", "", "", "", "o", ""])[0], logits(spell("a"))[0]]
    batch = torch.zeros(len(rows), max(len(r) for r in rows), len(VOCAB))
    for i, r in enumerate(rows):
        batch[i, :len(r)] = r
    decoder = make_decoder(DecoderSpec("beam", backend="flashlight"), VOCAB)
    hyps = decoder(batch, torch.tensor([len(r) for r in rows]))
    assert [h.text for h in hyps] == ["the cat", "oo", "a"]
    assert [(t.start, t.end) for t in hyps[1].tokens] == [(1, 2), (6, 7)]
    assert hyps[1].frames == 8


@pytest.mark.parametrize("unit,backend", [("word", "pyctcdecode"), ("char", "flashlight")])
def test_the_lm_settles_a_doubtful_letter(lms, unit, backend):
    lp = logits(spell("the cat", {5: {"o": 0.5, "a": 0.4}}))
    assert greedy_decode(lp, torch.tensor([lp.shape[1]]), VOCAB)[0].text == "the cot"
    assert run(DecoderSpec("beam", backend=backend, lm=str(lms[unit]), alpha=0.0), lp).text == "the cot"
    h = run(DecoderSpec("beam", backend=backend, lm=str(lms[unit]), alpha=1.0), lp)
    assert h.text == "the cat"
    assert h.tokens[5].text == "a" and h.tokens[5].confidence == pytest.approx(0.4 / 0.9001, abs=0.01)


def test_auto_picks_pyctcdecode_for_a_word_lm_and_flashlight_for_a_char_lm(lms):
    assert make_decoder(DecoderSpec("beam", lm=str(lms["word"])), VOCAB).settings()["backend"] == "pyctcdecode"
    assert make_decoder(DecoderSpec("beam", lm=str(lms["char"])), VOCAB).settings()["backend"] == "flashlight"
    assert make_decoder(DecoderSpec("beam"), VOCAB).settings()["backend"] == "flashlight"


def test_hotwords_pull_towards_a_word():
    lp = logits(spell("cot", {1: {"o": 0.5, "a": 0.4}}))
    assert run(DecoderSpec("beam"), lp).text == "cot"
    assert run(DecoderSpec("beam", hotwords=["cat"], hotword_weight=10.0), lp).text == "cat"


def test_nbest_lists_alternatives_best_first(lms):
    lp = logits(spell("cot", {1: {"o": 0.5, "a": 0.4}}))
    for backend in ("flashlight", "pyctcdecode"):
        h = run(DecoderSpec("beam", backend=backend, nbest=3), lp)
        texts = [t for t, _ in h.alternatives]
        scores = [s for _, s in h.alternatives]
        assert texts[0] == h.text == "cot" and "cat" in texts, backend
        assert scores == sorted(scores, reverse=True)
        assert h.nbest()[0] == {"text": "cot", "score": scores[0]}


def test_token_lm_for_music(lms):
    seq = ["clef-G2", "note-C4_quarter", {"note-D4_quarter": 0.4, "note-E4_quarter": 0.5}, "note-E4_quarter",
           "barline"]
    frames = [x for s in seq for x in ("", s)] + [""]
    lp = logits(frames, MUSIC)
    assert "note-E4_quarter note-E4_quarter" in greedy_decode(lp, torch.tensor([lp.shape[1]]), MUSIC)[0].text
    for backend in ("flashlight", "pyctcdecode"):
        h = run(DecoderSpec("beam", backend=backend, lm=str(lms["token"]), alpha=1.0), lp, MUSIC)
        assert h.text == "clef-G2 note-C4_quarter note-D4_quarter note-E4_quarter barline", backend


def test_an_arpa_file_without_sidecar_is_understood(lms, tmp_path):
    arpa = tmp_path / "copy.arpa"
    arpa.write_bytes(lms["arpa"].read_bytes())
    dec = make_decoder(DecoderSpec("beam", lm=str(arpa), alpha=1.0), VOCAB)
    assert dec.settings()["backend"] == "pyctcdecode" and dec.settings()["lm"]["unit"] == "word"


def test_impossible_combinations_are_refused(lms):
    with pytest.raises(DecoderError, match="word LM"):
        make_decoder(DecoderSpec("beam", backend="pyctcdecode", lm=str(lms["char"])), VOCAB)
    with pytest.raises(DecoderError, match="lexicon"):
        make_decoder(DecoderSpec("beam", backend="flashlight", lm=str(lms["word"])), VOCAB)
    with pytest.raises(DecoderError, match="hotwords"):
        make_decoder(DecoderSpec("beam", backend="flashlight", hotwords=["cat"]), VOCAB)
    with pytest.raises(DecoderError, match="cuda"):
        make_decoder(DecoderSpec("beam", backend="cuda"), VOCAB)
    with pytest.raises(DecoderError, match="token LM"):
        make_decoder(DecoderSpec("beam", lm=str(lms["token"])), VOCAB)
    with pytest.raises(DecoderError, match="a character LM cannot score a token model"):
        make_decoder(DecoderSpec("beam", lm=str(lms["char"])), MUSIC)
    with pytest.raises(DecoderError, match="a word LM that knows 0 of the model's 5 tokens"):  # English words, music
        make_decoder(DecoderSpec("beam", lm=str(lms["word"])), MUSIC)
    with pytest.raises(DecoderError, match="no such LM"):
        make_decoder(DecoderSpec("beam", lm="missing.klm"), VOCAB)


def test_decoding_configs_round_trip(lms, tmp_path):
    spec = DecoderSpec("beam", lm=str(lms["word"]), alpha=0.7, beta=1.5, beam_width=8)
    write_spec(spec, lms["word"].parent / "decoding.json", {"tuned": {"best": 0.1}})
    back = read_spec(lms["word"].parent / "decoding.json")
    assert back == spec


def test_the_cuda_backend_is_refused_while_torchaudio_has_its_kernel_bug(monkeypatch):
    """torchaudio <= 2.11's cuda_ctc_decoder aborted the process on an H200: on a GPU ``auto`` picks
    flashlight and ``--backend cuda`` is refused with the reason; a later torchaudio gets it back."""
    monkeypatch.setattr(decoders, "version", lambda name: "2.11.0+cu130")
    assert choose_backend(DecoderSpec("beam"), None, VOCAB, "cuda") == "flashlight"
    with pytest.raises(DecoderError, match="pytorch/audio#3754"):
        choose_backend(DecoderSpec("beam", backend="cuda"), None, VOCAB, "cuda")
    monkeypatch.setattr(decoders, "version", lambda name: "2.12.0")
    assert decoders.cuda_decoder_fault() is None
    assert choose_backend(DecoderSpec("beam"), None, VOCAB, "cuda") == "cuda"
    assert choose_backend(DecoderSpec("beam"), None, VOCAB, "cpu") == "flashlight"


@pytest.mark.skipif(not torch.cuda.is_available() or decoders.cuda_decoder_fault() is not None,
                    reason="needs a CUDA GPU and a torchaudio whose cuda_ctc_decoder works")
def test_cuda_backend_agrees_with_flashlight():
    torch.manual_seed(0)
    lp = torch.randn(8, 40, len(VOCAB)).mul(4).log_softmax(-1)
    n = torch.full((8,), 40)
    cpu = make_decoder(DecoderSpec("beam", backend="flashlight", beam_width=16), VOCAB)(lp, n)
    cuda = make_decoder(DecoderSpec("beam", backend="cuda", beam_width=16), VOCAB, "cuda")
    gpu = cuda(lp.cuda(), n.cuda())
    assert sum(a.text == b.text for a, b in zip(cpu, gpu)) >= 7
    stored = cuda(lp.numpy(), n.numpy())  # log-probs stored on the CPU (tune, benchmarks) go to the GPU
    assert [h.text for h in stored] == [h.text for h in gpu]


def test_lm_probabilities_are_modified_kneser_ney(lms):
    """Every context's distribution sums to one, and a unigram matches the closed form."""
    import kenlm
    model = kenlm.Model(str(lms["arpa"]))
    words = sorted({w for s in CORPUS for w in s.split()}) + ["</s>"]
    for context in (["the"], ["a"], ["<s>"], ["cat", "sat"]):
        state = kenlm.State()
        if context[0] == "<s>":
            model.BeginSentenceWrite(state)
            context = context[1:]
        else:
            model.NullContextWrite(state)
        for w in context:
            nxt = kenlm.State()
            model.BaseScore(state, w, nxt)
            state = nxt
        total = sum(10 ** model.BaseScore(state, w, kenlm.State()) for w in words + ["<unk>"])
        assert total == pytest.approx(1.0, abs=1e-3), context
    # the unknown word's probability is the interpolation mass spread uniformly: gamma / |V|
    assert 10 ** model.score("<unk>", bos=False, eos=False) < min(10 ** model.score(w, bos=False, eos=False)
                                                                  for w in words)
    assert math.isfinite(model.perplexity("the cat sat"))


def test_the_best_path_is_taken_as_alignment_only_when_it_spells_the_ids(monkeypatch):
    import torchaudio.functional as F

    from recognize.core.align import best_path, forced_path
    torch.manual_seed(0)
    lp = (torch.randn(40, len(VOCAB)) * 3).log_softmax(-1)
    greedy = best_path(lp)
    for ids in (greedy[2], VOCAB.encode("cat"), VOCAB.encode("aa")):
        path, scores = forced_path(lp, ids)
        ref_path, ref_scores = F.forced_align(lp[None], torch.tensor([ids], dtype=torch.int32), blank=0)
        assert scores.sum() == pytest.approx(float(ref_scores.sum()), abs=1e-4)  # the Viterbi score
        runs = [int(t) for k, t in enumerate(path) if t != 0 and (k == 0 or path[k - 1] != t)]
        assert runs == ids
    cat = forced_path(lp, VOCAB.encode("cat"))
    monkeypatch.setattr(F, "forced_align", None)  # no search when the best path spells the ids
    assert (forced_path(lp, greedy[2])[0] == greedy[0]).all()
    with pytest.raises(TypeError):
        forced_path(lp, VOCAB.encode("cat"))
    monkeypatch.delitem(sys.modules, "torch")  # an ONNX model's process: aligned in numpy, torch not imported
    path, scores = forced_path(lp.numpy(), VOCAB.encode("cat"))
    assert "torch" not in sys.modules and scores.sum() == pytest.approx(cat[1].sum(), abs=1e-4)


def test_a_quantised_lm_scores_like_the_full_one(tmp_path):
    import kenlm

    from recognize.core.lm import LMError, read_info
    full = build(CORPUS * 5, tmp_path / "full.klm", 3, "word")
    small = build(CORPUS * 5, tmp_path / "q8.klm", 3, "word", quantize=8)
    assert read_info(small.path).source["quantize"] == 8
    for s in ("the cat sat on the mat", "a dog ate my fat cat", "mat the on"):
        assert kenlm.Model(str(small.path)).score(s) == pytest.approx(kenlm.Model(str(full.path)).score(s), abs=0.05)
    with pytest.raises(LMError, match="ARPA"):
        build(CORPUS, tmp_path / "x.arpa", 3, "word", quantize=8)


def test_the_numpy_viterbi_aligns_as_torchaudio_does():
    """Installs without torch align beam results in numpy: same path score and spelling."""
    import torchaudio.functional as F

    from recognize.core.align import viterbi
    g = torch.Generator().manual_seed(3)
    for t, text in ((40, "cat"), (12, "aa"), (30, "the cat sat"), (9, "abcd"), (25, "aab")):
        lp = (torch.randn(t, len(VOCAB), generator=g) * 3).log_softmax(-1)
        ids = VOCAB.encode(text)
        path, scores = viterbi(lp.numpy(), ids)
        ref_path, ref_scores = F.forced_align(lp[None], torch.tensor([ids], dtype=torch.int32), blank=0)
        assert scores.sum() == pytest.approx(float(ref_scores.sum()), abs=1e-4), text
        assert scores == pytest.approx(lp.numpy()[range(t), path])  # each frame's log-prob of its label
        runs = [int(x) for k, x in enumerate(path) if x != 0 and (k == 0 or path[k - 1] != x)]
        assert runs == ids, text


@pytest.mark.parametrize("setup", ["free", "char LM", "lexicon", "lexicon + word LM"])
def test_flashlight_is_built_as_torchaudio_builds_it(lms, setup, tmp_path):
    """The decoder is built from flashlight-text without torch; torchaudio's ``ctc_decoder`` built the
    same way gives the same results on random log-probs."""
    from torchaudio.models.decoder import ctc_decoder

    from recognize.core import beam_flashlight as bf
    words = ["the", "cat", "sat", "on", "mat", "a", "dog", "and"]
    spec = DecoderSpec("beam", backend="flashlight", beam_width=8, nbest=3, alpha=0.7, beta=0.3,
                       lm=str(lms["char"]) if setup == "char LM" else str(lms["word"]) if "LM" in setup else None,
                       lexicon=words if "lexicon" in setup else None)
    ours = make_decoder(spec, VOCAB)
    names = bf.token_names(VOCAB)
    options = dict(tokens=names, lm=spec.lm, nbest=3, beam_size=8, beam_size_token=bf.TOKENS_PER_FRAME,
                   beam_threshold=bf.BEAM_THRESHOLD, log_add=True, lm_weight=spec.alpha, blank_token=bf.BLANK_NAME,
                   sil_token=bf.SPACE, unk_word="<unk>")
    if spec.lexicon:
        (tmp_path / "lex.txt").write_text("".join(f"{w}\t{' '.join(w)}\n" for w in words))
        ref = ctc_decoder(lexicon=str(tmp_path / "lex.txt"), word_score=spec.beta, **options)
    else:
        (tmp_path / "dict.txt").write_text("\n".join([*names, "<unk>"]) + "\n")
        ref = ctc_decoder(lexicon=None, sil_score=spec.beta, lm_dict=str(tmp_path / "dict.txt") if spec.lm else None,
                          **options)
    g = torch.Generator().manual_seed(5)
    for _ in range(5):
        lp = (torch.randn(1, 30, len(VOCAB), generator=g) * 2).log_softmax(-1)
        keep = bf.searched_frames(lp[0, :, 0].numpy())
        searched = lp[:, torch.from_numpy(keep)].contiguous()
        expected = ref(searched)[0]
        got = ours._decoder.decode(searched.data_ptr(), searched.shape[1], searched.shape[2])[:3]
        merged = [[t for t, _ in itertools.groupby(r.tokens) if t != 0] for r in got]  # as torchaudio gives them
        assert merged == [h.tokens.tolist() for h in expected]
        assert [r.score for r in got] == pytest.approx([h.score for h in expected])
        if spec.lexicon:
            assert [ours._words(r) for r in got] == [h.words for h in expected]
