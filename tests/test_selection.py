"""select_on_grid against a score whose optimum is known by hand."""
from __future__ import annotations

import math

import pytest

from neighborlib.models import select_on_grid


def _peaked(at: float, calls: list):
    def evaluate(C: float, start):
        calls.append((C, start))
        return -((math.log10(C) - math.log10(at)) ** 2)

    return evaluate


def test_an_interior_optimum_needs_no_extension():
    calls: list = []
    best, scores = select_on_grid(_peaked(1.0, calls), grid=(10.0, 0.1, 1.0), extend=3)
    assert best == 1.0 and list(scores) == [0.1, 1.0, 10.0]
    assert calls == [(0.1, None), (1.0, 0.1), (10.0, 1.0)]  # ascending, each warm-started from the last


def test_a_clipped_optimum_is_followed_past_the_end_by_the_grid_ratio():
    calls: list = []
    best, scores = select_on_grid(_peaked(1e-3, calls), grid=(0.1, 1.0), extend=5)
    # 0.01 (best at the end again), 0.001 (best), then 0.0001 is worse: interior, stop
    assert list(scores) == pytest.approx([1e-4, 1e-3, 1e-2, 0.1, 1.0])
    assert best == pytest.approx(1e-3)
    assert [s for _, s in calls[2:]] == pytest.approx([0.1, 0.01, 0.001])  # warm start from the end
    calls.clear()
    best, scores = select_on_grid(_peaked(1e3, calls), grid=(1.0, 3.0), extend=2)
    assert list(scores) == pytest.approx([1.0, 3.0, 9.0, 27.0]) and best == pytest.approx(27.0)  # capped


def test_ties_go_to_the_smaller_value_and_bad_grids_are_refused():
    best, _ = select_on_grid(lambda C, s: 1.0, grid=(1.0, 2.0, 4.0), extend=0)
    assert best == 1.0
    with pytest.raises(ValueError, match="positive"):
        select_on_grid(lambda C, s: 0.0, grid=(0.0, 1.0))
    with pytest.raises(ValueError, match="positive"):
        select_on_grid(lambda C, s: 0.0, grid=())
