"""Camera-like distortions in the spirit of Camera-PrIMuS, in numpy and Pillow (no GraphicsMagick; ~20 ms for a
1300 x 150 image against ~800 ms for the ``gm convert`` port).

Camera-PrIMuS ran GraphicsMagick's implode, swirl, spread, shear, shade, wave, rotate, noise, motion blur and
median, each with probability P(N(0,1) < 1) ~ 0.84 (CameraSimulator.java). Here the geometric ones (rotation,
shear, keystone perspective, a slow wave and a fine ripple, swirl/implode) form one inverse coordinate map that
Pillow's bilinear MESH transform applies; then come pixel spread, specks of dirt, Gaussian/motion/median blur,
uneven lighting on tinted paper, sensor noise and JPEG re-compression. Shear ranges are milder than
GraphicsMagick's; all strengths were calibrated by eye on the real ``camera-primus_example.png``: wavy staff lines
(a few px), soft strokes, ink ~50-80 on paper ~250, faint specks.
"""

from __future__ import annotations

import io
import math
import random

import numpy as np
from PIL import Image, ImageFilter

P_EFFECT = 0.84  # CameraSimulator applies each operation when a standard normal draw is below 1


def camera_distort(gray: np.ndarray, rng: random.Random) -> np.ndarray:
    """Camera-like version of a grayscale (or 1-bit 0/255) uint8 score image; may be a few px larger."""
    np_rng = np.random.default_rng(rng.getrandbits(64))
    warped = np.asarray(_warp(Image.fromarray(np.ascontiguousarray(gray, dtype=np.uint8)), rng))
    if _on(rng, 0.6):
        warped = _spread(warped, np_rng)
    if _on(rng, 0.7):
        warped = _specks(warped, rng, np_rng)
    blurred = _blur(Image.fromarray(warped), rng)
    out = _light(np.asarray(blurred, dtype=np.float32) / 255.0, rng)
    out = _noise(out, rng, np_rng)
    return _jpeg(np.clip(out + 0.5, 0, 255).astype(np.uint8), rng)


def _on(rng: random.Random, p: float = P_EFFECT) -> bool:
    return rng.random() < p


# ----------------------------------------------------------------------------------------------------------------
# geometry


def _warp(image: Image.Image, rng: random.Random, cell_x: int = 8, cell_y: int = 16) -> Image.Image:
    """All geometric effects as one smooth inverse map (output -> source pixel), evaluated on a grid of
    ``cell_x`` x ``cell_y`` px nodes and applied by Pillow's bilinear MESH transform."""
    w, h = image.size
    rot = math.radians(rng.uniform(-0.3, 0.3)) if _on(rng) else 0.0
    shear_x = math.tan(math.radians(rng.uniform(-3.0, 3.0))) if _on(rng) else 0.0
    shear_y = math.tan(math.radians(rng.uniform(-0.6, 0.6))) if _on(rng) else 0.0
    keystone = rng.uniform(-0.04, 0.04) if _on(rng, 0.5) else 0.0
    waves = []  # (amplitude, wavelength, phase): a slow bend of the page and a fine ripple of the lines
    if _on(rng):
        waves.append((rng.uniform(0.5, 2.5), rng.uniform(150, 700), rng.uniform(0, 2 * math.pi)))
    if _on(rng):
        waves.append((rng.uniform(0.2, 0.8), rng.uniform(25, 80), rng.uniform(0, 2 * math.pi)))
    amp = sum(a for a, _, _ in waves)
    pad_y = math.ceil(abs(shear_y + rot) * w / 2 + abs(keystone) * h / 2 + amp) + 2
    pad_x = math.ceil(abs(shear_x - rot) * h / 2) + 2
    wo, ho = w + 2 * pad_x, h + 2 * pad_y

    nodes_x = np.append(np.arange(0, wo, cell_x), wo).astype(np.float64)
    nodes_y = np.append(np.arange(0, ho, cell_y), ho).astype(np.float64)
    xx, yy = np.meshgrid(nodes_x, nodes_y)
    u, v = xx - wo / 2, yy - ho / 2
    c, s = math.cos(rot), math.sin(rot)
    xs = c * u + s * v + shear_x * v
    ys = (-s * u + c * v + shear_y * u) * (1 + keystone * u / w)
    for a, wavelength, phase in waves:
        ys += a * np.sin(2 * math.pi * xx / wavelength + phase)
    xs, ys = _swirl_implode(xs, ys, w, h, rng)
    xs, ys = xs + w / 2, ys + h / 2
    mesh = []
    for j in range(len(nodes_y) - 1):
        for i in range(len(nodes_x) - 1):
            box = (int(nodes_x[i]), int(nodes_y[j]), int(nodes_x[i + 1]), int(nodes_y[j + 1]))
            quad = (xs[j, i], ys[j, i], xs[j + 1, i], ys[j + 1, i],
                    xs[j + 1, i + 1], ys[j + 1, i + 1], xs[j, i + 1], ys[j, i + 1])  # fmt: skip
            mesh.append((box, quad))
    return image.transform((wo, ho), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR, fillcolor=255)


def _swirl_implode(xs: np.ndarray, ys: np.ndarray, w: int, h: int, rng: random.Random
                   ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """GraphicsMagick's swirl (U(-3, 3) degrees) and implode (U(0, 0.07)) about the centre, in its geometry:
    distances are measured with the short side stretched to the long one, so on a wide staff both bend it."""
    sx, sy = (1.0, w / h) if w >= h else (h / w, 1.0)
    radius = max(w, h) / 2
    dx, dy = xs * sx, ys * sy
    r = np.minimum(np.sqrt(dx * dx + dy * dy) / radius, 1.0)
    if _on(rng):
        angle = math.radians(rng.uniform(-3.0, 3.0)) * (1.0 - r) ** 2
        c, s = np.cos(angle), np.sin(angle)
        dx, dy = c * dx - s * dy, s * dx + c * dy
    if _on(rng):
        factor = np.sin(np.float32(math.pi / 2) * np.maximum(r, 1e-3)) ** -rng.uniform(0.0, 0.07)
        dx, dy = dx * factor, dy * factor
    return dx / sx, dy / sy


def _spread(gray: np.ndarray, np_rng: np.random.Generator, p: float = 0.35) -> np.ndarray:
    """GraphicsMagick ``-spread 1``: a random share of pixels take a neighbour's value, fraying the edges."""
    out = gray.copy()
    choice = np_rng.integers(0, int(4 / p), size=gray.shape, dtype=np.uint8)
    for k, shift in enumerate(((0, 1), (0, -1), (1, 0), (-1, 0))):
        mask = choice == k
        out[mask] = np.roll(gray, shift, axis=(0, 1))[mask]
    return out


# ----------------------------------------------------------------------------------------------------------------
# optics and sensor


def _blur(image: Image.Image, rng: random.Random) -> Image.Image:
    if _on(rng):
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.6)))
    if _on(rng, 0.7):  # camera shake, mostly along the staff; twice for a longer smear
        for _ in range(rng.choice([1, 1, 2])):
            image = image.filter(_motion_kernel(rng.randint(3, 5), rng.gauss(0, 12)))
    if _on(rng, 0.3):
        image = image.filter(ImageFilter.MedianFilter(3))
    return image


def _motion_kernel(length: int, degrees: float) -> ImageFilter.Kernel:
    """A 5x5 line kernel: camera shake mostly along the staff."""
    k = np.zeros((5, 5), dtype=np.float64)
    t = math.radians(degrees)
    for i in np.linspace(-(length - 1) / 2, (length - 1) / 2, length):
        k[round(2 + i * math.sin(t)), round(2 + i * math.cos(t))] += 1
    return ImageFilter.Kernel((5, 5), k.ravel().tolist(), scale=float(k.sum()))


def _light(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Map 0..1 (ink..paper) to tinted paper and grey ink under a smooth illumination gradient (gray levels)."""
    h, w = img.shape
    paper = 255 - min(abs(rng.gauss(0, 14)), 50)
    ink = rng.uniform(15, 90)
    out = ink + (paper - ink) * img
    if _on(rng):  # shade: a linear light falloff in a random direction, plus a soft vignette
        yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        xx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        t = rng.uniform(0, 2 * math.pi)
        light = 1 - rng.uniform(0.0, 0.18) * (0.5 + 0.5 * (math.cos(t) * xx + math.sin(t) * yy))
        light = light - rng.uniform(0.0, 0.08) * (xx * xx)
        out = out * light
    return out


def _specks(gray: np.ndarray, rng: random.Random, np_rng: np.random.Generator) -> np.ndarray:
    """Faint dirt around the staff, mostly short vertical marks (the ``-spread -2`` artefacts of Camera-PrIMuS);
    drawn before the blur so they soften with the rest."""
    h, w = gray.shape
    out = gray.astype(np.float32)
    count = rng.randint(1, max(2, w // 40))
    ys = np.clip(np_rng.normal(h / 2, h / 3, count), 0, h - 1).astype(int)
    for y, x, height, width, strength in zip(
        ys, np_rng.integers(0, w, count), np_rng.integers(2, 9, count), np_rng.integers(1, 4, count),
        np_rng.uniform(0.2, 0.7, count), strict=True,
    ):  # fmt: skip
        out[y : y + height, x : x + width] *= 1 - strength
    return out.astype(np.uint8)


def _noise(img: np.ndarray, rng: random.Random, np_rng: np.random.Generator) -> np.ndarray:
    if not _on(rng):
        return img
    return img + np_rng.standard_normal(size=img.shape, dtype=np.float32) * rng.uniform(1.0, 6.0)


def _jpeg(gray: np.ndarray, rng: random.Random) -> np.ndarray:
    """Re-compress at a random quality, as the ``_distorted.jpg`` files were."""
    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, format="JPEG", quality=rng.randint(35, 92))
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("L"))
