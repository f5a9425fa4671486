"""Stored pattern sets for pattern completion: ±1 pixel grids (P, N) with labels and a shape.

* ``random``: N units, each ±1 with probability ½ (seeded); drawn as a grid of the divisor of N
  closest to √N.
* ``glyphs``: the capital letters and digits, rendered offline with Pillow's bundled default
  font (Aileron, via ``ImageFont.load_default(size=…)``), centred and thresholded: ink +1,
  background -1. Nothing is downloaded.
* images: any small picture (bytes of a PNG/…) thresholded to the same grid
  (:func:`image_pattern`), with bounded file size and pixel dimensions.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

PATTERN_SETS = ("random", "glyphs")
GLYPHS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
MAX_UNITS = 4096
MAX_IMAGE_BYTES = 2 * 2**20
MAX_IMAGE_SIDE = 2048


@dataclass(frozen=True)
class PatternSet:
    """patterns (P, N) float32 of ±1; labels (P,) names; shape (h, w) with h · w = N."""

    name: str
    patterns: np.ndarray
    labels: tuple[str, ...]
    shape: tuple[int, int]


def grid_shape(n_units: int) -> tuple[int, int]:
    """(h, w) with h · w = n_units and w the divisor of n_units closest to √n_units (w >= h)."""
    if not isinstance(n_units, (int, np.integer)) or not 1 <= n_units <= MAX_UNITS:
        raise ValueError(f"n_units must be an int in [1, {MAX_UNITS}], got {n_units!r}")
    w = next(d for d in range(math.isqrt(n_units), 0, -1) if n_units % d == 0)
    return (w, n_units // w)


def random_set(n_patterns: int, n_units: int, seed: int) -> PatternSet:
    """n_patterns seeded ±1 patterns; the first p of a larger set are the same p patterns."""
    shape = grid_shape(n_units)
    if not isinstance(n_patterns, (int, np.integer)) or not 1 <= n_patterns <= 10_000:
        raise ValueError(f"n_patterns must be an int in [1, 10000], got {n_patterns!r}")
    rng = np.random.default_rng(seed)
    x = np.where(rng.random((n_patterns, n_units)) < 0.5, -1.0, 1.0).astype(np.float32)
    return PatternSet("random", x, tuple(str(i) for i in range(n_patterns)), shape)


def glyph_side(n_units: int) -> int:
    side = math.isqrt(n_units) if isinstance(n_units, (int, np.integer)) else 0
    if side * side != n_units or not 16 <= side <= 64:
        raise ValueError(f"glyphs need a square grid: n_units must be side² with side in "
                         f"[16, 64] (e.g. 1024 = 32²), got {n_units!r}")
    return side


@lru_cache(maxsize=8)
def _glyphs(side: int) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    stroke = max(0, side // 24)   # thicker strokes: more ink, glyphs less alike
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    size = side
    while size > 6:               # the largest size at which every glyph fits with a margin
        font = ImageFont.load_default(size=size)
        boxes = [draw.textbbox((0, 0), ch, font=font, stroke_width=stroke) for ch in GLYPHS]
        if max(max(b[2] - b[0], b[3] - b[1]) for b in boxes) <= side - 2:
            break
        size -= 1
    out = np.empty((len(GLYPHS), side * side), dtype=np.float32)
    for i, (ch, (left, top, right, bottom)) in enumerate(zip(GLYPHS, boxes)):
        img = Image.new("L", (side, side), 0)
        pos = ((side - (right - left)) // 2 - left, (side - (bottom - top)) // 2 - top)
        ImageDraw.Draw(img).text(pos, ch, fill=255, font=font, stroke_width=stroke,
                                 stroke_fill=255)
        out[i] = np.where(np.asarray(img, dtype=np.uint8).reshape(-1) >= 128, 1.0, -1.0)
    out.setflags(write=False)
    return out


def glyph_set(n_patterns: int = len(GLYPHS), n_units: int = 1024) -> PatternSet:
    """The first n_patterns of A–Z, 0–9 on a side × side grid (n_units = side²)."""
    side = glyph_side(n_units)
    if not isinstance(n_patterns, (int, np.integer)) or not 1 <= n_patterns <= len(GLYPHS):
        raise ValueError(f"the glyph set has {len(GLYPHS)} patterns: n_patterns must be in "
                         f"[1, {len(GLYPHS)}], got {n_patterns!r}")
    return PatternSet("glyphs", _glyphs(side)[:n_patterns].copy(),
                      tuple(GLYPHS[:n_patterns]), (side, side))


def make_set(name: str, n_patterns: int, n_units: int, seed: int) -> PatternSet:
    if name == "random":
        return random_set(n_patterns, n_units, seed)
    if name == "glyphs":
        return glyph_set(n_patterns, n_units)
    raise ValueError(f"pattern_set must be one of {PATTERN_SETS}, got {name!r}")


def image_pattern(data: bytes, side: int = 32) -> np.ndarray:
    """Image bytes -> (side², ) ±1 pattern: grey-scaled, resized to side × side, dark pixels
    (below the mean grey) +1 (ink), the rest -1. Refuses files over MAX_IMAGE_BYTES, images
    over MAX_IMAGE_SIDE pixels a side and blank images, naming the value and the range."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"image file is {len(data):,} bytes; the limit is "
                         f"{MAX_IMAGE_BYTES:,} bytes")
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size                        # read from the header, before decoding
    except Image.DecompressionBombError:       # PIL refuses > 2 × MAX_IMAGE_PIXELS at open
        raise ValueError(f"image declares more pixels than PIL will decode (a decompression "
                         f"bomb); each side must be in [1, {MAX_IMAGE_SIDE}]") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValueError(f"not a readable image: {exc}") from None
    if not (1 <= w <= MAX_IMAGE_SIDE and 1 <= h <= MAX_IMAGE_SIDE):
        raise ValueError(f"image is {w}×{h} pixels; each side must be in "
                         f"[1, {MAX_IMAGE_SIDE}]")
    try:
        img = img.convert("RGBA")
        flat = Image.new("RGBA", img.size, (255, 255, 255, 255))
        flat.alpha_composite(img)             # transparent = white paper
        grey = np.asarray(flat.convert("L").resize((side, side), Image.Resampling.BOX),
                          dtype=np.float32)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"could not decode the image: {exc}") from None
    if grey.max() - grey.min() < 1:
        raise ValueError("the image is one flat colour: nothing to store")
    return np.where(grey < grey.mean(), 1.0, -1.0).astype(np.float32).reshape(-1)
