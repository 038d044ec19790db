"""Benchmarks read ../shared/data, which a fresh clone lacks: they must then stop in one line."""
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.parametrize("argv", [["speech.py"], ["speech_models.py", "exports/speech-commands.safetensors"],
                                  ["speech_threshold.py"]])
def test_a_benchmark_without_its_data_stops_in_one_line(argv, tmp_path):
    missing = tmp_path / "no-data"
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / argv[0]), *argv[1:], "--data", str(missing)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [
        f"{missing / 'speech_commands' if argv[0] != 'speech_threshold.py' else missing}: no such folder: "
        "this benchmark reads the real data of ../shared/data (give its place with --data)"]
