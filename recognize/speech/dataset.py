"""Speech datasets on disk as core ``Item``s (key = audio path, text = transcript, length = feature frames).

Readers: Google Speech Commands (one folder per word), FSDD (``{digit}_{speaker}_{n}.wav``) and a generic
manifest (TSV with a ``path``/``text`` header, or JSONL). Splits are always by speaker: Speech
Commands' official ``validation_list.txt``/``testing_list.txt`` when present, else the hash of the
speaker id (the part of the file name before ``_nohash_``), computed as in the dataset's reference
code so the two agree.
"""
from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from ..core.items import Item, dataset_dir
from .audio import AudioInputError, audio_info, is_audio, load_audio
from .features import DEFAULT_FEATURES, FeatureConfig, num_frames

log = logging.getLogger("recognize")

SPLITS = ("train", "valid", "test")
_ALIASES = {"training": "train", "validation": "valid", "val": "valid", "dev": "valid", "testing": "test",
            "train": "train", "valid": "valid", "test": "test", "all": "all"}
SILENCE = "_silence_"
BACKGROUND_NOISE = "_background_noise_"
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_FSDD = re.compile(r"^(\d)_([^_]+)_(\d+)$")
_MAX_HASH = 2 ** 27 - 1  # Speech Commands' MAX_NUM_WAVS_PER_CLASS


def split_name(split: str) -> str:
    """Normalise ``training``/``validation``/``dev``/... to ``train``, ``valid``, ``test`` or ``all``."""
    try:
        return _ALIASES[split.lower()]
    except KeyError:
        raise ValueError(f"unknown split {split!r} (use train, valid, test or all)") from None


# --- speakers and splits --------------------------------------------------------------------------------


def speaker_of(path: str | Path) -> str:
    """Speaker id from a file name: the part before ``_nohash_`` (Speech Commands), the middle field of
    ``{digit}_{speaker}_{n}`` (FSDD), else the file stem (then a split is by file)."""
    stem = Path(path).stem
    if "_nohash_" in stem:
        return stem.split("_nohash_", 1)[0]
    m = _FSDD.match(stem)
    return m.group(2) if m else stem


def which_split(speaker: str, valid: float = 0.1, test: float = 0.1, seed: int = 0) -> str:
    """``train``/``valid``/``test`` from a stable hash of the speaker id (shares ``valid``/``test`` in 0..1).

    With ``seed = 0`` this is Speech Commands' ``which_set`` (sha1 of the id), so it reproduces the
    official lists for that dataset; another seed gives another, equally speaker-disjoint split.
    Data that is itself one official part (``../shared/data/speech_commands`` is mostly the v2 test
    set) falls almost entirely into that part with seed 0: give such data a nonzero seed.
    """
    name = speaker if seed == 0 else f"{seed}:{speaker}"
    h = int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16)
    pct = (h % (_MAX_HASH + 1)) * (100.0 / _MAX_HASH)
    if pct < valid * 100:
        return "valid"
    if pct < (valid + test) * 100:
        return "test"
    return "train"


def split_by_speaker(items: Iterable[Item], valid: float = 0.1, test: float = 0.1, seed: int = 0,
                     speaker: Callable[[str], str] = speaker_of) -> dict[str, list[Item]]:
    """Partition items into ``train``/``valid``/``test`` so that no speaker is in two parts."""
    out: dict[str, list[Item]] = {s: [] for s in SPLITS}
    for it in items:
        out[which_split(speaker(it.key), valid, test, seed)].append(it)
    return out


# --- lengths --------------------------------------------------------------------------------------------


def feature_frames(path: str | Path, features: FeatureConfig = DEFAULT_FEATURES, validate: bool = False) -> int:
    """Feature frames of a file from its header (or, with ``validate``, from fully decoding it)."""
    if validate:
        return num_frames(len(load_audio(path, features.sample_rate)), features)
    return num_frames(audio_info(path).resampled_frames(features.sample_rate), features)


class Items(list):
    """Listed items, with the files that were skipped as unusable (``"path: reason"``)."""

    skipped: list[str]


def _items(rows: Iterable[tuple[Path, str, float | None]], features: FeatureConfig, validate: bool,
           what: str) -> Items:
    """Items of ``(path, text, seconds or None)`` rows, in order; files are measured unless ``seconds`` is
    given (and ``validate`` is off). Unusable files are skipped with one warning (and kept in ``.skipped``
    for those who report each, as ``eval`` does)."""
    items, bad = Items(), []
    for path, text, seconds in rows:
        try:
            if seconds is not None and not validate:
                frames = num_frames(round(seconds * features.sample_rate), features)
            else:
                frames = feature_frames(path, features, validate)
        except AudioInputError as e:
            bad.append(f"{path}: {e}")
            continue
        if frames > 0:
            items.append(Item(str(path), text, frames))
        else:
            bad.append(f"{path}: no audio")
    if bad:
        log.warning("%s: %d unusable audio file(s) skipped, e.g. %s", what, len(bad), bad[0])
    items.skipped = bad
    return items


def _spread(rows: list, limit: int) -> list:
    """``limit`` rows evenly spaced over ``rows`` (all of them if ``limit`` is 0 or too big)."""
    if not limit or limit >= len(rows):
        return rows
    return [rows[i * len(rows) // limit] for i in range(limit)]


# --- Google Speech Commands -----------------------------------------------------------------------------


def _read_list(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return {line.strip().replace("\\", "/") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def speech_commands_splits(root: str | Path, files: Iterable[str], valid: float = 0.1, test: float = 0.1,
                           seed: int = 0, lists: bool = True) -> dict[str, str]:
    """Split of each ``word/file.wav`` (relative to ``root``), speaker-disjoint.

    With ``lists`` and the official list files present, listed files go to their list and any other
    file of a listed speaker follows that speaker (test before valid); the rest is training. Otherwise
    the speaker hash decides (``which_split``).
    """
    root = Path(root)
    val_list = _read_list(root / "validation_list.txt") if lists else set()
    test_list = _read_list(root / "testing_list.txt") if lists else set()
    files = list(files)
    if not (val_list or test_list):
        return {f: which_split(speaker_of(f), valid, test, seed) for f in files}
    by_speaker: dict[str, str] = {}
    for listed, part in ((val_list, "valid"), (test_list, "test")):
        for f in listed:
            by_speaker[speaker_of(f)] = part
    out = {}
    for f in files:
        out[f] = "test" if f in test_list else "valid" if f in val_list else by_speaker.get(speaker_of(f), "train")
    return out


def speech_commands_files(root: str | Path, words: Iterable[str] | None = None,
                          silence: bool = True) -> list[tuple[str, str]]:
    """``(relative path, transcript)`` of every clip: one folder per word, ``_silence_`` clips with ``""``."""
    root = dataset_dir(root)
    wanted = None if words is None else {w.lower() for w in words}
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name == SILENCE:
            if not silence:
                continue
            text = ""
        elif folder.name.startswith("_"):   # _background_noise_ and other non-word folders
            continue
        else:
            text = folder.name.lower()
            if wanted is not None and text not in wanted:
                continue
        rows += [(f"{folder.name}/{p.name}", text) for p in sorted(folder.iterdir()) if p.is_file() and is_audio(p)]
    return rows


def speech_commands_items(root: str | Path, split: str = "train", words: Iterable[str] | None = None,
                          silence: bool = True, valid: float = 0.1, test: float = 0.1, seed: int = 0,
                          lists: bool = True, features: FeatureConfig = DEFAULT_FEATURES, limit: int = 0,
                          validate: bool = False) -> list[Item]:
    """Items of one speaker-disjoint ``split`` (train/valid/test/all) of a Speech Commands tree.

    ``words`` keeps only those folders; ``silence`` adds ``_silence_`` clips with an empty
    transcript; ``limit`` > 0 keeps n spread evenly over the sorted files; ``validate`` decodes every file.
    """
    split = split_name(split)
    root = Path(root)
    rows = speech_commands_files(root, words, silence)
    parts = speech_commands_splits(root, [r for r, _ in rows], valid, test, seed, lists)
    chosen = [(root / rel, text, None) for rel, text in rows if split == "all" or parts[rel] == split]
    return _items(_spread(chosen, limit), features, validate, f"{root} ({split})")


def noise_files(root: str | Path, split: str = "train", valid: float = 0.1, test: float = 0.1, seed: int = 0,
                lists: bool = True) -> list[Path]:
    """Noise recordings for augmentation: all of ``_background_noise_`` and the ``_silence_`` clips of
    ``split`` only (the other splits' silence clips are evaluation samples)."""
    root = Path(root)
    found = sorted(p for p in (root / BACKGROUND_NOISE).glob("*") if p.is_file() and is_audio(p))
    silence = [f"{SILENCE}/{p.name}" for p in sorted((root / SILENCE).glob("*")) if p.is_file() and is_audio(p)]
    parts = speech_commands_splits(root, silence, valid, test, seed, lists)
    split = split_name(split)
    return found + [root / rel for rel in silence if split == "all" or parts[rel] == split]


# --- FSDD ------------------------------------------------------------------------------------------------


def fsdd_files(root: str | Path) -> list[tuple[Path, str, str]]:
    """``(path, transcript, speaker)`` of every ``{digit}_{speaker}_{n}.wav`` under ``root``, sorted."""
    root = dataset_dir(root)
    rows = []
    for p in sorted(root.rglob("*")):
        m = _FSDD.match(p.stem)
        if m and p.is_file() and is_audio(p):
            rows.append((p, DIGITS[int(m.group(1))], m.group(2)))
    return rows


def fsdd_items(root: str | Path, speakers: Iterable[str] | None = None, exclude: Iterable[str] = (),
               features: FeatureConfig = DEFAULT_FEATURES, limit: int = 0, validate: bool = False) -> list[Item]:
    """FSDD digits as words ("zero".."nine"). ``speakers`` keeps only those, ``exclude`` drops some:
    with 4-6 speakers, name the held-out speaker(s) rather than hashing."""
    keep = None if speakers is None else set(speakers)
    drop = set(exclude)
    rows = [(p, t, None) for p, t, s in fsdd_files(root) if (keep is None or s in keep) and s not in drop]
    return _items(_spread(rows, limit), features, validate, str(root))


# --- generic manifest ------------------------------------------------------------------------------------


def read_manifest(path: str | Path) -> list[dict[str, str]]:
    """Rows of a TSV (header with ``path`` and ``text``; other columns kept) or JSONL manifest.

    Relative audio paths are resolved against the manifest's folder. Optional columns used by
    ``manifest_items``: ``split``, ``speaker``, ``duration`` (seconds, saves opening the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such manifest")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a manifest (a UTF-8 TSV or JSONL file of paths and transcripts)") from None
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        rows = []
        for i, line in enumerate(lines, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{i}: not a JSON object: {e.msg}") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{path}:{i}: expected a JSON object")
                rows.append((i, {k: "" if v is None else str(v) for k, v in row.items()}))
    else:
        reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = [h.strip().lower() for h in next(reader, [])]
        if "path" not in header or "text" not in header:
            raise ValueError(f"{path}:1: a TSV manifest needs a header line with 'path' and 'text' columns")
        rows = [(i, dict(zip(header, r + [""] * (len(header) - len(r)))))
                for i, r in enumerate(reader, 2) if any(c.strip() for c in r)]
    out = []
    for i, row in rows:
        if "path" not in row or "text" not in row:
            raise ValueError(f"{path}:{i}: a manifest row needs 'path' and 'text' (a TSV needs a header line)")
        if not row["path"].strip():
            raise ValueError(f"{path}:{i}: empty path")
        row["path"] = str((path.parent / row["path"].strip()).resolve())
        row["text"] = row["text"].strip()
        out.append(row)
    return out


def manifest_items(path: str | Path, split: str = "all", valid: float = 0.1, test: float = 0.1, seed: int = 0,
                   features: FeatureConfig = DEFAULT_FEATURES, limit: int = 0, validate: bool = False) -> list[Item]:
    """Items of a manifest, in file order. For a split other than ``all``: the ``split`` column if there
    is one, else the hash of the ``speaker`` column, else of ``speaker_of(path)`` (a split by file if
    names carry no speaker)."""
    split = split_name(split)
    rows = read_manifest(path)
    if split != "all":
        if rows and all("split" in r for r in rows):
            rows = [r for r in rows if split_name(r["split"] or "train") == split]
        else:
            rows = [r for r in rows
                    if which_split(r.get("speaker") or speaker_of(r["path"]), valid, test, seed) == split]
    rows = _spread(rows, limit)
    return _items([(Path(r["path"]), r["text"], _seconds(r, path)) for r in rows], features, validate, str(path))


def _seconds(row: dict[str, str], manifest: str | Path) -> float | None:
    value = row.get("duration", "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{manifest}: duration {value!r} of {row['path']} is not a number of seconds") from None


# --- any of the above, by what the path looks like ---------------------------------------------------------


def dataset_items(path: str | Path, split: str = "all", seed: int = 0,
                  features: FeatureConfig = DEFAULT_FEATURES) -> list[Item]:
    """Items of a manifest file (.tsv/.jsonl), an FSDD folder or a Speech Commands tree, told apart by
    their layout; ``split``/``seed`` pick a speaker-disjoint part (FSDD: ``split`` may name speakers,
    comma separated, since it has only a handful)."""
    path = Path(path)
    if path.is_file() and is_audio(path):
        raise ValueError(f"{path}: an audio file, not a labelled dataset (a .tsv/.jsonl manifest, an FSDD or a "
                         "Speech Commands folder); `recognize transcribe` reads single files")
    if path.is_file():
        return manifest_items(path, split=split, seed=seed, features=features)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if any(_FSDD.match(p.stem) for p in path.rglob("*.wav")):
        speakers = None if split in ("all", "") else split.split(",")
        return fsdd_items(path, speakers=speakers, features=features)
    return speech_commands_items(path, split=split, seed=seed, silence=False, features=features)
