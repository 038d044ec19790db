"""Pack what one device call needs into ``.gpu/`` (git-ignored): the GPU machine has torch, torchaudio,
numpy, Pillow, typer, rich, PyYAML and safetensors but no registry, no TTS engines and no Verovio,
and a call carries at most 64 MiB with the working tree (45 MB tracked). So:

- ``whl/``: Python 3.12 wheels of the versions used here (requirements.lock) that it lacks;
- ``fonts/``: DejaVu faces, for the OCR lines rendered there and the test fixtures;
- ``speech/``: real Speech Commands clips of the recipe's training speakers (FLAC) with a manifest;
- ``music/``: the first incipits of the music recipe's generated set, as a PrIMuS-layout folder (read
  there as ``{kind: primus}``: the machine has no Verovio to check or extend the generator's cache);
- ``text/``: the OCR line generator's offline text (Debian's word list, fortunes and licences), which
  that machine lacks (read there through RECOGNIZE_WORDS, RECOGNIZE_FORTUNES, RECOGNIZE_LICENSES).

    .venv/bin/python benchmarks/gpu/pack.py [--clips 250] [--incipits 200]

then, with the device tool: ``run(command="bash benchmarks/gpu/run.sh", carry=[".gpu"])``.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
KIT = ROOT / ".gpu"
WHEELS = ("soundfile", "cffi", "pycparser", "soxr", "rapidfuzz", "tensorboardX", "flashlight-text")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64")
FONTS = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf")
LIMIT = 64 * 2**20


def pinned(names: tuple[str, ...]) -> list[str]:
    """``name==version``: the version requirements.lock pins, else the one installed here."""
    from importlib.metadata import version
    lock = {line.split("==")[0].lower(): line.strip() for line in (ROOT / "requirements.lock").read_text().splitlines()
            if "==" in line}
    return [lock.get(n.lower()) or f"{n}=={version(n)}" for n in names]


def wheels(out: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version",
           "3.12", "--implementation", "cp", "-d", str(out)]
    for p in PLATFORMS:
        cmd += ["--platform", p]
    subprocess.run(cmd + pinned(WHEELS), check=True)


def speech(out: Path, count: int, data: Path) -> None:
    import soundfile as sf

    from recognize.speech.dataset import speech_commands_items
    items = speech_commands_items(data, split="train", seed=1, silence=False)
    step = max(1, len(items) // count)
    rows = ["path\ttext"]
    for k, it in enumerate(items[::step][:count]):
        wave, rate = sf.read(it.key, dtype="int16")
        name = f"clip-{k:05d}.flac"
        sf.write(out / name, wave, rate, format="FLAC")
        rows.append(f"{name}\t{it.text}")
    (out / "manifest.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def incipits(out: Path, count: int, cache: Path) -> None:
    """The first ``count`` incipits of the music recipe's generated set (seed 1), made here if this
    machine's cache lacks them (Verovio runs here, not there), one PrIMuS-style folder each."""
    from recognize.omr.synth.generate import write_dataset
    for line in write_dataset(cache, count, 1).read_text(encoding="utf-8").splitlines():
        sid = line.split("\t", 1)[0]
        (out / sid).mkdir(parents=True)
        for suffix in (".png", ".semantic", ".agnostic"):
            shutil.copy(cache / sid / f"{sid}{suffix}", out / sid)


def texts(out: Path) -> None:
    from recognize.ocr.synth.text import FORTUNE_DIR, LICENSE_DIR, WORDS_PATH
    out.mkdir()
    shutil.copy(WORDS_PATH, out / "words")
    shutil.copytree(LICENSE_DIR, out / "licenses")
    (out / "fortunes").mkdir()
    for f in FORTUNE_DIR.iterdir():  # the fortune files proper (not their .dat/.u8 indexes)
        if f.is_file() and not f.suffix:
            shutil.copy(f, out / "fortunes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=250)
    ap.add_argument("--incipits", type=int, default=200)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    shutil.rmtree(KIT, ignore_errors=True)
    for sub in ("whl", "fonts", "speech", "music"):
        (KIT / sub).mkdir(parents=True)
    wheels(KIT / "whl")
    for name in FONTS:
        shutil.copy(Path("/usr/share/fonts/truetype/dejavu") / name, KIT / "fonts")
    speech(KIT / "speech", args.clips, args.data / "speech_commands")
    texts(KIT / "text")
    incipits(KIT / "music", args.incipits, ROOT / "data" / "cache" / "omr-synth" / "seed1")
    kit = sum(f.stat().st_size for f in KIT.rglob("*") if f.is_file())
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    tree = sum((ROOT / p).stat().st_size for p in tracked.decode().split("\0") if p and (ROOT / p).is_file())
    print(f"{KIT}: {kit / 1e6:.1f} MB; with the tracked tree ({tree / 1e6:.1f} MB) {100 * (kit + tree) / LIMIT:.0f} % "
          "of what a device call carries")
    if kit + tree > LIMIT:
        raise SystemExit("too large for one device call: pack fewer --clips/--incipits")


if __name__ == "__main__":
    main()
