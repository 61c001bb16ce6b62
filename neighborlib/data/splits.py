"""Seeded train/val/test splits.

The papers report mean ± std over 5 random splits; :func:`random_splits` makes
them reproducibly: split ``k`` of seed ``s`` draws from the independent stream
``neighborlib.seeding.stream(s, "splits", k)``, so adding splits never changes earlier
ones, and no split shares a stream with the synthetic world or a model's initialisation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..seeding import stream

__all__ = ["Split", "random_splits"]


@dataclass(frozen=True, eq=False)
class Split:
    """Index arrays (sorted, disjoint) into a dataset.

    Attributes:
        seed: the base seed.
        index: which split of that seed (0-based).
        train, val, test: int64 index arrays.
    """

    seed: int
    index: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def __repr__(self) -> str:
        return (
            f"Split(seed={self.seed}, index={self.index}, train={len(self.train)}, "
            f"val={len(self.val)}, test={len(self.test)})"
        )


def _sizes(n: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    n_train = int(round(fractions[0] * n))
    n_val = int(round(fractions[1] * n))
    return n_train, n_val, n - n_train - n_val


def random_splits(
    n: int,
    n_splits: int = 5,
    seed: int = 0,
    fractions: tuple[float, float, float] = (0.5, 0.1, 0.4),
    eligible: np.ndarray | None = None,
) -> list[Split]:
    """``n_splits`` random train/val/test splits of ``n`` images.

    Args:
        n: number of images.
        n_splits: how many splits (the papers use 5).
        seed: base seed; split ``k`` uses ``stream(seed, "splits", k)``.
        fractions: (train, val, test) fractions of the eligible images.
        eligible: optional ``(n,)`` bool mask; images outside it are in no part
            (e.g. images without any tag when a protocol discards them).

    Returns:
        A list of :class:`Split`, each with sorted, disjoint index arrays.
    """
    if n_splits < 1:
        raise ValueError(f"n_splits must be >= 1, got {n_splits}")
    pool = np.arange(n, dtype=np.int64)
    if eligible is not None:
        eligible = np.asarray(eligible, dtype=bool)
        if eligible.shape != (n,):
            raise ValueError(f"eligible must have shape ({n},), got {eligible.shape}")
        pool = pool[eligible]
    n_train, n_val, _ = _sizes(len(pool), fractions)
    splits = []
    for k in range(n_splits):
        perm = stream(seed, "splits", k).permutation(pool)
        splits.append(
            Split(
                seed=seed,
                index=k,
                train=np.sort(perm[:n_train]),
                val=np.sort(perm[n_train : n_train + n_val]),
                test=np.sort(perm[n_train + n_val :]),
            )
        )
    return splits
