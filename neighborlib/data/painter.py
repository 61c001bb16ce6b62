"""The painter of the synthetic world: a photo as a pure function of (seed, index, scene,
labels, hard), drawn with supersampled shapes over a procedural background.

:func:`render_array` is all the world (:mod:`neighborlib.data.synthetic`) needs: it decides
*what* is in a photo, this module only *how it looks*. Random choices (layout, colours,
noise) come from the ``"synthetic.render"`` stream of ``(seed, index)``. Each object label
has its own small painter (:data:`_OBJECT_PAINTERS`).
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..seeding import stream

__all__ = ["render_array"]

_SS = 2  # supersampling factor for drawing shapes
_ANGLES = np.linspace(0, 2 * np.pi, 14, endpoint=False)
_CIRCLE = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)


@lru_cache(maxsize=8)
def _noise_tile(size: int) -> np.ndarray:
    """A fixed Gaussian noise tile (a pure function of its size); photos take random crops."""
    t = max(256, 2 * size)
    return np.random.default_rng([20150101, t]).standard_normal((t, t, 3), dtype=np.float32)


@lru_cache(maxsize=8)
def _ramp(size: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, size, dtype=np.float32)


@lru_cache(maxsize=8)
def _vignette(size: int) -> np.ndarray:
    r = _ramp(size) * 2 - 1
    d = r[:, None] ** 2 + r[None, :] ** 2
    return (1.0 - 0.25 * d).astype(np.float32)[:, :, None]


def _smooth_field(rng: np.random.Generator, size: int, grid: int = 5) -> np.ndarray:
    """Low-frequency noise in about [-1, 1], shape (size, size)."""
    g = rng.standard_normal((grid, grid)).astype(np.float32)
    return np.asarray(Image.fromarray(g).resize((size, size), Image.BILINEAR))


def _jitter(rng: np.random.Generator, colour, rel: float = 0.08, abs_: float = 8.0) -> np.ndarray:
    c = np.asarray(colour, dtype=np.float64)
    return np.clip(c * (1.0 + rel * rng.standard_normal()) + abs_ * rng.standard_normal(3), 0, 255)


def _vertical(profile_rows: np.ndarray, size: int) -> np.ndarray:
    return np.broadcast_to(profile_rows[:, None, :], (size, size, 3)).copy()


def _gradient(top, bottom, n: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, max(n, 0), dtype=np.float32)[:, None]
    return np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t


def _background(
    rng: np.random.Generator, scene: str, sky: bool, water: bool, S: int
) -> tuple[np.ndarray, float]:
    """Scene background (S, S, 3) float32 and the horizon as a fraction of height."""
    if scene == "indoor":
        horizon = rng.uniform(0.55, 0.75)
    elif scene in ("snow", "outdoor") and not sky:
        horizon = 0.0  # looking down at the ground: no sky in frame
    elif scene == "sea":
        horizon = rng.uniform(0.35, 0.55)
    else:
        horizon = rng.uniform(0.5, 0.72)
    h = int(round(horizon * S))
    h = min(max(h, 0), S)
    rows = np.empty((S, 3), np.float32)
    field = _smooth_field(rng, S)
    if scene == "outdoor":
        rows[:h] = _gradient(_jitter(rng, (70, 130, 215)), _jitter(rng, (175, 210, 240)), h)
        grounds = ((95, 150, 60), (95, 150, 60), (170, 160, 90), (130, 105, 75), (125, 125, 120))
        g = np.asarray(grounds[int(rng.integers(len(grounds)))], np.float32)
        rows[h:] = _gradient(_jitter(rng, g, 0.15), _jitter(rng, g * 0.7, 0.15), S - h)
        img = _vertical(rows, S)
        img[h:] *= (1.0 + 0.15 * field[h:, :, None])
    elif scene == "sea":
        sand = int(round(rng.uniform(0.8, 1.05) * S))
        rows[:h] = _gradient(_jitter(rng, (80, 140, 220)), _jitter(rng, (185, 215, 240)), h)
        rows[h:] = _gradient(_jitter(rng, (30, 80, 140), 0.12), _jitter(rng, (40, 120, 150), 0.12), S - h)
        img = _vertical(rows, S)
        yy = np.arange(h, S, dtype=np.float32)[:, None]
        xx = np.arange(S, dtype=np.float32)[None, :]
        freq = rng.uniform(0.6, 1.2) * 96 / S
        waves = np.sin(yy * freq + 0.15 * np.sin(xx * 0.2 * 96 / S) + rng.uniform(0, 6.3))
        img[h:] *= (1.0 + 0.1 * waves[:, :, None])
        if sand < S:
            img[sand:] = _jitter(rng, (215, 195, 150), 0.08) * (1.0 + 0.08 * field[sand:, :, None])
    elif scene == "sunset":
        rows[:h] = _gradient(_jitter(rng, (70, 50, 120), 0.15), _jitter(rng, (250, 150, 50), 0.1), h)
        low = (40, 50, 80) if water else (45, 30, 25)
        rows[h:] = _gradient(_jitter(rng, low, 0.2), _jitter(rng, (20, 15, 15), 0.2), S - h)
        img = _vertical(rows, S)
        cx = rng.uniform(0.2, 0.8) * S
        r = rng.uniform(0.05, 0.1) * S
        cy = h - rng.uniform(-0.3, 1.0) * r
        yy, xx = np.ogrid[:h, :S]
        img[:h][(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = _jitter(rng, (255, 215, 110), 0.05, 6)
        if water:
            xx = np.arange(S, dtype=np.float32)
            glow = np.exp(-(((xx - cx) / (0.12 * S)) ** 2))
            img[h:, :, 0] += 120 * glow
            img[h:, :, 1] += 60 * glow
    elif scene == "night":
        rows[:h] = _gradient(_jitter(rng, (8, 10, 30), 0.3, 4), _jitter(rng, (25, 30, 60), 0.3, 4), h)
        low = (15, 25, 45) if water else (20, 18, 18)
        rows[h:] = _gradient(_jitter(rng, low, 0.3, 4), _jitter(rng, (8, 8, 10), 0.3, 3), S - h)
        img = _vertical(rows, S)
        if h > 2:
            n_stars = int(rng.integers(10, 50))
            ys = rng.integers(0, h, n_stars)
            xs = rng.integers(0, S, n_stars)
            img[ys, xs] = rng.uniform(150, 255, (n_stars, 1)).astype(np.float32)
    elif scene == "snow":
        if h > 0:
            rows[:h] = _gradient(_jitter(rng, (165, 180, 200), 0.1), _jitter(rng, (215, 220, 228), 0.05), h)
        near, far = _jitter(rng, (240, 243, 250), 0.03, 4), _jitter(rng, (215, 222, 238), 0.04, 5)
        rows[h:] = _gradient(near, far, S - h)
        img = _vertical(rows, S)
        img[h:] *= (1.0 + 0.06 * field[h:, :, None])
    else:  # indoor
        walls = ((215, 200, 170), (235, 232, 225), (180, 200, 175), (170, 180, 200), (200, 160, 140))
        floors = ((130, 90, 55), (160, 120, 80), (90, 70, 60), (150, 150, 150))
        wall = _jitter(rng, walls[rng.integers(len(walls))], 0.1)
        rows[:h] = _gradient(wall, _jitter(rng, (150, 140, 120), 0.1), h)
        floor = _jitter(rng, floors[rng.integers(len(floors))], 0.12)
        rows[h:] = _gradient(floor, _jitter(rng, (60, 45, 35), 0.15), S - h)
        img = _vertical(rows, S)
        yy = np.arange(h, S, dtype=np.float32)[:, None]
        img[h:] *= (1.0 + 0.06 * np.sin(yy * 1.3 * 96 / S))[:, :, None]
        img *= (1.0 + 0.08 * field[:, :, None])
        if rng.random() < 0.5 and h > S // 4:  # a window or picture on the wall
            x0 = int(rng.uniform(0.05, 0.6) * S)
            y0 = int(rng.uniform(0.05, 0.2) * S)
            x1 = x0 + int(rng.uniform(0.15, 0.35) * S)
            y1 = min(h - 2, y0 + int(rng.uniform(0.15, 0.35) * S))
            pane = (190, 215, 240) if rng.random() < 0.6 else (120, 60, 50)
            img[y0:y1, x0:x1] = _jitter(rng, pane, 0.2, 20)
    return img, float(h) / S


class _Pen:
    """Draws primitives given in an object's local frame (origin at its base, y up is negative)."""

    __slots__ = ("draw", "m", "t", "scale")

    def __init__(
        self, draw: ImageDraw.ImageDraw, cx: float, cy: float, scale: float, angle: float, flip: float
    ):
        c, s = math.cos(angle), math.sin(angle)
        self.draw = draw
        self.scale = scale
        self.m = np.array([[c * flip * scale, -s * scale], [s * flip * scale, c * scale]])
        self.t = np.array([cx, cy])

    def pts(self, local) -> list[float]:
        return (np.asarray(local, dtype=np.float64) @ self.m.T + self.t).ravel().tolist()

    def poly(self, local, fill) -> None:
        self.draw.polygon(self.pts(local), fill=fill)

    def ellipse(self, ex: float, ey: float, rx: float, ry: float, fill) -> None:
        self.draw.polygon(self.pts(_CIRCLE * (rx, ry) + (ex, ey)), fill=fill)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill) -> None:
        self.poly(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), fill)

    def line(self, local, width: float, fill) -> None:
        self.draw.line(self.pts(local), fill=fill, width=max(1, int(round(width * self.scale))))

    def ring(self, ex: float, ey: float, r: float, width: float, fill) -> None:
        pts = self.pts(_CIRCLE * r + (ex, ey))
        self.draw.line(pts + pts[:2], fill=fill, width=max(1, int(round(width * self.scale))))


# Colour distributions per object class (RGB 0-255).
_COL = {
    "canopy": ((34, 100, 34), (60, 130, 50), (85, 140, 40), (30, 80, 45)),
    "autumn": ((200, 110, 30), (170, 60, 30), (220, 170, 40)),
    "trunk": ((100, 70, 40), (80, 55, 35)),
    "flower": (
        (220, 30, 50), (240, 200, 40), (230, 110, 180), (150, 60, 200), (250, 250, 250), (250, 140, 30)
    ),
    "dog": ((140, 90, 45), (200, 165, 110), (40, 32, 28), (230, 225, 210), (170, 120, 70)),
    "cat": ((125, 125, 125), (215, 135, 60), (35, 35, 35), (235, 235, 230), (160, 140, 120)),
    "car": ((200, 30, 30), (30, 60, 170), (190, 190, 195), (25, 25, 30), (240, 240, 240), (230, 190, 20)),
    "bird": ((60, 60, 65), (120, 90, 60), (235, 235, 235), (40, 80, 170), (190, 40, 40)),
    "shirt": ((200, 40, 40), (40, 80, 180), (240, 240, 240), (30, 30, 30), (60, 140, 60), (230, 180, 40)),
    "skin": ((240, 200, 170), (200, 150, 110), (140, 95, 65), (90, 60, 40)),
    "trousers": ((40, 50, 90), (30, 30, 30), (120, 100, 80), (80, 80, 80)),
    "building": ((150, 150, 150), (170, 90, 70), (210, 190, 150), (100, 130, 160), (230, 230, 225)),
    "clouds": ((245, 245, 245), (225, 227, 232), (200, 200, 210)),
    "mountain": ((110, 115, 130), (130, 110, 95), (90, 100, 120), (120, 125, 110)),
    "food": ((200, 40, 30), (60, 150, 50), (140, 80, 40), (240, 200, 60), (240, 130, 30), (250, 240, 220)),
    "hull": ((245, 245, 245), (180, 40, 40), (40, 60, 140), (120, 80, 50)),
    "bicycle": ((200, 30, 30), (30, 60, 170), (30, 30, 30), (240, 240, 240), (40, 140, 70)),
    "horse": ((120, 70, 35), (160, 95, 50), (40, 30, 25), (235, 230, 220), (140, 140, 140)),
}
# size range as a fraction of the image side, drawing order (back to front)
_SIZE = {
    "mountain": (0.35, 0.6), "clouds": (0.3, 0.5), "building": (0.4, 0.75), "tree": (0.35, 0.6),
    "boat": (0.25, 0.45), "car": (0.3, 0.45), "horse": (0.35, 0.5), "bicycle": (0.25, 0.38),
    "people": (0.35, 0.6), "dog": (0.22, 0.35), "cat": (0.2, 0.32), "food": (0.35, 0.55),
    "flower": (0.22, 0.4), "bird": (0.1, 0.18),
}
_DRAW_ORDER = ("mountain", "clouds", "building", "tree", "boat", "car", "horse", "bicycle",
               "people", "dog", "cat", "food", "flower", "bird")
_HARD_KINDS = ("small", "occluded", "oddcolour", "darkblur")


class _Painter:
    def __init__(self, rng: np.random.Generator, scene: str, odd: bool):
        self.rng, self.scene, self.odd = rng, scene, odd

    def colour(self, key: str) -> tuple[int, int, int]:
        rng = self.rng
        if self.odd:
            c = rng.uniform(0, 255, 3)
        else:
            options = _COL[key]
            c = _jitter(rng, options[int(rng.integers(len(options)))])
        if self.scene == "night":
            c = c * 0.35
        elif self.scene == "sunset":
            c = c * 0.4 + np.array((25.0, 10.0, 0.0))
        return tuple(int(v) for v in c)


def _paint_tree(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    pen.rect(-0.05, -0.42, 0.05, 0.0, col("trunk"))
    if scene == "snow" or rng.random() < 0.3:  # conifer
        green = col("canopy")
        for k in range(3):
            y = -0.3 - 0.22 * k
            w = 0.32 - 0.08 * k
            pen.poly(((-w, y), (w, y), (0, y - 0.38)), green)
        if scene == "snow":
            pen.poly(((-0.08, -0.82), (0.08, -0.82), (0, -0.98)), (240, 240, 245))
    else:
        leaf = col("autumn" if rng.random() < 0.15 else "canopy")
        pen.ellipse(0.0, -0.66, 0.33, 0.34, leaf)
        pen.ellipse(-0.16, -0.55, 0.2, 0.18, leaf)
        pen.ellipse(0.17, -0.58, 0.2, 0.18, leaf)


def _paint_flower(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    n_heads = int(rng.integers(1, 4))
    for k in range(n_heads):
        dx = (k - (n_heads - 1) / 2) * 0.35
        top = -0.6 - 0.15 * rng.random()
        pen.line(((dx, 0.0), (dx + 0.03, top)), 0.05, col("canopy"))
        pen.ellipse(dx + 0.08, -0.25, 0.1, 0.04, col("canopy"))
        n_pet = int(rng.integers(5, 9))
        ang = np.linspace(0, 2 * np.pi, 2 * n_pet, endpoint=False) + rng.uniform(0, 1)
        rad = np.where(np.arange(2 * n_pet) % 2 == 0, 0.2, 0.07)
        star = np.stack([np.cos(ang) * rad + dx, np.sin(ang) * rad + top], axis=1)
        pen.poly(star, col("flower"))
        pen.ellipse(dx, top, 0.06, 0.06, (230, 190, 40) if rng.random() < 0.6 else (90, 60, 30))


def _paint_dog(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    fur = col("dog")
    dark = tuple(int(v * 0.6) for v in fur)
    for x in (-0.32, -0.2, 0.22, 0.34):
        pen.rect(x - 0.04, -0.3, x + 0.04, 0.0, fur)
    pen.ellipse(0.0, -0.42, 0.44, 0.17, fur)
    pen.line(((-0.42, -0.45), (-0.58, -0.7)), 0.06, fur)
    pen.ellipse(0.46, -0.66, 0.16, 0.14, fur)
    pen.ellipse(0.62, -0.62, 0.1, 0.06, fur)
    pen.poly(((0.36, -0.76), (0.44, -0.76), (0.38, -0.52), (0.32, -0.56)), dark)
    pen.ellipse(0.71, -0.64, 0.03, 0.03, (20, 20, 20))


def _paint_cat(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    fur = col("cat")
    if rng.random() < 0.5:  # sitting
        pen.ellipse(0.0, -0.32, 0.2, 0.32, fur)
        pen.line(((0.15, -0.02), (0.4, -0.05), (0.45, -0.2)), 0.05, fur)
        hx, hy = 0.0, -0.74
    else:  # walking
        for x in (-0.25, -0.15, 0.15, 0.25):
            pen.rect(x - 0.035, -0.25, x + 0.035, 0.0, fur)
        pen.ellipse(0.0, -0.33, 0.32, 0.14, fur)
        pen.line(((-0.3, -0.38), (-0.45, -0.6), (-0.38, -0.78)), 0.05, fur)
        hx, hy = 0.34, -0.52
    pen.ellipse(hx, hy, 0.15, 0.13, fur)
    pen.poly(((hx - 0.14, hy - 0.04), (hx - 0.12, hy - 0.26), (hx - 0.02, hy - 0.1)), fur)
    pen.poly(((hx + 0.14, hy - 0.04), (hx + 0.12, hy - 0.26), (hx + 0.02, hy - 0.1)), fur)
    eye = (120, 200, 60) if paint.scene != "night" else (200, 230, 90)
    pen.ellipse(hx - 0.06, hy - 0.01, 0.025, 0.03, eye)
    pen.ellipse(hx + 0.06, hy - 0.01, 0.025, 0.03, eye)


def _paint_car(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    body = col("car")
    pen.poly(((-0.5, -0.1), (0.5, -0.1), (0.5, -0.28), (0.3, -0.32), (-0.5, -0.32)), body)
    pen.poly(((-0.32, -0.32), (0.22, -0.32), (0.1, -0.5), (-0.25, -0.5)), body)
    glass = (40, 50, 60) if paint.scene in ("night", "sunset") else (150, 180, 200)
    pen.poly(((-0.27, -0.34), (0.17, -0.34), (0.07, -0.47), (-0.22, -0.47)), glass)
    for x in (-0.3, 0.3):
        pen.ellipse(x, -0.1, 0.11, 0.11, (20, 20, 20))
        pen.ellipse(x, -0.1, 0.05, 0.05, (150, 150, 150))
    if paint.scene == "night":
        pen.ellipse(0.47, -0.24, 0.04, 0.03, (255, 240, 180))


def _paint_bird(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    body = col("bird")
    pen.ellipse(0.0, 0.0, 0.28, 0.12, body)
    pen.ellipse(0.26, -0.07, 0.1, 0.09, body)
    pen.poly(((0.34, -0.09), (0.46, -0.05), (0.34, -0.03)), (230, 150, 30))
    pen.poly(((-0.26, 0.0), (-0.46, -0.08), (-0.44, 0.08)), body)
    up = rng.uniform(0.3, 0.6)
    pen.poly(((-0.1, -0.02), (0.1, -0.02), (-0.15, -up)), tuple(int(v * 0.8) for v in body))


def _paint_people(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    n_people = 1 if rng.random() < 0.65 else int(rng.integers(2, 4))
    for k in range(n_people):
        dx = (k - (n_people - 1) / 2) * 0.32
        skin, shirt, legs = col("skin"), col("shirt"), col("trousers")
        pen.rect(dx - 0.09, -0.45, dx - 0.015, 0.0, legs)
        pen.rect(dx + 0.015, -0.45, dx + 0.09, 0.0, legs)
        pen.poly(((dx - 0.13, -0.8), (dx + 0.13, -0.8), (dx + 0.11, -0.43), (dx - 0.11, -0.43)), shirt)
        pen.line(((dx - 0.12, -0.78), (dx - 0.2, -0.5)), 0.05, shirt)
        pen.line(((dx + 0.12, -0.78), (dx + 0.2, -0.5)), 0.05, shirt)
        pen.ellipse(dx, -0.9, 0.085, 0.1, skin)
        pen.ellipse(dx, -0.96, 0.09, 0.05, tuple(int(v * 0.35) for v in col("dog")))


def _paint_building(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    wall = col("building")
    w = rng.uniform(0.3, 0.55)
    pen.rect(-w, -1.0, w, 0.0, wall)
    if rng.random() < 0.3:
        roof = tuple(int(v * 0.7) for v in wall)
        pen.poly(((-w - 0.05, -1.0), (w + 0.05, -1.0), (0.0, -1.0 - w * 0.7)), roof)
    lit = paint.scene == "night"
    nx = int(rng.integers(2, 5))
    ny = int(rng.integers(3, 7))
    for r in range(ny):
        for c in range(nx):
            x0 = -w + (c + 0.25) * 2 * w / nx
            y0 = -0.95 + r * 0.88 / ny
            if lit:
                fill = (250, 220, 120) if rng.random() < 0.6 else (40, 50, 70)
            else:
                fill = (60, 80, 110)
            pen.rect(x0, y0, x0 + w / nx, y0 + 0.45 / ny, fill)


def _paint_clouds(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    c = col("clouds") if paint.scene != "sunset" else (235, 160, 140)
    for k in range(int(rng.integers(3, 6))):
        ex, ey = rng.uniform(-0.4, 0.4), rng.uniform(-0.15, 0.05)
        pen.ellipse(ex, ey, rng.uniform(0.15, 0.3), rng.uniform(0.08, 0.16), c)


def _paint_mountain(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    rock = col("mountain")
    for k in range(int(rng.integers(1, 3))):
        dx = rng.uniform(-0.5, 0.5) * k
        hgt = rng.uniform(0.7, 1.0)
        wdt = rng.uniform(0.8, 1.3)
        pen.poly(((dx - wdt, 0.0), (dx + wdt, 0.0), (dx, -hgt)), rock)
        if paint.scene != "night":
            cap = ((dx - wdt * 0.3, -hgt * 0.7), (dx + wdt * 0.3, -hgt * 0.7), (dx, -hgt))
            pen.poly(cap, (245, 245, 250))


def _paint_food(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    pen.ellipse(0.0, -0.5, 0.5, 0.42, (245, 245, 240) if not paint.odd else col("food"))
    pen.ellipse(0.0, -0.5, 0.4, 0.33, (230, 230, 225))
    for k in range(int(rng.integers(3, 7))):
        ex, ey = rng.uniform(-0.25, 0.25), -0.5 + rng.uniform(-0.2, 0.2)
        pen.ellipse(ex, ey, rng.uniform(0.06, 0.14), rng.uniform(0.05, 0.12), col("food"))


def _paint_boat(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    hull = col("hull")
    pen.poly(((-0.5, -0.18), (0.5, -0.18), (0.36, 0.0), (-0.38, 0.0)), hull)
    if rng.random() < 0.6:
        pen.line(((0.0, -0.18), (0.0, -0.95)), 0.03, (90, 70, 50))
        sail = (250, 250, 245) if not paint.odd else col("hull")
        pen.poly(((0.03, -0.92), (0.03, -0.22), (0.4, -0.22)), sail)
        pen.poly(((-0.03, -0.8), (-0.03, -0.22), (-0.3, -0.22)), (235, 235, 230))
    else:
        pen.rect(-0.25, -0.38, 0.2, -0.18, (235, 235, 235))
        pen.rect(-0.18, -0.34, 0.12, -0.27, (60, 80, 110))


def _paint_bicycle(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    frame = col("bicycle")
    pen.ring(-0.3, -0.2, 0.19, 0.035, (25, 25, 25))
    pen.ring(0.3, -0.2, 0.19, 0.035, (25, 25, 25))
    pen.line(((-0.3, -0.2), (-0.05, -0.2), (0.22, -0.5), (-0.12, -0.5), (-0.3, -0.2)), 0.04, frame)
    pen.line(((-0.05, -0.2), (-0.15, -0.58)), 0.04, frame)
    pen.line(((0.3, -0.2), (0.22, -0.5), (0.2, -0.62), (0.3, -0.64)), 0.04, frame)
    pen.rect(-0.22, -0.62, -0.08, -0.58, (30, 30, 30))


def _paint_horse(pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    col = paint.colour
    coat = col("horse")
    dark = tuple(int(v * 0.5) for v in coat)
    for x in (-0.3, -0.2, 0.2, 0.3):
        pen.rect(x - 0.03, -0.5, x + 0.03, 0.0, coat)
    pen.ellipse(0.0, -0.58, 0.4, 0.15, coat)
    pen.poly(((0.22, -0.62), (0.34, -0.7), (0.5, -0.98), (0.4, -1.0), (0.3, -0.8), (0.2, -0.7)), coat)
    pen.poly(((0.4, -1.0), (0.52, -0.98), (0.68, -0.82), (0.62, -0.78)), coat)
    pen.line(((0.32, -0.98), (0.22, -0.72)), 0.04, dark)
    pen.line(((-0.38, -0.62), (-0.5, -0.3)), 0.05, dark)


#: One small painter per object label: ``painter(pen, paint, rng, scene)`` draws the object
#: in the object frame of ``pen`` (base point at the origin, height 1).
_OBJECT_PAINTERS: dict[str, Callable[[_Pen, _Painter, np.random.Generator, str], None]] = {
    "tree": _paint_tree,
    "flower": _paint_flower,
    "dog": _paint_dog,
    "cat": _paint_cat,
    "car": _paint_car,
    "bird": _paint_bird,
    "people": _paint_people,
    "building": _paint_building,
    "clouds": _paint_clouds,
    "mountain": _paint_mountain,
    "food": _paint_food,
    "boat": _paint_boat,
    "bicycle": _paint_bicycle,
    "horse": _paint_horse,
}


def _draw_object(name: str, pen: _Pen, paint: _Painter, rng: np.random.Generator, scene: str) -> None:
    _OBJECT_PAINTERS[name](pen, paint, rng, scene)

def _place(name: str, rng: np.random.Generator, horizon: float, scene: str) -> tuple[float, float]:
    """Base point (fractions of the side) for an object."""
    x = rng.uniform(0.15, 0.85)
    if name in ("clouds",):
        return x, rng.uniform(0.12, max(0.15, horizon - 0.1))
    if name == "bird":
        if scene == "indoor" or rng.random() < 0.25:
            return x, rng.uniform(max(horizon, 0.4), 0.95)
        return x, rng.uniform(0.1, max(0.15, horizon - 0.1))
    if name == "mountain":
        return rng.uniform(0.2, 0.8), horizon + 0.01
    if name == "building":
        if horizon < 0.3:  # looking down: the building stands in the frame
            return x, rng.uniform(0.6, 0.98)
        return x, min(0.98, horizon + rng.uniform(0.0, 0.08))
    if name == "boat":
        lo = horizon + 0.05
        hi = 0.8 if scene == "sea" else 0.97
        return x, rng.uniform(lo, max(lo + 0.01, hi))
    if name == "food":
        return rng.uniform(0.3, 0.7), rng.uniform(0.7, 1.0)
    lo = max(horizon + 0.04, 0.35)
    return x, rng.uniform(lo, max(lo + 0.01, 0.98))


def render_array(
    seed: int, index: int, scene: str, labels: Sequence[str], hard: bool, image_size: int = 96
) -> np.ndarray:
    """Render one synthetic photo as a ``(S, S, 3)`` uint8 array.

    A pure function of its arguments: random choices (layout, colours, noise) come
    from the ``"synthetic.render"`` stream of ``(seed, index)``, content (scene, labels, hard) is given.
    """
    rng = stream(int(seed), "synthetic.render", int(index))
    S = int(image_size)
    labels = set(labels)
    objects = [o for o in _DRAW_ORDER if o in labels]
    sky = "sky" in labels
    water = scene == "sea" or ("boat" in labels and scene in ("sunset", "night"))
    hard_kind = _HARD_KINDS[int(rng.integers(len(_HARD_KINDS)))] if hard else ""

    bg, horizon = _background(rng, scene, sky, water, S)
    big = S * _SS
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8)).resize((big, big), Image.NEAREST)
    draw = ImageDraw.Draw(img)

    # clutter: rocks, bushes, signs - no label
    for _ in range(int(rng.integers(0, 4))):
        cx, cy = rng.uniform(0, 1) * big, rng.uniform(max(horizon, 0.3), 1.0) * big
        r = rng.uniform(0.02, 0.07) * big
        fill = tuple(int(v) for v in rng.uniform(40, 170, 3))
        if rng.random() < 0.5:
            draw.ellipse((cx - r, cy - r * 0.6, cx + r, cy + r * 0.6), fill=fill)
        else:
            draw.rectangle((cx - r * 0.5, cy - r, cx + r * 0.5, cy), fill=fill)

    paint = _Painter(rng, scene, hard_kind == "oddcolour")
    bboxes = []
    for name in objects:
        lo, hi = _SIZE[name]
        size = rng.uniform(lo, hi) * big
        if hard_kind == "small" and name not in ("mountain", "clouds"):
            size *= rng.uniform(0.3, 0.45)
        bx, by = _place(name, rng, horizon, scene)
        if name not in ("mountain", "building", "clouds", "food"):
            size *= 0.7 + 0.5 * max(0.0, by - horizon) / max(1e-3, 1.0 - horizon)  # perspective
        rot = 0.0
        if name not in ("mountain", "building"):
            rot = rng.uniform(-0.2, 0.2) + (rng.uniform(-0.4, 0.4) if name == "bird" else 0.0)
        flip = -1.0 if rng.random() < 0.5 else 1.0
        pen = _Pen(draw, bx * big, by * big, size, rot, flip)
        _draw_object(name, pen, paint, rng, scene)
        bboxes.append((bx * big, by * big - size * 0.5, size))

    if hard_kind == "occluded" and bboxes:
        cx, cy, size = bboxes[-1]
        fill = tuple(int(v) for v in rng.uniform(30, 200, 3))
        ox, oy = cx + rng.uniform(-0.3, 0.3) * size, cy + rng.uniform(-0.3, 0.3) * size
        r = size * rng.uniform(0.35, 0.55)
        if rng.random() < 0.5:
            draw.rectangle((ox - r, oy - r, ox + r, oy + r), fill=fill)
        else:
            draw.ellipse((ox - r, oy - r * 0.8, ox + r, oy + r * 0.8), fill=fill)

    small = img.reduce(_SS)
    blur = 0.0
    if hard_kind == "darkblur":
        blur = rng.uniform(1.2, 2.0)
    elif rng.random() < 0.25:
        blur = rng.uniform(0.4, 0.9)
    if blur:
        small = small.filter(ImageFilter.GaussianBlur(blur * S / 96))
    arr = np.asarray(small, dtype=np.float32)

    # photometric: exposure, colour cast, lighting field, vignette, sensor noise
    gain = math.exp(rng.normal(0.0, 0.12))
    if hard_kind == "darkblur":
        gain *= rng.uniform(0.35, 0.55) if rng.random() < 0.7 else rng.uniform(1.5, 1.8)
    cast = (1.0 + rng.normal(0.0, 0.04, 3)).astype(np.float32) * np.float32(gain)
    light = 1.0 + 0.12 * _smooth_field(rng, S, 3)[:, :, None]
    arr = arr * cast * light
    if rng.random() < 0.4:
        arr *= _vignette(S)
    tile = _noise_tile(S)
    oy, ox = rng.integers(0, tile.shape[0] - S + 1, 2)
    sigma = np.float32(rng.uniform(3.0, 10.0))
    arr += sigma * tile[oy : oy + S, ox : ox + S]
    return np.clip(arr, 0, 255).astype(np.uint8)
