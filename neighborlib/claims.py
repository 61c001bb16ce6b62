"""The claims check that ends every chapter: a paper's claim against our measured gap.

A claim compares two rows of a protocol table on one metric ("LTN beats visual-only on
mAP_L"). :func:`paired_gap` measures it split by split: the methods ran on the same
splits, so the per-split differences are paired and their spread is the honest error
bar. A claim is **confirmed** when the mean gap has the claimed sign and every split
agrees, **refuted** when the mean gap has the opposite sign on every split, and
**not resolved** otherwise (the splits disagree: the gap is within the noise).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .protocol import ProtocolResult

__all__ = ["Gap", "claims_table", "paired_gap", "records_gap", "stability", "verdict"]


@dataclass(frozen=True)
class Gap:
    """``a - b`` on one metric over paired splits."""

    a: str
    b: str
    metric: str
    differences: np.ndarray  # (n_splits,)

    @property
    def mean(self) -> float:
        return float(np.mean(self.differences))

    @property
    def std(self) -> float:
        return float(np.std(self.differences, ddof=1)) if self.differences.size > 1 else 0.0

    def __str__(self) -> str:
        return f"{self.mean:+.3f} ± {self.std:.3f} ({int((self.differences > 0).sum())}/{self.differences.size} splits > 0)"


def paired_gap(result: ProtocolResult, a: str, b: str, metric: str = "mAP_label") -> Gap:
    """Per-split ``metric(a) - metric(b)`` of two methods of one protocol run."""
    for name in (a, b):
        if name not in result.metrics:
            raise KeyError(f"{name!r} is not a method of this run; it has {list(result.metrics)}")
    diffs = np.array([ra[metric] - rb[metric] for ra, rb in zip(result.metrics[a], result.metrics[b])])
    return Gap(a, b, metric, diffs)


def records_gap(records: pd.DataFrame, a: Mapping[str, Any], b: Mapping[str, Any], metric: str = "mAP_label") -> Gap:
    """Per-split ``metric(a) - metric(b)`` from a long table of runs (:meth:`ProtocolResult.records`,
    a grid file), ``a`` and ``b`` each selecting one row per split by column values, e.g.
    ``{"method": "RTN (n: w2v)", "m": 12}``; the rows are paired on ``split``.

    Raises:
        ValueError: a selection matches no row or two rows of one split, or the two
            selections ran on different splits.
    """
    picked = []
    for sel in (a, b):
        mask = np.ones(len(records), bool)
        for column, value in sel.items():
            mask &= (records[column] == value).to_numpy()
        rows = records[mask]
        if rows.empty or rows["split"].duplicated().any():
            raise ValueError(f"{dict(sel)} selects {len(rows)} rows over splits {sorted(rows['split'])}; "
                             "need one row per split")
        picked.append(rows.set_index("split")[metric])
    if set(picked[0].index) != set(picked[1].index):
        raise ValueError(f"{dict(a)} ran on splits {sorted(picked[0].index)}, {dict(b)} on {sorted(picked[1].index)}")
    splits = sorted(picked[0].index)
    name = lambda sel: ", ".join(f"{k}={v}" for k, v in sel.items())  # noqa: E731
    return Gap(name(a), name(b), metric, (picked[0][splits] - picked[1][splits]).to_numpy(float))


def verdict(gap: Gap | float, expected_sign: int = 1, tolerance: float = 0.0) -> str:
    """``"confirmed"``, ``"refuted"`` or ``"not resolved"`` for a claim that ``gap`` has
    ``expected_sign`` (+1: a beats b; -1: a is below b).

    Every split's difference must exceed ``tolerance`` with the claimed sign to confirm,
    or with the opposite sign to refute. A bare float (one run) has no split-to-split
    spread, so ``tolerance`` is its noise floor: a single-split study should pass what
    it knows of its run-to-run noise rather than be judged by the sign of a 0.0004 gap."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be non-negative, got {tolerance}")
    d = np.atleast_1d(gap.differences if isinstance(gap, Gap) else np.asarray([gap], float)) * expected_sign
    if (d > tolerance).all():
        return "confirmed"
    if (d < -tolerance).all():
        return "refuted"
    return "not resolved"


def stability(values: Sequence[float], noise: Sequence[float], level: float = 0.05) -> tuple[float, float, str]:
    """Whether a setting matters beyond training noise: the variance of a metric over the
    setting's ``values`` (e.g. over ``k``) against its variance over seeds at one setting
    (``noise``), by the one-sided F test of ``var(values) / var(noise)``.

    Returns ``(F, p, verdict)``: ``"confirmed"`` (stable: ``p >= level``, the setting moves the
    metric no more than reseeding does), ``"refuted"`` (``p < level``) or ``"not resolved"``
    (fewer than two noise values, or no noise at all).
    """
    from scipy.stats import f as f_dist

    v, n = np.asarray(values, float), np.asarray(noise, float)
    if v.size < 2:
        raise ValueError("stability needs at least two values of the setting")
    if n.size < 2 or np.var(n, ddof=1) == 0:
        return float("nan"), float("nan"), "not resolved"
    F = float(np.var(v, ddof=1) / np.var(n, ddof=1))
    p = float(f_dist.sf(F, v.size - 1, n.size - 1))
    return F, p, "confirmed" if p >= level else "refuted"


def claims_table(rows: Sequence[dict]) -> pd.DataFrame:
    """The claims-check table: one row per claim with keys ``claim``, ``paper``, ``ours``,
    ``verdict`` (and any others, e.g. ``why``)."""
    df = pd.DataFrame(list(rows))
    return df.set_index("claim") if "claim" in df else df
