"""Choosing a regularisation strength on validation data, on a grid that can grow.

Every protocol method chooses its hyperparameters on its split's validation part. For an
inverse regularisation strength ``C`` a fixed grid can clip the optimum (the best value
at an end of the grid says only that the optimum lies there *or beyond*), so
:func:`select_on_grid` extends the grid past that end, a grid ratio at a time, until the
best value is interior or ``extend`` steps are spent.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence, TypeVar

__all__ = ["select_fitted", "select_on_grid"]

M = TypeVar("M")


def select_on_grid(
    evaluate: Callable[[float, float | None], float],
    grid: Sequence[float],
    extend: int = 0,
) -> tuple[float, dict[float, float]]:
    """Evaluate ``grid`` (ascending) and keep the best value; extend it past a clipping end.

    Args:
        evaluate: ``evaluate(value, start)`` fits at ``value`` and returns its validation
            score (higher is better); ``start`` is the already evaluated neighbour to warm-start
            from (the previous grid value, or the end being extended), ``None`` for the first.
        grid: positive candidate values (sorted here; at least one).
        extend: when the best lies at an end of the evaluated values, try up to ``extend``
            more values beyond that end, each a factor of the end's ratio further
            (``grid[1] / grid[0]`` below, ``grid[-1] / grid[-2]`` above), stopping as soon as
            the best is interior.

    Returns:
        ``(best value, {value: score})`` in ascending order of value; ties go to the smaller value.
    """
    values = sorted(float(v) for v in grid)
    if not values or values[0] <= 0:
        raise ValueError(f"grid must hold positive values, got {list(grid)}")
    scores: dict[float, float] = {}
    prev = None
    for v in values:
        scores[v] = float(evaluate(v, prev))
        prev = v

    def best() -> float:
        return max(sorted(scores), key=lambda c: (scores[c], -c))

    for _ in range(int(extend)):
        order = sorted(scores)
        b = best()
        if len(order) < 2 or order[0] < b < order[-1]:
            break
        lo, hi = order[0], order[-1]
        if b == lo:
            scores[lo * lo / order[1]] = float(evaluate(lo * lo / order[1], lo))
        else:
            scores[hi * hi / order[-2]] = float(evaluate(hi * hi / order[-2], hi))
    return best(), dict(sorted(scores.items()))


def select_fitted(
    fit: Callable[[float, M | None], M],
    X_val: Any,
    Y_val: Any,
    grid: Sequence[float],
    extend: int = 0,
) -> tuple[M, dict[float, float]]:
    """:func:`select_on_grid` for a model with ``decision_function``, scored by per-label mAP.

    Args:
        fit: ``fit(C, start)`` returns a model fitted at ``C``; ``start`` is the already
            fitted neighbour on the grid to warm-start from (``None`` for the first), which a
            model may ignore.
        X_val, Y_val: the validation inputs and ``(N, L)`` binary labels.

    Returns:
        ``(best fitted model, {C: validation per-label mAP})``; ties go to the smaller ``C``.
    """
    from ..metrics import mean_average_precision

    models: dict[float, M] = {}

    def evaluate(C: float, start: float | None) -> float:
        models[C] = fit(C, None if start is None else models[start])
        return mean_average_precision(models[C].decision_function(X_val), Y_val, per="label")  # type: ignore[attr-defined]

    best_C, scores = select_on_grid(evaluate, grid, extend)
    return models[best_C], scores
