# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] papermill={"duration": 0.004087, "end_time": "2026-11-23T17:10:18.503227+00:00", "exception": false, "start_time": "2026-11-23T17:10:18.499140+00:00", "status": "completed"}
# # Data and metadata neighbourhoods
#
# Every method in this book starts from the same two objects: a set of images with
# ground-truth labels, and for each image some *user metadata* (tags, groups, sets,
# caption words). This chapter loads them, describes them the way
# {cite:t}`johnson2015love` do in their Table 1, measures how much an image's
# **metadata neighbours** share its labels (their Figure 6), and fits the simplest
# baseline that uses metadata alone: a one-vs-all logistic regression on the binary tag
# vector, the "tag-only" row of the LTN tables.
#
# The chapter takes papermill parameters (next cells); unknown or ill-typed ones stop it.

# %% papermill={"duration": 0.015723, "end_time": "2026-11-23T17:10:18.523670+00:00", "exception": false, "start_time": "2026-11-23T17:10:18.507947+00:00", "status": "completed"}
from neighborlib.notebook import ParameterGuard

guard = ParameterGuard("01_data_and_neighbourhoods", globals())

# %% papermill={"duration": 0.010275, "end_time": "2026-11-23T17:10:18.537192+00:00", "exception": false, "start_time": "2026-11-23T17:10:18.526917+00:00", "status": "completed"} tags=["parameters"]
dataset = "auto"  # "auto" (MIRFlickr-25K when present, else synthetic), "mirflickr25k", "coco", "synthetic"
data_root = None  # None: $NEIGHBORLIB_DATA, else ../shared/data beside the project
seed = 0  # base seed of the splits (and of the synthetic world)
splits = 5  # number of random train/val/test splits
device = "cpu"  # "cpu", "cuda" or "auto": where the neighbour search runs
quick = False  # small settings for smoke tests
tau = 5000  # tag vocabulary size τ of the tag-only baseline
taus = [100, 1000, 5000]  # vocabularies compared in the neighbour figure
k_max = 50  # neighbour ranks shown in the figure
guard.declare(globals())

# %% papermill={"duration": 5.651504, "end_time": "2026-11-23T17:10:24.191716+00:00", "exception": false, "start_time": "2026-11-23T17:10:18.540212+00:00", "status": "completed"}
params = guard.check(
    globals(),
    choices={"dataset": ["auto", "mirflickr25k", "coco", "synthetic"], "device": ["cpu", "cuda", "auto"]},
)

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from neighborlib import metrics, plots, stats
from neighborlib.data import Vocabulary, load_dataset, random_splits, resolve_dataset_name
from neighborlib.models import TagLogistic
from neighborlib.neighbours import jaccard_neighbours
from neighborlib.notebook import resolve_device

plots.set_style()
pd.set_option("display.precision", 3)
DEVICE = resolve_device(params.device)
N_SPLITS = min(params.splits, 2) if params.quick else params.splits
TAUS = ([t for t in params.taus if t <= 500] or [min(params.taus)]) if params.quick else list(params.taus)
K_MAX = min(params.k_max, 10) if params.quick else params.k_max

# %% [markdown] papermill={"duration": 0.002382, "end_time": "2026-11-23T17:10:24.197360+00:00", "exception": false, "start_time": "2026-11-23T17:10:24.194978+00:00", "status": "completed"}
# ## The data
#
# With `dataset="auto"` the chapter uses MIRFlickr-25K {cite:p}`huiskes2008mirflickr` when
# its folder is under the data root, else the synthetic social-image world. MIRFlickr-25K
# has 25,000 Flickr photos, 24 "potential" labels annotated by hand, and the Flickr users'
# own tags. The cell below says which data this run used.

# %% papermill={"duration": 2.301842, "end_time": "2026-11-23T17:10:26.501689+00:00", "exception": false, "start_time": "2026-11-23T17:10:24.199847+00:00", "status": "completed"}
name = resolve_dataset_name(params.dataset, params.data_root)
if name == "synthetic":
    ds = load_dataset("synthetic", params.data_root, n_images=800 if params.quick else 5000, seed=params.seed, render=False)
else:
    ds = load_dataset(name, params.data_root)
    if params.quick:  # a seeded subset keeps smoke tests fast
        keep = np.sort(np.random.default_rng(params.seed).choice(len(ds), 3000, replace=False))
        ds = ds.subset(keep)
KIND = "tags" if "tags" in ds.kinds else ds.kinds[0]
SYNTHETIC = ds.synthetic
tokens = ds.tokens(KIND)
if SYNTHETIC:
    display(Markdown(f"**SYNTHETIC DATA.** {ds.description}. Numbers below describe the generator, not real photos."))
else:
    display(Markdown(f"**Real data.** {ds.description}"))
print(ds)

# %% [markdown] papermill={"duration": 0.003391, "end_time": "2026-11-23T17:10:26.508960+00:00", "exception": false, "start_time": "2026-11-23T17:10:26.505569+00:00", "status": "completed"}
# ## Dataset statistics
#
# The LTN paper characterises its datasets by how many labels and tags an image carries
# and how many images carry a label or a tag, as mean and median: where the median sits
# far below the mean (images per tag, above all), the distribution is long-tailed. Tag statistics
# depend on the vocabulary, so the table shows all tags, the τ most frequent, and the
# tags used on at least 50 images (the usual 457-tag vocabulary of MIRFlickr-25K).

# %% papermill={"duration": 1.445906, "end_time": "2026-11-23T17:10:27.958257+00:00", "exception": false, "start_time": "2026-11-23T17:10:26.512351+00:00", "status": "completed"}
vocabularies = {
    "all tags": Vocabulary.top_frequent(tokens, None),
    f"top τ = {params.tau}": Vocabulary.top_frequent(tokens, params.tau),
    "on ≥ 50 images": Vocabulary.top_frequent(tokens, None, min_count=50),
}
table = pd.concat(
    [stats.dataset_statistics(ds.labels, v.encode(tokens), name=k) for k, v in vocabularies.items()], axis=1
)
table.style.set_uuid("ltn-table1").format(lambda x: f"{x:,.2f}" if isinstance(x, float) else f"{x:,}").set_caption(
    ("SYNTHETIC DATA - " if SYNTHETIC else "") + f"{ds.name}: labels and {KIND} (LTN Table 1)"
)

# %% [markdown] papermill={"duration": 0.003168, "end_time": "2026-11-23T17:10:27.965575+00:00", "exception": false, "start_time": "2026-11-23T17:10:27.962407+00:00", "status": "completed"}
# NUS-WIDE {cite:p}`chua2009nuswide`, the LTN paper's main dataset, is much larger. Where
# only its ground truth is under the data root (no tags, no photos), its label statistics
# are all this chapter can show; its official train/test split is used by later chapters.

# %% papermill={"duration": 2.083952, "end_time": "2026-11-23T17:10:30.052658+00:00", "exception": false, "start_time": "2026-11-23T17:10:27.968706+00:00", "status": "completed"}
from neighborlib.data import data_root as _root

nus_root = _root(params.data_root)
if name != "synthetic" and nus_root is not None and (nus_root / "nuswide").is_dir():
    nus = load_dataset("nuswide", params.data_root)
    nus_kind = "tags" if "tags" in nus.kinds else None
    nus_z = Vocabulary.top_frequent(nus.tokens("tags"), params.tau).encode(nus.tokens("tags")) if nus_kind else None
    print(nus.description)
    display(stats.dataset_statistics(nus.labels, nus_z, name="NUS-WIDE").dropna().to_frame())
else:
    print("NUS-WIDE is not under the data root (or this run is on the synthetic world): skipped.")

# %% [markdown] papermill={"duration": 0.003263, "end_time": "2026-11-23T17:10:30.059778+00:00", "exception": false, "start_time": "2026-11-23T17:10:30.056515+00:00", "status": "completed"}
# ## Do metadata neighbours share labels?
#
# For an image $i$ let $n_k(i)$ be its $k$-th nearest image by Jaccard distance between
# binary tag vectors, $d(z_i, z_j) = 1 - |z_i \cap z_j| / |z_i \cup z_j|$. If metadata
# neighbourhoods carry label information, then
# $P(y_{n_k(i), j} = 1 \mid y_{ij} = 1)$ should sit far above the base rate $P(y_j = 1)$
# for small $k$ and decay towards it. Neighbours are exact (see
# `neighborlib.neighbours`: ties go to the lower image index; images without any tag are
# left out of the curve, since their "neighbours" are arbitrary). Only tags enter the
# search, never labels, so the vocabulary may be chosen on all images here.

# %% papermill={"duration": 2.839793, "end_time": "2026-11-23T17:10:32.903033+00:00", "exception": false, "start_time": "2026-11-23T17:10:30.063240+00:00", "status": "completed"}
curves = {}
for t in TAUS:
    Z = Vocabulary.top_frequent(tokens, t).encode(tokens)
    table_t = jaccard_neighbours(Z, M=K_MAX, device=DEVICE)
    curves[f"τ = {t}"] = stats.label_neighbour_curve(table_t.indices, ds.labels, mask=~table_t.isolated)
    last_isolated = table_t.isolated
rates = stats.base_rates(ds.labels, mask=~last_isolated)
ax = plots.plot_label_neighbour_curve(curves, float(rates.mean()), synthetic=SYNTHETIC)
ax.set_title(f"{ds.name}: label agreement of the k-th tag neighbour")
plt.show()

# %% papermill={"duration": 0.015158, "end_time": "2026-11-23T17:10:32.921327+00:00", "exception": false, "start_time": "2026-11-23T17:10:32.906169+00:00", "status": "completed"}
summary = pd.DataFrame(
    {
        name_t: {
            "k = 1": np.nanmean(c[:, 0]),
            f"k = {K_MAX}": np.nanmean(c[:, -1]),
            "base rate": rates.mean(),
            "lift at k = 1": np.nanmean(c[:, 0] / rates),
        }
        for name_t, c in curves.items()
    }
).T
summary

# %% [markdown] papermill={"duration": 0.002536, "end_time": "2026-11-23T17:10:32.927943+00:00", "exception": false, "start_time": "2026-11-23T17:10:32.925407+00:00", "status": "completed"}
# The lift is far from uniform across labels. Labels that users tend to write down as
# tags gain most from a neighbour; visual concepts users rarely tag gain least. The
# neighbourhood models of later chapters exploit exactly that difference.

# %% papermill={"duration": 0.469233, "end_time": "2026-11-23T17:10:33.399816+00:00", "exception": false, "start_time": "2026-11-23T17:10:32.930583+00:00", "status": "completed"}
largest = list(curves)[-1]
lift1 = curves[largest][:, 0] / rates
ranked = [ds.label_names[i] for i in np.argsort(-lift1, kind="stable") if np.isfinite(lift1[i])]
print(f"{largest}: largest lift at k = 1 for {', '.join(ranked[:3])}; smallest for {', '.join(ranked[-3:])}")
ax = plots.plot_label_lift_heatmap(curves[largest], rates, ds.label_names, synthetic=SYNTHETIC)
ax.set_title(f"{ds.name}: lift over base rate, {largest}")
plt.show()

# %% [markdown] papermill={"duration": 0.003159, "end_time": "2026-11-23T17:10:33.406798+00:00", "exception": false, "start_time": "2026-11-23T17:10:33.403639+00:00", "status": "completed"}
# ## The tag-only baseline
#
# One-vs-all logistic regression on the binary tag vector $z \in \{0, 1\}^\tau$, with the
# τ most frequent tags of each *training* set (test tags never shape the vocabulary).
# The regularisation strength is chosen once, on the validation part of the first split,
# by per-label mAP, and then used for every split. Test images are scored by the
# metrics of `neighborlib.metrics` (per-label and per-image mAP; precision, recall and
# F1 at top-3, per label and overall, as in {cite:t}`gong2013ranking`). The upper bound
# row assigns each image its true labels first.

# %% papermill={"duration": 6.375611, "end_time": "2026-11-23T17:10:39.785399+00:00", "exception": false, "start_time": "2026-11-23T17:10:33.409788+00:00", "status": "completed"}
split_list = random_splits(len(ds), N_SPLITS, seed=params.seed)
first = split_list[0]
vocab0 = Vocabulary.top_frequent(tokens, params.tau, index=first.train)
Z0 = vocab0.encode(tokens)
if params.quick:
    best_C, val_scores = 1.0, {1.0: float("nan")}
else:
    best_C, val_scores = TagLogistic.select_C(
        Z0[first.train], ds.labels[first.train], Z0[first.val], ds.labels[first.val], seed=params.seed
    )
print("validation mAP by C:", {c: round(v, 4) for c, v in val_scores.items()}, "-> C =", best_C)

results, upper, ap_per_label = [], [], []
for split in split_list:
    vocab = Vocabulary.top_frequent(tokens, params.tau, index=split.train)
    Z = vocab.encode(tokens)
    model = TagLogistic(C=best_C, seed=params.seed).fit(Z[split.train], ds.labels[split.train])
    scores = model.decision_function(Z[split.test])
    y_test = ds.labels[split.test]
    results.append(metrics.evaluate(scores, y_test, ks=(3,)))
    upper.append(metrics.evaluate(y_test.astype(float), y_test, ks=(3,)))
    ap_per_label.append(metrics.average_precision_per_label(scores, y_test))

columns = ["mAP_label", "mAP_image", "P@3_label", "R@3_label", "F1@3_label", "P@3_overall", "R@3_overall", "F1@3_overall"]
upper_row = metrics.format_mean_std(metrics.summarise(upper)).reindex(columns)
upper_row[["mAP_label", "mAP_image"]] = "1 (by construction)"
baseline_table = pd.DataFrame(
    {"Tag-only logistic": metrics.format_mean_std(metrics.summarise(results)).reindex(columns), "Upper bound": upper_row}
)
baseline_table.index.name = "metric"
display(Markdown(("**SYNTHETIC DATA.** " if SYNTHETIC else "") + f"{ds.name}, τ = {params.tau}, mean ± std over {N_SPLITS} splits (test sets of {len(first.test):,} images)"))
baseline_table

# %% [markdown] papermill={"duration": 0.003492, "end_time": "2026-11-23T17:10:39.792718+00:00", "exception": false, "start_time": "2026-11-23T17:10:39.789226+00:00", "status": "completed"}
# Per-label average precision shows where tags alone suffice and where they do not.
# Each bar is the mean over splits; the dots mark each label's base rate, which is the
# AP of a random ranking.

# %% papermill={"duration": 0.199913, "end_time": "2026-11-23T17:10:39.995955+00:00", "exception": false, "start_time": "2026-11-23T17:10:39.796042+00:00", "status": "completed"}
ap = np.nanmean(np.stack(ap_per_label), axis=0)
order = np.argsort(-ap)
fig, ax = plt.subplots(figsize=(7.5, 0.25 * len(order) + 1.2))
ax.barh([ds.label_names[i] for i in order], ap[order], color="tab:blue", label="tag-only logistic AP")
ax.scatter(ds.labels.mean(axis=0)[order], range(len(order)), color="black", zorder=3, s=12, label="base rate")
ax.invert_yaxis()
ax.set_xlabel("average precision on the test set (mean over splits)")
ax.set_ylabel("label")
ax.set_xlim(0, 1)
ax.legend(loc="lower right")
plots.data_badge(ax, SYNTHETIC)
plt.show()

# %% [markdown] papermill={"duration": 0.003574, "end_time": "2026-11-23T17:10:40.003566+00:00", "exception": false, "start_time": "2026-11-23T17:10:39.999992+00:00", "status": "completed"}
# ## What the next chapters add
#
# Tags alone already rank many labels well, but they miss whatever users do not write
# down. The neighbourhood CNN of the next chapter combines an image's visual features with
# those of its metadata neighbours found exactly as above, so that a poorly tagged photo
# borrows evidence from well-tagged look-alikes.
