"""Decoding audio files of any common format to 16 kHz mono float32, whole or in bounded-memory chunks.

libsndfile (through soundfile) decodes WAV/FLAC/OGG/MP3/AIFF/... of any rate, bit depth and channel
count; formats it cannot read (m4a, or mp3 with an old libsndfile) go through audioread. Channels are
averaged block by block, so an 8-channel file costs no more memory than a mono one, and resampling
uses soxr (one call for a whole file, a ``soxr.ResampleStream`` for chunks).
"""
from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

SAMPLE_RATE = 16_000
AUDIO_SUFFIXES = (".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc", ".au",
                  ".snd", ".w64", ".rf64", ".caf", ".m4a", ".aac", ".wma", ".webm", ".mp4")
FALLBACK_SUFFIXES = frozenset({".mp3", ".m4a", ".aac", ".wma", ".webm", ".mp4"})  # audioread if libsndfile fails
BLOCK_SECONDS = 1.0  # native-rate audio decoded per read
_SHOULD_BE = re.compile(r"^(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_SIZE_PLACEHOLDER = 0xFFFF_0000  # streaming writers put 0xFFFFFFFF (or similar) in the data size


class AudioInputError(Exception):
    """An audio input that cannot be used, with a one-line reason."""


def is_audio(path: str | Path) -> bool:
    return Path(path).suffix.lower() in AUDIO_SUFFIXES


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says. ``frames`` is per channel at the native rate (an estimate for some mp3s)."""

    sample_rate: int
    channels: int
    frames: int
    format: str

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    def resampled_frames(self, rate: int = SAMPLE_RATE) -> int:
        return resampled_length(self.frames, self.sample_rate, rate)


@dataclass
class Chunk:
    """A piece of a long file: ``audio`` float32 ``[n]`` at ``sample_rate``, starting at sample ``start``."""

    start: int
    audio: np.ndarray
    sample_rate: int = SAMPLE_RATE

    @property
    def start_seconds(self) -> float:
        return self.start / self.sample_rate

    @property
    def end(self) -> int:
        return self.start + len(self.audio)


def resampled_length(frames: int, rate_in: int, rate_out: int = SAMPLE_RATE) -> int:
    """Samples soxr gives for ``frames`` input samples: ``frames * out / in`` rounded half up."""
    if rate_in == rate_out:
        return frames
    return (2 * frames * rate_out + rate_in) // (2 * rate_in)


def resample(x: np.ndarray, rate_in: int, rate_out: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono float32 ``[T]`` with soxr (HQ); returns ``[resampled_length(T)]`` float32."""
    if rate_in == rate_out:
        return np.asarray(x, dtype=np.float32)
    return np.asarray(soxr.resample(np.asarray(x, dtype=np.float32), rate_in, rate_out, quality="HQ"),
                      dtype=np.float32)


def to_mono(x: np.ndarray) -> np.ndarray:
    """``[T, C]`` or ``[T]`` -> float32 ``[T]`` (mean of the channels)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        return x
    return x[:, 0].copy() if x.shape[1] == 1 else x.mean(axis=1, dtype=np.float32)


def audio_info(path: str | Path) -> AudioInfo:
    """Read the header only (fast); raises ``AudioInputError`` for unusable files."""
    with _open(Path(path)) as src:
        return src.info


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE, strict: bool = True) -> np.ndarray:
    """Decode a whole file to mono float32 ``[T]`` at ``sample_rate``.

    ``strict`` makes a file shorter than its header says (cut mp3) an error instead of decoding
    what is there. Raises ``AudioInputError`` with a one-line reason for every unusable input.
    """
    return read_audio(path, sample_rate, strict)[1]


def read_audio(path: str | Path, sample_rate: int = SAMPLE_RATE, strict: bool = True,
               max_seconds: float | None = None) -> tuple[AudioInfo, np.ndarray | None]:
    """The header and :func:`load_audio`'s samples from one opening of the file; the samples are
    None (not decoded) when the header says the file is longer than ``max_seconds``."""
    with _open(Path(path)) as src:
        info = src.info
        if max_seconds is not None and info.seconds > max_seconds:
            return info, None
        blocks = list(src.mono_blocks(strict))
    mono = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    out = resample(mono, info.sample_rate, sample_rate)
    if not len(out):
        raise AudioInputError(f"audio too short ({len(mono)} sample(s) at {info.sample_rate} Hz)")
    return info, out


def stream_chunks(path: str | Path, seconds: float = 30.0, overlap: float = 0.0, sample_rate: int = SAMPLE_RATE,
                  strict: bool = True) -> Iterator[Chunk]:
    """Yield ``Chunk``s of ``seconds`` (the last one shorter), each overlapping the previous by ``overlap``.

    Memory stays bounded by one chunk plus one decoded block, whatever the file's length, rate and
    channel count. Concatenating the chunks without their overlaps gives ``load_audio(path)`` (up to
    float rounding). Errors found mid-file (NaN, truncation) are raised when reached.
    """
    size, step = round(seconds * sample_rate), round((seconds - overlap) * sample_rate)
    if size <= 0 or overlap < 0 or step <= 0:
        raise ValueError(f"need seconds > overlap >= 0, got seconds={seconds}, overlap={overlap}")
    with _open(Path(path)) as src:
        rate = src.info.sample_rate
        pending: list[np.ndarray] = []
        have, start, emitted = 0, 0, 0
        for piece in _resampled(src.mono_blocks(strict), rate, sample_rate):
            pending.append(piece)
            have += len(piece)
            while have >= size:
                buf = np.concatenate(pending)
                yield Chunk(start, buf[:size].copy(), sample_rate)
                emitted = start + size
                buf = buf[step:]
                start, pending, have = start + step, [buf], len(buf)
        if start + have > emitted:
            yield Chunk(start, np.concatenate(pending), sample_rate)
        elif emitted == 0:
            raise AudioInputError(f"audio too short for {sample_rate} Hz")


def _resampled(blocks: Iterator[np.ndarray], rate_in: int, rate_out: int) -> Iterator[np.ndarray]:
    if rate_in == rate_out:
        yield from blocks
        return
    stream = soxr.ResampleStream(rate_in, rate_out, 1, dtype="float32", quality="HQ")
    for block in blocks:
        yield stream.resample_chunk(block)
    yield stream.resample_chunk(np.zeros(0, np.float32), last=True)


# --- decoders -------------------------------------------------------------------------------------------


class _Source:
    """An open file: ``info`` and native-rate float32 blocks ``[n, channels]``."""

    info: AudioInfo

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError

    def raw_blocks(self, frames: int) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def mono_blocks(self, strict: bool = True) -> Iterator[np.ndarray]:
        """Downmixed float32 ``[n]`` blocks; checks samples are finite and the file is complete."""
        decoded = 0
        try:
            for block in self.raw_blocks(max(1, round(self.info.sample_rate * BLOCK_SECONDS))):
                mono = to_mono(block)
                if not np.isfinite(mono).all():
                    at = decoded / self.info.sample_rate
                    raise AudioInputError(f"audio has NaN or infinite samples (near {at:.2f} s)")
                decoded += len(mono)
                yield mono
        except sf.LibsndfileError as e:
            raise AudioInputError(f"cannot decode audio: {_reason(e)}") from None
        except (OSError, EOFError, ValueError) as e:
            raise AudioInputError(f"cannot decode audio: {_reason(e)}") from None
        if decoded == 0:
            raise AudioInputError("no audio samples (0-length or truncated audio)")
        expected = self.info.frames
        if strict and expected - decoded > max(self.info.sample_rate // 10, expected // 100):
            rate = self.info.sample_rate
            raise AudioInputError(f"truncated file: header says {expected / rate:.2f} s, only "
                                  f"{decoded / rate:.2f} s could be decoded")


class _SoundFileSource(_Source):
    def __init__(self, path: Path):
        self.file = sf.SoundFile(str(path))
        try:
            _check_data_size(self.file.extra_info)
        except AudioInputError:
            self.file.close()
            raise
        self.info = AudioInfo(self.file.samplerate, self.file.channels, self.file.frames, self.file.format)

    def close(self) -> None:
        self.file.close()

    def raw_blocks(self, frames: int) -> Iterator[np.ndarray]:
        # SoundFile.blocks() would be the obvious choice, but it ignores short reads: for an mp3 cut
        # short it yields stale buffer contents up to the length the header promised.
        while True:
            block = self.file.read(frames, dtype="float32", always_2d=True)
            if not len(block):
                return
            yield block
            if len(block) < frames:  # libsndfile reads short only at the end of the file
                return


class _AudioreadSource(_Source):
    """Fallback through audioread (ffmpeg, gstreamer, ... whatever backend is installed); int16 output."""

    def __init__(self, path: Path):
        import audioread
        with warnings.catch_warnings():  # its raw backend imports modules deprecated in Python 3.13
            warnings.simplefilter("ignore", DeprecationWarning)
            self.file = audioread.audio_open(str(path))
        rate, channels = int(self.file.samplerate), int(self.file.channels)
        self.info = AudioInfo(rate, channels, round((self.file.duration or 0.0) * rate), "audioread")

    def close(self) -> None:
        self.file.close()

    def raw_blocks(self, frames: int) -> Iterator[np.ndarray]:
        channels, rest = self.info.channels, b""
        for buf in self.file:
            data = rest + bytes(buf)
            usable = len(data) - len(data) % (2 * channels)
            rest = data[usable:]
            if usable:
                yield np.frombuffer(data[:usable], "<i2").reshape(-1, channels).astype(np.float32) / 32768.0


def _open(path: Path) -> _Source:
    _check_file(path)
    try:
        return _SoundFileSource(path)
    except sf.LibsndfileError as e:
        error = e
    except (RuntimeError, OSError) as e:  # older soundfile raises RuntimeError
        error = e
    reason = _reason(error)
    unknown = "not recognised" in reason.lower()
    if unknown and _looks_like_text(path):
        raise AudioInputError("not an audio file (it looks like text)") from None
    if path.suffix.lower() in FALLBACK_SUFFIXES:
        try:
            return _AudioreadSource(path)
        except Exception as e:  # audioread raises NoBackendError, DecodeError or backend-specific errors
            if type(e).__name__ == "NoBackendError":  # no decoder installed for it, or not audio at all
                raise AudioInputError(f"cannot decode audio: libsndfile does not read {path.suffix} and no "
                                      "audioread backend could (install ffmpeg: apt install ffmpeg)") from None
            raise AudioInputError(f"cannot decode audio: {reason}; audioread: {_reason(e)}") from None
    if unknown:
        raise AudioInputError("not an audio file (format not recognised)") from None
    raise AudioInputError(f"cannot decode audio: {reason}") from None


def _check_file(path: Path) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioInputError("no such file") from None
    except OSError as e:
        raise AudioInputError(f"cannot read file: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioInputError("is a directory, not an audio file")
    if st.st_size == 0:
        raise AudioInputError("empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise AudioInputError("cannot read file: permission denied")


def _check_data_size(log: str) -> None:
    """libsndfile clamps a WAV/AIFF cut short to the bytes present; its header log still tells."""
    m = _SHOULD_BE.search(log or "")
    if m:
        declared, present = int(m.group(1)), int(m.group(2))
        if present + 1 < declared < _SIZE_PLACEHOLDER:
            raise AudioInputError(f"truncated file: header announces {declared} bytes of audio data, "
                                  f"the file holds {present}")


def _reason(e: BaseException) -> str:
    text = getattr(e, "error_string", None) or str(e) or type(e).__name__
    text = " ".join(text.split()).rstrip(".")
    return text[len("Error : "):] if text.startswith("Error : ") else text


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(512)
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(head) - 3  # a multi-byte character cut at the end
    return True
