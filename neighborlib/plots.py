"""The book's figures: matplotlib/seaborn, labelled axes, and a visible badge on synthetic data."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

__all__ = [
    "book_style",
    "data_badge",
    "plot_ap_scatter",
    "plot_gain_against_frequency",
    "plot_label_lift_heatmap",
    "plot_label_neighbour_curve",
    "plot_neighbour_iterations",
    "plot_photo_rows",
    "plot_precision_recall",
    "plot_jaccard_histogram",
    "plot_label_map",
    "plot_metric_curves",
    "plot_refined_tags",
    "plot_weight_halves",
    "style_params",
]


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


def plot_ap_scatter(
    ap_x: np.ndarray,
    ap_y: np.ndarray,
    label_names: Sequence[str],
    xlabel: str,
    ylabel: str,
    ax: plt.Axes | None = None,
    synthetic: bool = False,
    annotate: int = 6,
) -> plt.Axes:
    """Per-label AP of one model against another, with the line ``y = x`` (LTN Figure 5b,
    MangoNet Figure 5). The ``annotate`` labels farthest from the line are named."""
    ap_x, ap_y = np.asarray(ap_x, float), np.asarray(ap_y, float)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 5.0))
    ax.scatter(ap_x, ap_y, s=22, zorder=3)
    lo = float(min(ap_x.min(), ap_y.min(), 0.0))
    ax.plot([lo, 1], [lo, 1], color="grey", linestyle="--", linewidth=1, label="y = x")
    for i in np.argsort(-np.abs(ap_y - ap_x), kind="stable")[:annotate]:
        ax.annotate(label_names[i], (ap_x[i], ap_y[i]), fontsize=8, xytext=(3, -9), textcoords="offset points")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(lo, 1.0)
    ax.set_ylim(lo, 1.0)
    ax.legend(loc="lower right")
    data_badge(ax, synthetic)
    return ax


def plot_gain_against_frequency(
    gain: np.ndarray,
    frequency: np.ndarray,
    label_names: Sequence[str],
    ylabel: str,
    ax: plt.Axes | None = None,
    synthetic: bool = False,
    annotate: int = 6,
) -> plt.Axes:
    """Per-label AP difference against the label's number of images, log x-axis (LTN Figure 5b, right)."""
    gain, frequency = np.asarray(gain, float), np.asarray(frequency, float)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 4.0))
    ax.scatter(frequency, gain, s=22, zorder=3)
    ax.axhline(0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    for i in np.argsort(-np.abs(gain), kind="stable")[:annotate]:
        ax.annotate(label_names[i], (frequency[i], gain[i]), fontsize=8, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("images with the label (whole set, log scale)")
    ax.set_ylabel(ylabel)
    data_badge(ax, synthetic)
    return ax


def plot_precision_recall(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]],
    title: str,
    ax: plt.Axes | None = None,
    synthetic: bool = False,
) -> plt.Axes:
    """Precision-recall curves: name -> ``(recall, precision, AP)`` (LTN Figure 5a)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.0))
    for name, (recall, precision, ap) in curves.items():
        ax.step(recall, precision, where="post", label=f"{name} (AP {ap:.3f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    data_badge(ax, synthetic)
    return ax


def plot_weight_halves(
    W_image: np.ndarray, W_neighbours: np.ndarray, label_names: Sequence[str], synthetic: bool = False
) -> plt.Figure:
    """LTN Figure 3: ``W_y``'s image and neighbour halves, ``(L, h)`` each, on one colour scale
    (hidden units sorted by their weight norm over the labels, per half)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.24 * len(label_names) + 1.8), sharey=True)
    vmax = float(np.abs(np.concatenate([W_image, W_neighbours], axis=1)).max())
    for ax, W, title in ((axes[0], W_image, "W_image (multiplies v_x)"), (axes[1], W_neighbours, "W_neighbors (multiplies v_z)")):
        order = np.argsort(-np.linalg.norm(W, axis=0), kind="stable")
        sns.heatmap(W[:, order], ax=ax, cmap="RdBu_r", vmin=-vmax, vmax=vmax, center=0, xticklabels=False,
                    yticklabels=list(label_names), cbar=ax is axes[1], cbar_kws={"label": "weight"})
        ax.set_title(title)
        ax.set_xlabel("hidden unit (sorted by weight norm)")
    axes[0].set_ylabel("label")
    data_badge(axes[1], synthetic)
    return fig


def plot_photo_rows(
    rows: Sequence[Mapping[str, object]],
    n_neighbours: int,
    synthetic: bool = False,
) -> plt.Figure:
    """LTN Figure 4: per row a query photo, its nearest metadata neighbours and two label lists.

    Each row maps ``"photo"`` (an image), ``"title"``, ``"neighbours"`` (images) and
    ``"predictions"``: ``{model name: [(label, correct), ...]}``; correct labels are drawn
    blue, wrong ones red, as in the paper.
    """
    fig, axes = plt.subplots(len(rows), n_neighbours + 2, figsize=(1.6 * (n_neighbours + 2) + 1.5, 1.9 * len(rows)),
                             gridspec_kw={"width_ratios": [1.3] + [1] * n_neighbours + [1.9]}, squeeze=False)
    for r, row in enumerate(rows):
        axes[r, 0].imshow(row["photo"])
        axes[r, 0].set_title(str(row["title"]), fontsize=8)
        for j in range(n_neighbours):
            ax = axes[r, j + 1]
            nbrs = row["neighbours"]
            if j < len(nbrs):  # type: ignore[arg-type]
                ax.imshow(nbrs[j])  # type: ignore[index]
            if r == 0:
                ax.set_title(f"neighbour {j + 1}", fontsize=8)
        text_ax = axes[r, -1]
        y = 0.95
        for model, labels in row["predictions"].items():  # type: ignore[union-attr]
            text_ax.text(0.0, y, f"{model}:", fontsize=8, fontweight="bold", va="top", transform=text_ax.transAxes)
            y -= 0.13
            for name, correct in labels:
                text_ax.text(0.06, y, name, fontsize=8, va="top", color="tab:blue" if correct else "tab:red",
                             transform=text_ax.transAxes)
                y -= 0.11
            y -= 0.04
        for ax in axes[r]:
            ax.axis("off")
    if synthetic:
        fig.text(0.99, 0.01, "SYNTHETIC DATA", ha="right", color="crimson", fontweight="bold")
    return fig


def plot_neighbour_iterations(
    query: np.ndarray,
    rows: Sequence[tuple[str, Sequence[np.ndarray], Sequence[bool]]],
    synthetic: bool = False,
) -> plt.Figure:
    """The weak-supervision paper's Figure 4: a query photo and its selected neighbours as training goes on.

    Each row is ``(title, neighbour photos, relevant flags)``; a relevant neighbour (one that
    shares a label with the query) gets a green frame, an irrelevant one a red frame, as in
    the paper. The query is drawn at the start of every row.
    """
    n = max(len(r[1]) for r in rows)
    fig, axes = plt.subplots(len(rows), n + 1, figsize=(1.35 * (n + 1), 1.45 * len(rows)), squeeze=False)
    for r, (title, photos, relevant) in enumerate(rows):
        axes[r, 0].imshow(query)
        axes[r, 0].set_ylabel(title, fontsize=8, rotation=0, ha="right", va="center")
        for j in range(n):
            ax = axes[r, j + 1]
            if j < len(photos):
                ax.imshow(photos[j])
                for side in ax.spines.values():
                    side.set_edgecolor("tab:green" if relevant[j] else "tab:red")
                    side.set_linewidth(3)
            else:
                ax.set_visible(False)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_title("query", fontsize=8)
    for j in range(n):
        axes[0, j + 1].set_title(f"neighbour {j + 1}", fontsize=8)
    fig.supxlabel("selected neighbours, nearest first (green: shares a label with the query)", fontsize=8)
    if synthetic:
        fig.text(0.99, 0.01, "SYNTHETIC DATA", ha="right", color="crimson", fontweight="bold")
    return fig


def plot_refined_tags(rows: Sequence[Mapping[str, object]], synthetic: bool = False) -> plt.Figure:
    """The weak-supervision paper's Figure 3: photos with their user tags and refined tags.

    Each row maps ``"photo"``, ``"title"`` (e.g. the labels) and ``"columns"``: ``{heading:
    [(tag, stands for a label), ...]}``, drawn as side-by-side lists under the photo, blue for
    a tag that stands for one of the photo's labels and red otherwise.
    """
    n = len(rows)
    fig, axes = plt.subplots(2, n, figsize=(2.9 * n, 5.0), gridspec_kw={"height_ratios": [1.3, 1.0]}, squeeze=False)
    for j, row in enumerate(rows):
        axes[0, j].imshow(row["photo"])
        axes[0, j].set_title(str(row["title"]), fontsize=8)
        text_ax = axes[1, j]
        columns = row["columns"]  # type: ignore[assignment]
        for k, (heading, tags) in enumerate(columns.items()):  # type: ignore[union-attr]
            x = k / max(len(columns), 1)  # type: ignore[arg-type]
            text_ax.text(x, 1.0, heading, fontsize=8, fontweight="bold", va="top", transform=text_ax.transAxes)
            for r, (tag, right) in enumerate(tags):
                text_ax.text(x, 0.86 - 0.13 * r, tag, fontsize=8, va="top", color="tab:blue" if right else "tab:red",
                             transform=text_ax.transAxes)
        for ax in axes[:, j]:
            ax.axis("off")
    if synthetic:
        fig.text(0.99, 0.01, "SYNTHETIC DATA", ha="right", color="crimson", fontweight="bold")
    return fig


def plot_metric_curves(
    table: pd.DataFrame,
    xlabel: str,
    ylabel: str,
    ax: plt.Axes | None = None,
    synthetic: bool = False,
    log_x: bool = False,
    styles: Mapping[str, Mapping[str, object]] | None = None,
    baseline: tuple[str, float] | None = None,
) -> plt.Axes:
    """One line per column of ``table`` against its index (chapter 7's Figure 8, performance
    against ``k``, and the training-set-size curves; chapter 4's curves against the
    neighbourhood size); markers at the measured points, gaps where a value is missing.

    ``styles``: extra line keywords per column name (``color``, ``linestyle``, ...).
    ``baseline``: ``(label, value)`` drawn as a dashed horizontal reference line."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 4.0))
    for column in table.columns:
        kw = {"marker": "o", **(styles or {}).get(str(column), {})}
        ax.plot(table.index, table[column], label=str(column), **kw)
    if baseline is not None:
        ax.axhline(baseline[1], color="0.45", linestyle="--", linewidth=1.0, label=baseline[0])
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    data_badge(ax, synthetic)
    return ax


def plot_jaccard_histogram(
    values: Mapping[str, np.ndarray],
    random_level: Mapping[str, float],
    paper_mean: float | None = None,
    ax: plt.Axes | None = None,
    synthetic: bool = False,
) -> plt.Axes:
    """Chapter 7's Figure 9: histograms of the per-image mean Jaccard similarity of the rows'
    top label sets, with each set's random-sets level (dashed) and the paper's mean (dotted)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.0))
    bins = np.linspace(0.0, 1.0, 41)
    colours = sns.color_palette("colorblind")
    for c, (name, v) in zip(colours, values.items()):
        ax.hist(np.asarray(v, float), bins=bins, alpha=0.55, color=c, label=f"{name} (mean {np.mean(v):.3f})")
        ax.axvline(random_level[name], color=c, linestyle="--", linewidth=1.2, label=f"{name}: random sets")
    if paper_mean is not None:
        ax.axvline(paper_mean, color="black", linestyle=":", linewidth=1.2, label=f"paper, NUS-WIDE mean {paper_mean:.3f}")
    ax.set_xlabel("mean Jaccard similarity of the rows' top-5 label sets (per test image)")
    ax.set_ylabel("test images")
    ax.legend(fontsize=8)
    data_badge(ax, synthetic)
    return ax


def plot_label_map(
    points: np.ndarray,
    names: Sequence[str],
    groups: Sequence[str],
    ax: plt.Axes | None = None,
    synthetic: bool = False,
) -> plt.Axes:
    """Chapter 7's Figure 7: a 2-d map (t-SNE) of label word vectors, coloured by ``groups``."""
    points = np.asarray(points, float)
    if ax is None:
        _, ax = plt.subplots(figsize=(9.0, 7.0))
    for g in dict.fromkeys(groups):
        rows = [i for i, x in enumerate(groups) if x == g]
        ax.scatter(points[rows, 0], points[rows, 1], s=18, label=g, zorder=3)
    for (x, y), name in zip(points, names):
        ax.annotate(name, (x, y), fontsize=7, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel("t-SNE dimension 1")
    ax.set_ylabel("t-SNE dimension 2")
    ax.legend(fontsize=8)
    data_badge(ax, synthetic)
    return ax
