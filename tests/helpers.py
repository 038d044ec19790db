"""Small fixtures rendered at test time (no ../shared, no downloads)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

TINY_RECIPE = Path(__file__).resolve().parent / "tiny_recipe.yaml"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away", "big", "red", "box"]


def render_line(text: str, size: int = 28, pad: int = 6) -> Image.Image:
    font = ImageFont.truetype(FONT, size)
    left, top, right, bottom = font.getbbox(text or " ")
    im = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 255)
    ImageDraw.Draw(im).text((pad - left, pad - top), text, font=font, fill=0)
    return im


def stack_lines(lines: list[Image.Image], gap: int = 20) -> np.ndarray:
    """The line images one above the other on one white uint8 image, ``gap`` blank rows apart (a page)."""
    width = max(im.width for im in lines)
    rows = []
    for k, im in enumerate(lines):
        if k:
            rows.append(np.full((gap, width), 255, np.uint8))
        rows.append(np.pad(np.asarray(im.convert("L")), ((0, 0), (0, width - im.width)), constant_values=255))
    return np.vstack(rows)


def write_lines(folder: Path, texts: list[str], size: int = 28) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, t in enumerate(texts):
        p = folder / f"line{i:03d}.png"
        render_line(t, size).save(p)
        (folder / f"line{i:03d}.gt.txt").write_text(t + "\n", encoding="utf-8")
        paths.append(p)
    return paths


def sentences(n: int, seed: int = 0) -> list[str]:
    import random
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))) for _ in range(n)]


def ctc_logits(frames, vocab):
    """``[1, T, V]`` log-probs: a frame is a token ('' = blank) at p=0.9, or a {token: prob} mix."""
    import torch
    rows = []
    for f in frames:
        p = torch.full((len(vocab),), 1e-4)
        for tok, prob in ({f: 0.9} if isinstance(f, str) else f).items():
            p[vocab.tokens.index(tok) if tok else 0] = prob
        rows.append((p / p.sum()).log())
    return torch.stack(rows)[None]


def tiny_recipe(data: Path, *overrides: str):
    """tests/tiny_recipe.yaml trained on ``data/train`` and validated on ``data/valid`` (OCR line folders)."""
    from recognize.core.config import load_recipe
    return load_recipe(TINY_RECIPE, [f"data.train=[{{kind: folder, path: '{data / 'train'}'}}]",
                                     f"data.valid=[{{kind: folder, path: '{data / 'valid'}'}}]", *overrides])
