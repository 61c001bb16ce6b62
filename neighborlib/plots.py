"""The book's figures: matplotlib/seaborn, labelled axes, and a visible badge on synthetic data."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

__all__ = ["book_style", "data_badge", "plot_label_neighbour_curve", "plot_label_lift_heatmap", "style_params"]


def style_params() -> dict:
    """The book's look as matplotlib rc parameters: seaborn's ``whitegrid`` style, its
    ``notebook`` context and ``colorblind`` palette, 100 dpi figures saved at 150.

    Nothing here changes matplotlib's global settings. A chapter opts in explicitly, for
    the rest of its kernel, with ``plt.rcParams.update(plots.style_params())``; code that
    must not leak settings uses ``with plots.book_style(): ...``.
    """
    from matplotlib import cycler

    params = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook")}
    params["axes.prop_cycle"] = cycler(color=sns.color_palette("colorblind").as_hex())
    params.update({"figure.dpi": 100, "savefig.dpi": 150, "figure.autolayout": True})
    return params


def book_style():
    """A context in which figures take :func:`style_params` (the previous settings come back after)."""
    return plt.rc_context(style_params())


def data_badge(ax: plt.Axes, synthetic: bool) -> None:
    """Mark a figure made from the synthetic world, so it is never mistaken for real data."""
    if synthetic:
        ax.text(
            0.99, 0.01, "SYNTHETIC DATA", transform=ax.transAxes, ha="right", va="bottom",
            fontsize=9, color="crimson", fontweight="bold", alpha=0.8,
        )


def plot_label_neighbour_curve(
    curves: Mapping[str, np.ndarray],
    base_rate: float | Mapping[str, float],
    ax: plt.Axes | None = None,
    synthetic: bool = False,
    xlabel: str = "k (rank of the metadata neighbour)",
) -> plt.Axes:
    """LTN Figure 6, averaged over labels: one line per metadata setting (e.g. per τ).

    Args:
        curves: setting name -> ``(L, K)`` curve from :func:`neighborlib.stats.label_neighbour_curve`.
        base_rate: mean label base rate (what a random neighbour gives), drawn dashed: one
            number for all curves (grey), or one per curve name (in the curve's colour) when
            each curve counts different images.
        ax: axes to draw on (a new figure if ``None``).
        synthetic: add the synthetic-data badge.
        xlabel: the x-axis label.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    rates = dict(base_rate) if isinstance(base_rate, Mapping) else {}
    for name, curve in curves.items():
        k = np.arange(1, curve.shape[1] + 1)
        (line,) = ax.plot(k, np.nanmean(curve, axis=0), marker="o", markersize=3, label=name)
        if name in rates:
            ax.axhline(rates[name], color=line.get_color(), linestyle="--", linewidth=1,
                       label=f"base rate, {name}")
    if not rates:
        ax.axhline(float(base_rate), color="grey", linestyle="--", label="base rate (random image)")  # type: ignore[arg-type]
    ax.set_xlabel(xlabel)
    ax.set_ylabel("P(k-th neighbour has label | image has it)\nmean over labels")
    top = max(list(rates.values()) or [float(base_rate)])  # type: ignore[arg-type]
    top = max([top] + [float(np.nanmax(np.nanmean(c, axis=0))) for c in curves.values()])
    ax.set_ylim(0, min(1.0, 1.15 * top))
    ax.legend(frameon=True)
    data_badge(ax, synthetic)
    return ax


def plot_label_lift_heatmap(
    curve: np.ndarray,
    rates: np.ndarray,
    label_names: Sequence[str],
    ks: Sequence[int] = (1, 2, 5, 10, 20, 50),
    ax: plt.Axes | None = None,
    synthetic: bool = False,
) -> plt.Axes:
    """Per-label lift ``P(k-th neighbour has j | image has j) / P(j)`` at a few ranks ``k``."""
    ks = [k for k in ks if k <= curve.shape[1]]
    lift = curve[:, [k - 1 for k in ks]] / np.asarray(rates)[:, None]
    order = np.argsort(-lift[:, 0], kind="stable")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.9 * len(ks) + 2.5, 0.28 * len(label_names) + 1.2))
    sns.heatmap(
        lift[order], ax=ax, annot=True, fmt=".1f", cmap="viridis",
        xticklabels=[str(k) for k in ks], yticklabels=[label_names[i] for i in order],
        cbar_kws={"label": "lift over base rate"},
    )
    ax.set_xlabel("k (rank of the metadata neighbour)")
    ax.set_ylabel("label")
    data_badge(ax, synthetic)
    return ax
