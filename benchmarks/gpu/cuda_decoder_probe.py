"""Does torchaudio's ``cuda_ctc_decoder`` run on this GPU, at which beam widths, and does it agree with
flashlight? Each width runs in its own process, since the kernel's shared-memory bug
(pytorch/audio#3754) aborts the process instead of raising. The evidence behind
``recognize.core.decoders.cuda_decoder_fault``.

    python3 benchmarks/gpu/cuda_decoder_probe.py [--widths 1,2,4,8,16,32]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ONE_WIDTH = """
import string, sys, torch
from torchaudio.models.decoder import cuda_ctc_decoder
from recognize.core.decoders import DecoderSpec, make_decoder
from recognize.core.vocab import Vocabulary
width = int(sys.argv[1])
vocab = Vocabulary(["<blank>", *string.ascii_lowercase, " "])
torch.manual_seed(0)
lp = torch.randn(8, 200, len(vocab)).mul(4).log_softmax(-1)
n = torch.full((8,), 200, dtype=torch.int32)
gpu = cuda_ctc_decoder(["<blank>"] + vocab.tokens[1:], nbest=1, beam_size=width)(lp.cuda(), n.cuda())
torch.cuda.synchronize()
cpu = make_decoder(DecoderSpec("beam", backend="flashlight", beam_width=width), vocab)(lp, n)
same = sum(vocab.decode([t for t in g[0].tokens if t]) == c.text for g, c in zip(gpu, cpu))
print(f"ran; {same}/8 transcripts equal to flashlight's")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", default="1,2,4,8,16,32")
    args = ap.parse_args()
    for w in args.widths.split(","):
        p = subprocess.run([sys.executable, "-c", ONE_WIDTH, w], cwd=ROOT, capture_output=True, text=True, timeout=120)
        err = p.stderr.splitlines()
        said = [x for x in err if "cudaError" in x] or [x for x in err if "Error" in x] or err or [""]
        last = p.stdout.strip().splitlines()[-1] if p.returncode == 0 and p.stdout.strip() else said[-1]
        print(f"width {w:>3}: exit {p.returncode}: {last[:160]}", flush=True)


if __name__ == "__main__":
    main()
