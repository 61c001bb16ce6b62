"""Plots: the book's style leaves matplotlib's global settings alone; figures label their axes."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from neighborlib import plots  # noqa: E402


def test_style_is_explicit_and_scoped():
    before = dict(plt.rcParams)
    params = plots.style_params()
    assert dict(plt.rcParams) == before  # building the style changes nothing
    assert params["axes.grid"] is True and params["figure.dpi"] == 100
    assert params["axes.prop_cycle"].by_key()["color"][0] == "#0173b2"  # seaborn colorblind's first colour
    with plots.book_style():
        assert plt.rcParams["figure.dpi"] == 100 and plt.rcParams["axes.grid"]
    assert dict(plt.rcParams) == before  # and the context gives the old settings back


def test_label_neighbour_curve_has_labelled_axes_and_one_line_per_curve():
    curves = {"τ = 100": np.full((3, 5), 0.4), "τ = 1000": np.full((3, 5), 0.5)}
    ax = plots.plot_label_neighbour_curve(curves, {"τ = 100": 0.1, "τ = 1000": 0.2}, synthetic=True)
    assert ax.get_xlabel() and ax.get_ylabel()
    solid = [l for l in ax.get_lines() if l.get_linestyle() == "-"]
    assert len(solid) == 2 and np.allclose(solid[1].get_ydata(), 0.5)
    assert any(t.get_text() == "SYNTHETIC DATA" for t in ax.texts)
    plt.close(ax.figure)


def test_neighbour_iterations_frames_relevant_neighbours_green():
    photo = np.zeros((8, 8, 3))
    fig = plots.plot_neighbour_iterations(photo, [("φ0", [photo, photo], [True, False]), ("batch 5", [photo], [True])])
    axes = fig.axes
    assert len(axes) == 2 * 3
    colours = [ax.spines["top"].get_edgecolor() for ax in axes[1:3]]
    assert colours[0] != colours[1]  # one relevant (green), one not (red)
    assert not axes[5].get_visible()  # the second row has one neighbour: its second slot is hidden
    assert fig._supxlabel.get_text()
    plt.close(fig)


def test_refined_tags_colours_tags_by_label():
    photo = np.zeros((8, 8, 3))
    rows = [{"photo": photo, "title": "labels: dog", "columns": {"user tags": [("dog", True), ("cute", False)],
                                                                 "refined": [("puppy (0.4)", False)]}}]
    fig = plots.plot_refined_tags(rows)
    texts = {t.get_text(): t.get_color() for t in fig.axes[1].texts}
    assert set(texts) == {"user tags", "refined", "dog", "cute", "puppy (0.4)"}
    assert texts["dog"] != texts["cute"]
    plt.close(fig)


def test_metric_curves_take_styles_and_a_dashed_baseline():
    import pandas as pd

    table = pd.DataFrame({"LTN (n: id)": [0.60, 0.62, np.nan], "RTN (n: id)": [0.61, 0.63, 0.65]}, index=[3, 6, 12])
    ax = plots.plot_metric_curves(table, "m", "mAP per label", styles={"RTN (n: id)": {"color": "red"}},
                                  baseline=("visual-only", 0.58))
    lines = {l.get_label(): l for l in ax.get_lines()}
    assert set(lines) == {"LTN (n: id)", "RTN (n: id)", "visual-only"}
    assert lines["RTN (n: id)"].get_color() == "red" and lines["RTN (n: id)"].get_marker() == "o"
    assert lines["visual-only"].get_linestyle() == "--" and np.allclose(lines["visual-only"].get_ydata(), 0.58)
    assert np.isnan(lines["LTN (n: id)"].get_ydata()[2])  # a setting that did not run stays a gap
    assert ax.get_xlabel() == "m" and ax.get_ylabel() == "mAP per label"
    plt.close(ax.figure)
