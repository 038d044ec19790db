"""Offline TTS voices found at run time, each able to speak a text to float32 audio at its native rate.

Engines (Debian packages from ``data/setup_tts.sh``): ``espeak-ng`` (English accents x variants),
``mbrola`` (espeak-ng's ``mb-*`` voices whose MBROLA database is installed), ``flite``, ``pico``
(``pico2wave``) and ``festival`` (one long-lived ``festival --pipe`` per process, since starting
festival and loading a voice costs ~0.3 s). An engine that is not installed is skipped with a warning.

``speed`` is a tempo factor (1.3 = 30 % faster) and ``pitch`` a shift in semitones, both done by the
engine where it has a control (espeak-ng's pitch scale is only roughly semitones) and otherwise by
sox's ``pitch`` effect (or a phase vocoder when sox is missing).
"""
from __future__ import annotations

import functools
import logging
import os
import re
import select
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from ..audio import to_mono

log = logging.getLogger("recognize")

ENGINES = ("espeak-ng", "mbrola", "flite", "pico", "festival")
TIMEOUT = 30.0  # seconds for one synthesis
ESPEAK_WPM = 175  # espeak-ng's default rate
MBROLA_WPM = 130  # its MBROLA voices speak ~25 % faster at the same rate; this evens out word lengths
PICO_LANGS = ("en-US", "en-GB")
FESTIVAL_VOICES = Path("/usr/share/festival/voices")
MBROLA_DIRS = (Path("/usr/share/mbrola"), Path("/usr/lib/mbrola"))


class SynthesisError(RuntimeError):
    """A TTS engine failed or produced no audio."""


@dataclass(frozen=True, order=True)
class Voice:
    """One voice of one engine, e.g. ``Voice("espeak-ng", "en-gb+f3")`` or ``Voice("festival", "kal_diphone")``."""

    engine: str
    name: str

    @property
    def key(self) -> str:
        """``engine:name``, the speaker id written to manifests."""
        return f"{self.engine}:{self.name}"

    def synthesize(self, text: str, speed: float = 1.0, pitch: float = 0.0) -> tuple[np.ndarray, int]:
        """Speak ``text``; returns mono float32 ``[T]`` and its sample rate. Raises ``SynthesisError``."""
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        if self.engine not in _RUNNERS or self.name not in _names_of(self.engine):
            raise SynthesisError(f"{self.key}: no such voice installed")  # flite/festival would fall back silently
        with tempfile.TemporaryDirectory(prefix="recognize-tts-") as tmp:
            wav = Path(tmp) / "out.wav"
            native_pitch = _RUNNERS[self.engine](self.name, text, speed, pitch, wav)
            if not wav.is_file() or wav.stat().st_size <= 44:
                raise SynthesisError(f"{self.key}: no audio for {text!r}")
            if pitch and not native_pitch and shutil.which("sox"):
                shifted = Path(tmp) / "pitch.wav"
                _run(["sox", "-D", str(wav), "-e", "floating-point", "-b", "32", str(shifted), "pitch",
                      f"{100 * pitch:.0f}"], self.key)  # -D: no dither, so the output is reproducible
                wav = shifted
            x, rate = sf.read(str(wav), dtype="float32", always_2d=True)
        x = to_mono(x)
        if pitch and not native_pitch and not shutil.which("sox"):
            from ..augment import pitch_shift
            x = pitch_shift(x, pitch, rate)
        if not len(x) or not np.isfinite(x).all() or not np.abs(x).max() > 0:
            raise SynthesisError(f"{self.key}: silent or invalid audio for {text!r}")
        return x, rate


def available_voices(engines: tuple[str, ...] = ENGINES) -> list[Voice]:
    """Every installed voice of ``engines``, sorted (so a seed picks the same voice on the same install)."""
    out: list[Voice] = []
    for engine in engines:
        out += _voices_of(engine)
    return out


def voices_by_engine(engines: tuple[str, ...] = ENGINES) -> dict[str, list[Voice]]:
    """Installed voices per engine; engines with none are left out."""
    return {e: v for e in engines if (v := _voices_of(e))}


@functools.cache
def _names_of(engine: str) -> frozenset[str]:
    return frozenset(v.name for v in _voices_of(engine))


@functools.cache
def _voices_of(engine: str) -> list[Voice]:
    if engine not in _FINDERS:
        raise ValueError(f"unknown TTS engine {engine!r} (use {', '.join(ENGINES)})")
    try:
        names = _FINDERS[engine]()
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("TTS engine %s unusable, skipped: %s", engine, e)
        return []
    if not names:
        log.warning("TTS engine %s: not installed or no English voice, skipped (see data/setup_tts.sh)", engine)
    return sorted(Voice(engine, n) for n in set(names))


# --- finding voices ---------------------------------------------------------------------------------------


def _espeak_table(which: str) -> list[list[str]]:
    """Rows of ``espeak-ng --voices=which`` (Pty, Language, Age/Gender, VoiceName, File, ...)."""
    out = subprocess.run(["espeak-ng", f"--voices={which}"], capture_output=True, text=True, timeout=TIMEOUT,
                         check=True).stdout
    return [line.split() for line in out.splitlines()[1:] if len(line.split()) >= 5]


def _find_espeak() -> list[str]:
    if not shutil.which("espeak-ng"):
        return []
    accents = sorted({row[1] for row in _espeak_table("en") if row[4].startswith("gmw/")})
    variants = sorted({row[4].split("/", 1)[1] for row in _espeak_table("variant") if row[4].startswith("!v/")})
    return accents + [f"{a}+{v}" for a in accents for v in variants]


def _espeak_data_dir() -> Path | None:
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, timeout=TIMEOUT).stdout
    m = re.search(r"Data at:\s*(\S+)", out)
    return Path(m.group(1)) if m else None


def _find_mbrola() -> list[str]:
    if not (shutil.which("espeak-ng") and shutil.which("mbrola")):
        return []
    data = _espeak_data_dir()
    names = []
    for row in _espeak_table("mb"):
        lang, file = row[1], row[4]
        if not (lang.startswith("en") or file.endswith("-en")) or not file.startswith("mb/"):
            continue
        spec = (data / "voices" / file).read_text(errors="replace") if data else ""
        m = re.search(r"^\s*mbrola\s+(\S+)", spec, re.MULTILINE)
        if m and any((d / m.group(1) / m.group(1)).is_file() or (d / m.group(1)).is_file() for d in MBROLA_DIRS):
            names.append(file.split("/", 1)[1])
    return names


def _find_flite() -> list[str]:
    if not shutil.which("flite"):
        return []
    out = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=TIMEOUT).stdout
    listed = out.split(":", 1)[1].split() if ":" in out else []
    return [v for v in listed if not v.endswith("_time")]  # awb_time only speaks clock times


def _find_pico() -> list[str]:
    if not shutil.which("pico2wave"):
        return []
    lang_dir = Path("/usr/share/pico/lang")
    return [lang for lang in PICO_LANGS if not lang_dir.is_dir() or any(lang_dir.glob(f"{lang}_*"))]


def _find_festival() -> list[str]:
    if not shutil.which("festival") or not FESTIVAL_VOICES.is_dir():
        return []
    return [d.name for d in FESTIVAL_VOICES.glob("*/*") if (d / "festvox").is_dir()]


_FINDERS = {"espeak-ng": _find_espeak, "mbrola": _find_mbrola, "flite": _find_flite, "pico": _find_pico,
            "festival": _find_festival}


# --- running engines --------------------------------------------------------------------------------------
# Each runner writes ``out`` and returns whether it applied ``pitch`` itself.


def _run(cmd: list[str], what: str, stdin: str | None = None) -> str:
    """Run an engine; returns its stderr (warnings), raises ``SynthesisError`` on failure."""
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=True)
    except subprocess.CalledProcessError as e:
        tail = (e.stderr or e.stdout or "").strip().splitlines()[-1:] or [f"exit status {e.returncode}"]
        raise SynthesisError(f"{what}: {cmd[0]} failed: {tail[0]}") from None
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SynthesisError(f"{what}: {cmd[0]} failed: {e}") from None
    return done.stderr


def _espeak(name: str, text: str, speed: float, pitch: float, out: Path) -> bool:
    wpm = min(450, max(80, round((MBROLA_WPM if name.startswith("mb-") else ESPEAK_WPM) * speed)))
    level = min(99, max(0, round(50 + 4.7 * pitch)))  # measured: +10 steps ~ +2.1 semitones above 50
    warnings = _run(["espeak-ng", "-v", name, "-s", str(wpm), "-p", str(level), "-w", str(out), "--stdin"],
                    f"espeak-ng:{name}", stdin=text)
    if "unknown, replaced with" in warnings:  # an MBROLA database lacks a diphone: silence in its place
        raise SynthesisError(f"mbrola:{name}: missing diphones for {text!r} ({warnings.strip().splitlines()[0]})")
    return True


def _flite(name: str, text: str, speed: float, pitch: float, out: Path) -> bool:
    src = out.with_suffix(".txt")
    src.write_text(text, encoding="utf-8")
    _run(["flite", "-voice", name, "--setf", f"duration_stretch={1 / speed:.4f}", "-f", str(src), "-o", str(out)],
         f"flite:{name}")
    return False


def _pico(name: str, text: str, speed: float, pitch: float, out: Path) -> bool:
    markup = (f'<speed level="{round(100 * speed)}"><pitch level="{round(100 * 2 ** (pitch / 12))}">'
              f"{escape(text)}</pitch></speed>")
    _run(["pico2wave", "-l", name, "-w", str(out), markup], f"pico:{name}")
    return True


def _festival(name: str, text: str, speed: float, pitch: float, out: Path) -> bool:
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    if "_hts" in name:  # HTS voices ignore Duration_Stretch; the engine's -r is a speed rate
        tempo = f'(set! hts_engine_params (append hts_engine_params (list (list "-r" {speed:.4f}))))'
    else:
        tempo = ""
    path = str(out).replace("\\", "\\\\").replace('"', '\\"')
    said = _festival_session().run(
        f"(voice_{name})(Parameter.set 'Duration_Stretch {1 / speed:.4f}){tempo}"
        f'(utt.save.wave (utt.synth (Utterance Text "{quoted}")) "{path}" \'riff)',
        f"festival:{name}")
    if "SIOD ERROR" in said or not out.is_file():
        raise SynthesisError(f"festival:{name}: no audio for {text!r}: {said[-200:] or 'no message'}")
    return False


_RUNNERS = {"espeak-ng": _espeak, "mbrola": _espeak, "flite": _flite, "pico": _pico, "festival": _festival}


class _FestivalSession:
    """A ``festival --pipe`` child fed Scheme on stdin; a marker line on stdout ends each command."""

    MARK = "@@recognize-done@@"

    def __init__(self) -> None:
        cmd = ["festival", "--pipe"]
        if shutil.which("stdbuf"):  # festival block-buffers stdout on a pipe; the marker must come through
            cmd = ["stdbuf", "-oL", *cmd]
        self.pid = os.getpid()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.pid == os.getpid() and self.proc.poll() is None

    def run(self, scheme: str, what: str) -> str:
        assert self.proc.stdin and self.proc.stdout
        try:
            self.proc.stdin.write(f'{scheme}\n(format t "{self.MARK}\\n")\n'.encode())
            self.proc.stdin.flush()
        except OSError as e:
            self.close()
            raise SynthesisError(f"{what}: festival died: {e}") from None
        fd, buf = self.proc.stdout.fileno(), b""
        while self.MARK.encode() not in buf:
            ready, _, _ = select.select([fd], [], [], TIMEOUT)
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                self.close()
                raise SynthesisError(f"{what}: festival {'timed out' if not ready else 'exited'}: "
                                     f"{buf.decode(errors='replace').strip()[-200:]}")
            buf += chunk
        return buf.decode(errors="replace").replace(self.MARK, "").strip()

    def close(self) -> None:
        global _session
        if self.pid == os.getpid():
            self.proc.kill()
            self.proc.wait()
        if _session is self:
            _session = None


_session: _FestivalSession | None = None


def _festival_session() -> _FestivalSession:
    """This process's festival child (a forked worker starts its own)."""
    global _session
    if _session is None or not _session.alive():
        _session = _FestivalSession()
    return _session
