"""Dataset readers on generated trees: Speech Commands layout, FSDD names, manifests, speaker-disjoint splits."""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import soundfile as sf

from recognize.core.data import Item
from recognize.speech.audio import load_audio
from recognize.speech.dataset import (
    fsdd_items,
    manifest_items,
    noise_files,
    read_manifest,
    speaker_of,
    speech_commands_items,
    split_by_speaker,
    which_split,
)
from recognize.speech.features import FeatureConfig, log_mel, num_frames

WORDS = ["yes", "no", "up"]
SPEAKERS = [f"{i:08x}" for i in range(0x1a2b3c00, 0x1a2b3c00 + 40 * 7919, 7919)]  # 40 fake speaker hashes


def tone(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    g = np.random.default_rng(seed)
    n = round(seconds * rate)
    return (0.3 * np.sin(2 * np.pi * 300 * np.arange(n) / rate) + 0.01 * g.standard_normal(n)).astype(np.float32)


@pytest.fixture(scope="module")
def commands(tmp_path_factory):
    """Words x speakers x 1-2 takes of 0.1-0.25 s, 3 silence clips, 1 background-noise file."""
    root = tmp_path_factory.mktemp("speech_commands")
    for w, word in enumerate(WORDS):
        (root / word).mkdir()
        for s, spk in enumerate(SPEAKERS):
            for take in range(1 + (s + w) % 2):
                seconds = 0.1 + 0.05 * ((s + take) % 4)
                sf.write(str(root / word / f"{spk}_nohash_{take}.wav"), tone(seconds, 16_000, s), 16_000)
    (root / "_silence_").mkdir()
    for i in range(3):
        sf.write(str(root / "_silence_" / f"{1000 + i}.wav"), tone(0.2, 16_000, i) * 0.01, 16_000)
    (root / "_background_noise_").mkdir()
    sf.write(str(root / "_background_noise_" / "white_noise.wav"), tone(0.5, 16_000) * 0.1, 16_000)
    (root / "_background_noise_" / "README.md").write_text("noise\n")
    (root / "LICENSE").write_text("CC BY 4.0\n")
    return root


def speakers(items: list[Item]) -> set[str]:
    return {speaker_of(it.key) for it in items}


# --- Speech Commands --------------------------------------------------------------------------------------


def test_hash_split_is_speaker_disjoint_and_complete(commands):
    parts = {s: speech_commands_items(commands, s) for s in ("train", "valid", "test")}
    everything = speech_commands_items(commands, "all")
    assert sum(len(p) for p in parts.values()) == len(everything) > 0
    assert {it.key for p in parts.values() for it in p} == {it.key for it in everything}
    spk = {s: speakers(p) for s, p in parts.items()}
    assert not (spk["train"] & spk["valid"] or spk["train"] & spk["test"] or spk["valid"] & spk["test"])
    assert spk["train"] and spk["valid"] | spk["test"]
    assert [it.key for it in speech_commands_items(commands, "valid")] == [it.key for it in parts["valid"]]
    # another seed: another split, just as disjoint
    other = {s: speakers(speech_commands_items(commands, s, seed=7)) for s in ("train", "valid", "test")}
    assert other != spk and not (other["train"] & (other["valid"] | other["test"]))


def test_transcripts_silence_and_noise_folders(commands):
    items = speech_commands_items(commands, "all")
    texts = {it.text for it in items}
    assert texts == {"yes", "no", "up", ""}
    silence = [it for it in items if it.text == ""]
    assert len(silence) == 3 and all("/_silence_/" in it.key for it in silence)
    assert not any("_background_noise_" in it.key for it in items)
    no_silence = speech_commands_items(commands, "all", silence=False)
    assert len(no_silence) == len(items) - 3
    only = speech_commands_items(commands, "all", words=["YES"], silence=False)
    assert {it.text for it in only} == {"yes"}


def test_item_length_is_the_real_feature_length(commands):
    cfg = FeatureConfig(n_mels=64)
    items = speech_commands_items(commands, "all", features=cfg)[::17]
    for it in items:
        assert it.length == log_mel(load_audio(it.key), cfg).shape[-1]


def test_official_lists_are_used_and_kept_speaker_disjoint(commands, tmp_path):
    root = tmp_path / "listed"
    root.mkdir()
    for sub in commands.iterdir():
        (root / sub.name).symlink_to(sub)
    a, b, c = SPEAKERS[:3]
    (root / "validation_list.txt").write_text(f"yes/{a}_nohash_0.wav\n")
    (root / "testing_list.txt").write_text(f"no/{b}_nohash_0.wav\nup/{c}_nohash_0.wav\n")
    valid = speech_commands_items(root, "valid")
    test = speech_commands_items(root, "test")
    train = speech_commands_items(root, "train")
    assert speakers(valid) == {a} and speakers(test) == {b, c}
    assert len(valid) == sum(1 for w in WORDS for _ in (root / w).glob(f"{a}_nohash_*.wav"))  # speaker follows
    assert not speakers(train) & {a, b, c}
    assert len(train) + len(valid) + len(test) == len(speech_commands_items(root, "all"))
    hashed = speech_commands_items(root, "valid", lists=False)
    assert speakers(hashed) != {a}


def test_noise_files_leave_evaluation_silence_out(commands):
    train = noise_files(commands, "train")
    assert any(p.name == "white_noise.wav" for p in train)
    assert not any(p.suffix == ".md" for p in train)
    silence_valid_test = {it.key for s in ("valid", "test")
                          for it in speech_commands_items(commands, s) if it.text == ""}
    assert not silence_valid_test & {str(p) for p in train}
    assert len(noise_files(commands, "all")) == 4


def test_limit_spreads_over_words(commands):
    few = speech_commands_items(commands, "all", limit=6, silence=False)
    assert len(few) == 6 and {it.text for it in few} == set(WORDS)


def test_bad_files_are_skipped_with_a_warning(commands, tmp_path, caplog):
    root = tmp_path / "bad"
    (root / "yes").mkdir(parents=True)
    sf.write(str(root / "yes" / "aaaa_nohash_0.wav"), tone(0.2, 16_000), 16_000)
    (root / "yes" / "bbbb_nohash_0.wav").write_text("not audio")
    (root / "yes" / "cccc_nohash_0.wav").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="recognize"):
        items = speech_commands_items(root, "all")
    assert [speaker_of(it.key) for it in items] == ["aaaa"]
    assert "2 unusable audio file(s)" in caplog.text
    with pytest.raises(FileNotFoundError):
        speech_commands_items(tmp_path / "missing")


# --- splits -----------------------------------------------------------------------------------------------


def test_clip_sequences_join_clips_of_one_split_only(commands, tmp_path, monkeypatch):
    import recognize.speech.audio as audio
    from recognize.speech.clip_sequences import WORDS as PER_UTTERANCE
    from recognize.speech.clip_sequences import write_clip_sequences
    read, real = [], audio.load_audio
    monkeypatch.setattr(audio, "load_audio", lambda path, rate: read.append(path) or real(path, rate))
    manifest = write_clip_sequences(commands, tmp_path / "seq", 20, seed=3)
    rows = read_manifest(manifest)
    assert len(rows) == 20 and len(read) == sum(len(r["text"].split()) for r in rows)
    train = speakers(speech_commands_items(commands, split="train", seed=3))
    assert {speaker_of(p) for p in read} <= train  # never a valid or test speaker's voice
    for r in rows:
        words = r["text"].split()
        assert PER_UTTERANCE[0] <= len(words) <= PER_UTTERANCE[1] and set(words) <= set(WORDS)
        assert len(load_audio(r["path"], 16_000)) / 16_000 == pytest.approx(float(r["duration"]), abs=1e-3)
    before = manifest.stat().st_mtime_ns
    assert write_clip_sequences(commands, tmp_path / "seq", 20, seed=3) == manifest  # made once
    assert manifest.stat().st_mtime_ns == before and len(read) == sum(len(r["text"].split()) for r in rows)


def test_speaker_of_and_which_split():
    assert speaker_of("/x/yes/0a2b400e_nohash_3.wav") == "0a2b400e"
    assert speaker_of("recordings/7_jackson_32.wav") == "jackson"
    assert speaker_of("clip.wav") == "clip"
    got = [which_split(s) for s in SPEAKERS]
    assert got == [which_split(s) for s in SPEAKERS]  # stable across calls (and processes: sha1)
    assert set(got) == {"train", "valid", "test"}
    assert which_split("anyone", valid=0.0, test=0.0) == "train"
    assert which_split("anyone", valid=1.0, test=0.0) == "valid"


def test_split_by_speaker_on_items():
    items = [Item(f"/d/{w}/{s}_nohash_{k}.wav", w, 10) for w in WORDS for s in SPEAKERS for k in range(2)]
    parts = split_by_speaker(items, valid=0.2, test=0.2, seed=3)
    assert sum(map(len, parts.values())) == len(items)
    spk = {k: speakers(v) for k, v in parts.items()}
    assert not (spk["train"] & spk["valid"] or spk["train"] & spk["test"] or spk["valid"] & spk["test"])


# --- FSDD -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fsdd(tmp_path_factory):
    root = tmp_path_factory.mktemp("fsdd") / "recordings"
    root.mkdir()
    for digit in range(10):
        for spk in ("george", "jackson", "lucas"):
            for n in range(2):
                sf.write(str(root / f"{digit}_{spk}_{n}.wav"), tone(0.15 + 0.01 * digit, 8_000, n), 8_000)
    (root / "notes_about_it.wav").write_bytes(b"")  # not an FSDD name: ignored, not even opened
    return root.parent


def test_fsdd_digits_as_words_and_speakers(fsdd):
    items = fsdd_items(fsdd)
    assert len(items) == 60
    assert {it.text for it in items} == {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
    three = [it for it in items if it.key.endswith("3_lucas_1.wav")]
    assert three[0].text == "three"
    assert three[0].length == num_frames(round(0.18 * 16_000)) == log_mel(load_audio(three[0].key)).shape[-1]
    held_out = fsdd_items(fsdd, speakers=["lucas"])
    rest = fsdd_items(fsdd, exclude=["lucas"])
    assert speakers(held_out) == {"lucas"} and speakers(rest) == {"george", "jackson"}
    assert len(held_out) + len(rest) == 60


# --- manifests --------------------------------------------------------------------------------------------


@pytest.fixture()
def clips(tmp_path):
    (tmp_path / "audio").mkdir()
    rates = [16_000, 44_100, 8_000]
    for i, rate in enumerate(rates):
        sf.write(str(tmp_path / "audio" / f"s{i}_nohash_0.wav"), tone(0.3, rate, i), rate)
    return tmp_path


def test_tsv_manifest_relative_paths(clips):
    (clips / "m.tsv").write_text("path\ttext\tspeaker\n"
                                 "audio/s0_nohash_0.wav\tturn on the light\ts0\n"
                                 "audio/s1_nohash_0.wav\tstop\ts1\n"
                                 f"{clips / 'audio' / 's2_nohash_0.wav'}\t\"go\" now\ts2\n", encoding="utf-8")
    items = manifest_items(clips / "m.tsv")
    assert [it.text for it in items] == ["turn on the light", "stop", '"go" now']
    assert items[0].key == str((clips / "audio" / "s0_nohash_0.wav").resolve())
    assert all(it.length == log_mel(load_audio(it.key)).shape[-1] for it in items)
    parts = [manifest_items(clips / "m.tsv", s, valid=0.34, test=0.33) for s in ("train", "valid", "test")]
    assert sorted(it.key for p in parts for it in p) == sorted(it.key for it in items)


def test_jsonl_manifest_with_split_and_duration(clips):
    rows = [{"path": "audio/s0_nohash_0.wav", "text": "yes", "split": "training"},
            {"path": "audio/s1_nohash_0.wav", "text": "no", "split": "validation", "duration": 2.5},
            {"path": "audio/s2_nohash_0.wav", "text": "up", "split": "test"}]
    (clips / "m.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert [it.text for it in manifest_items(clips / "m.jsonl", "train")] == ["yes"]
    valid = manifest_items(clips / "m.jsonl", "valid")
    assert [it.text for it in valid] == ["no"] and valid[0].length == num_frames(40_000)  # header not opened
    assert len(manifest_items(clips / "m.jsonl")) == 3


def test_manifest_errors(clips, caplog):
    (clips / "noheader.tsv").write_text("audio/s0_nohash_0.wav\tyes\n")
    with pytest.raises(ValueError, match="noheader.tsv:1: .*header line with 'path' and 'text'"):
        read_manifest(clips / "noheader.tsv")
    (clips / "nopath.jsonl").write_text('{"file": "a.wav", "text": "x"}\n')
    with pytest.raises(ValueError, match="nopath.jsonl:1: .*needs 'path' and 'text'"):
        read_manifest(clips / "nopath.jsonl")
    (clips / "bad.jsonl").write_text('{"path": "a.wav", "text": "x"}\n[1, 2]\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_manifest(clips / "bad.jsonl")
    (clips / "missing.tsv").write_text("path\ttext\naudio/s0_nohash_0.wav\tyes\naudio/gone.wav\tno\n")
    with caplog.at_level(logging.WARNING, logger="recognize"):
        items = manifest_items(clips / "missing.tsv")
    assert [it.text for it in items] == ["yes"] and "no such file" in caplog.text
    with pytest.raises(FileNotFoundError):
        read_manifest(clips / "nope.tsv")
    with pytest.raises(ValueError, match="unknown split"):
        manifest_items(clips / "missing.tsv", "holdout")
