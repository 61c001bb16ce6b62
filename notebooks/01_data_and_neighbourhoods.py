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

# %% [markdown]
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

# %% tags=["hide-input"]
from typing import Optional

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from neighborlib import methods, plots, stats
from neighborlib.data import Vocabulary, data_root as find_data_root, load_dataset
from neighborlib.neighbours import jaccard_neighbours
from neighborlib.notebook import start_chapter
from neighborlib.protocol import load_benchmark, run_protocol
from neighborlib.seeding import stream

# %% tags=["parameters"]
dataset: str = "auto"  # "auto" (MIRFlickr when present, else synthetic), or a benchmark set: "mirflickr", "mirflickr-r1", "coco-person", "coco-captions", "synthetic"
data_root: Optional[str] = None  # None: $NEIGHBORLIB_DATA, else ../shared/data beside the project
seed: int = 0  # base seed of the splits (and of the synthetic world)
splits: int = 5  # number of random train/val/test splits
device: str = "cpu"  # "cpu", "cuda" or "auto": where the neighbour search runs
threads: int = 1  # CPU threads of torch and BLAS; the committed outputs use 1 (other counts change last digits)
quick: bool = False  # small settings for smoke tests
tau: int = 5000  # tag vocabulary size τ of the tag-only baseline
taus: list[int] = [100, 1000, 5000]  # vocabularies compared in the neighbour figure
k_max: int = 50  # neighbour ranks shown in the figure

# %% tags=["hide-input"]
params, DEVICE = start_chapter(
    globals(),
    "01_data_and_neighbourhoods",
    choices={
        "dataset": ["auto", "mirflickr", "mirflickr-r1", "coco-person", "coco-captions", "synthetic"],
        "device": ["cpu", "cuda", "auto"],
    },
)  # checks the parameters, pins threads, styles figures
N_SPLITS = min(params.splits, 2) if params.quick else params.splits
TAUS = ([t for t in params.taus if t <= 500] or [min(params.taus)]) if params.quick else list(params.taus)
K_MAX = min(params.k_max, 10) if params.quick else params.k_max
ROOT = find_data_root(params.data_root)

# %% [markdown]
# ## The data
#
# Every chapter draws on the same named **benchmark sets** (`neighborlib.protocol`):
# *MIRFlickr*, the 25,000 photos of MIRFlickr-25K {cite:p}`huiskes2008mirflickr` with their
# Flickr users' tags and 24 labels annotated by hand (or its 14 "relevant" `_r1` labels);
# *COCO-person*, the 2,693 MS-COCO val2017 photos that show a person, with caption words as
# metadata; *COCO captions*, all 4,952 labelled val2017 images for methods that need no
# pixels; and the synthetic world where no data root exists. With `dataset="auto"` this
# chapter describes MIRFlickr. The cell below says which data this run used.

# %%
name = params.dataset
if name == "auto":
    name = "mirflickr" if ROOT is not None and (ROOT / "mirflickr25k").is_dir() else "synthetic"
bench = load_benchmark(
    name, params.data_root, tau=params.tau if name.startswith("mirflickr") or name == "synthetic" else None,
    seed=params.seed, n_images=800 if params.quick else 5000, render=False,
)
if params.quick and not bench.synthetic:  # a seeded subset keeps smoke tests fast
    bench = bench.subset(np.sort(stream(params.seed, "subset").choice(len(bench), min(3000, len(bench)), replace=False)))
ds = bench.dataset
KIND = bench.kinds[0]
SYNTHETIC = bench.synthetic
tokens = bench.tokens
if SYNTHETIC:
    display(Markdown(f"**SYNTHETIC DATA.** {ds.description}. Numbers below describe the generator, not real photos."))
else:
    display(Markdown(f"**Real data.** {ds.description}"))
print(bench.describe())

# %% [markdown]
# ## Dataset statistics
#
# The LTN paper characterises its datasets by how many labels and tags an image carries
# and how many images carry a label or a tag, as mean and median: where the median sits
# far below the mean (images per tag, above all), the distribution is long-tailed. Tag statistics
# depend on the vocabulary, so the table shows all tags, the τ most frequent, and the
# tags used on at least 50 images (the usual 457-tag vocabulary of MIRFlickr-25K).

# %%
vocabularies = {
    f"all {KIND}": Vocabulary.top_frequent(tokens, None),
    f"top τ = {params.tau}": Vocabulary.top_frequent(tokens, params.tau),
    "on ≥ 50 images": Vocabulary.top_frequent(tokens, None, min_count=50),
}
table = pd.concat(
    [stats.dataset_statistics(ds.labels, v.encode(tokens), name=k) for k, v in vocabularies.items()], axis=1
)
display(Markdown(("**SYNTHETIC DATA.** " if SYNTHETIC else "") + f"{bench.title}: labels and {KIND} (LTN Table 1), {len(ds):,} images"))
table.map(lambda x: f"{x:,.2f}" if isinstance(x, float) else f"{x:,}")

# %% [markdown]
# NUS-WIDE {cite:p}`chua2009nuswide`, the LTN paper's main dataset, is much larger. Where
# only its ground truth is under the data root (no tags, no photos), its label statistics
# are all this chapter can show.

# %%
if not SYNTHETIC and ROOT is not None and (ROOT / "nuswide").is_dir():
    nus = load_dataset("nuswide", params.data_root)
    print(nus.description)
    display(stats.dataset_statistics(nus.labels, None, name="NUS-WIDE").dropna().to_frame())
else:
    print("NUS-WIDE is not under the data root (or this run is on the synthetic world): skipped.")

# %% [markdown]
# COCO-person is a biased sample of MS-COCO: every photo shows a person, so `person` is a
# constant (the set drops it) and the other labels occur at the rates of *people* photos.
# Tables on COCO-person should be read against this comparison of label rates with all
# labelled val2017 images.

# %%
if not SYNTHETIC and ROOT is not None and (ROOT / "coco").is_dir():
    people, captions = load_benchmark("coco-person", params.data_root), load_benchmark("coco-captions", params.data_root)
    rates_people = pd.Series(people.dataset.labels.mean(axis=0), index=people.dataset.label_names)
    rates_all = pd.Series(captions.dataset.labels.mean(axis=0), index=captions.dataset.label_names)
    coco_rates = pd.DataFrame({
        f"COCO-person ({len(people):,} photos)": rates_people,
        f"COCO captions ({len(captions):,} images)": rates_all.reindex(rates_people.index),
    })
    coco_rates["ratio"] = coco_rates.iloc[:, 0] / coco_rates.iloc[:, 1]
    coco_rates = coco_rates.sort_values(coco_rates.columns[0], ascending=False)
    print(f"person is on {rates_all['person']:.1%} of the labelled val2017 images and on every COCO-person photo")
    print(f"labels on ≥ 50 COCO-person photos: {int((people.dataset.labels.sum(axis=0) >= 50).sum())} of {people.dataset.n_labels}")
    display(Markdown("The most and least frequent labels of COCO-person, with their rate on all labelled val2017 images:"))
    display(pd.concat([coco_rates.head(8), coco_rates.tail(5)]).round(3))
else:
    print("MS-COCO is not under the data root (or this run is on the synthetic world): skipped.")

# %% [markdown]
# ## Do metadata neighbours share labels?
#
# For an image $i$ let $n_k(i)$ be its $k$-th nearest image by Jaccard distance between
# binary tag vectors, $d(z_i, z_j) = 1 - |z_i \cap z_j| / |z_i \cup z_j|$. If metadata
# neighbourhoods carry label information, then
# $P(y_{n_k(i), j} = 1 \mid y_{ij} = 1)$ should sit far above the base rate $P(y_j = 1)$
# for small $k$ and decay towards it. Neighbours are exact (see `neighborlib.neighbours`).
# Two kinds of entries would be arbitrary, and are left out: images without any tag in the
# vocabulary, and "neighbours" that share no tag with the query at all (distance 1: an image
# with few overlapping images is padded with the lowest-index images). Each τ has its own
# base rate, over the images that count for it. Only tags enter the search, never labels,
# so the vocabulary may be chosen on all images here.

# %%
curves, rates_by_tau, counted = {}, {}, {}
for t in TAUS:
    Z = Vocabulary.top_frequent(tokens, t).encode(tokens)
    table_t = jaccard_neighbours(Z, M=K_MAX, device=DEVICE)
    entry = (table_t.distances < 1) & ~table_t.isolated[:, None]
    curves[f"τ = {t}"] = stats.label_neighbour_curve(table_t.indices, ds.labels, mask=entry)
    rates_by_tau[f"τ = {t}"] = float(stats.base_rates(ds.labels, mask=~table_t.isolated).mean())
    counted[f"τ = {t}"] = (int((~table_t.isolated).sum()), float(entry[~table_t.isolated].mean()))
ax = plots.plot_label_neighbour_curve(curves, rates_by_tau, synthetic=SYNTHETIC)
ax.set_title(f"{bench.title}: label agreement of the k-th tag neighbour")
plt.show()

# %%
summary = pd.DataFrame(
    {
        name_t: {
            "images counted": counted[name_t][0],
            f"share of the {K_MAX} ranks with a shared tag": counted[name_t][1],
            "k = 1": np.nanmean(c[:, 0]),
            f"k = {K_MAX}": np.nanmean(c[:, -1]),
            "base rate": rates_by_tau[name_t],
        }
        for name_t, c in curves.items()
    }
).T
summary["images counted"] = summary["images counted"].astype(int)
summary

# %% [markdown]
# The lift is far from uniform across labels. Labels that users tend to write down as
# tags gain most from a neighbour; visual concepts users rarely tag gain least. The
# neighbourhood models of later chapters exploit exactly that difference.

# %%
largest = list(curves)[-1]
Z_last = Vocabulary.top_frequent(tokens, TAUS[-1]).encode(tokens)
rates = stats.base_rates(ds.labels, mask=np.diff(Z_last.tocsr().indptr) > 0)
lift1 = curves[largest][:, 0] / rates
ranked = [ds.label_names[i] for i in np.argsort(-lift1, kind="stable") if np.isfinite(lift1[i])]
print(f"{largest}: largest lift at k = 1 for {', '.join(ranked[:3])}; smallest for {', '.join(ranked[-3:])}")
ax = plots.plot_label_lift_heatmap(curves[largest], rates, ds.label_names, synthetic=SYNTHETIC)
ax.set_title(f"{bench.title}: lift over base rate, {largest}")
plt.show()

# %% [markdown]
# ## The tag-only baseline, under the book's protocol
#
# One-vs-all logistic regression on the binary tag vector $z \in \{0, 1\}^\tau$. It is
# the first method run through `neighborlib.protocol.run_protocol`, which every later
# chapter uses the same way. Following {cite:t}`johnson2015love` (Section 4), images without
# metadata or without labels are dropped; the rest is split at random into train / val /
# test in the paper's proportions (110K / 40K / 40,253 of 190,253 images), 5 seeded
# splits; each split fits its vocabulary (the τ most frequent tags) on its training part
# only and drops the images with no tag in it; and the regularisation strength is chosen
# on each split's own validation part, never on a test set. Test images are scored by
# per-label and per-image mAP, precision, recall and F1 at top-3 and top-5 (per label and
# overall, as in {cite:t}`gong2013ranking`; labels tied at the cut-off count fractionally)
# and AUC. The upper bound assigns each image its true labels first.

# %%
result = run_protocol(
    bench, {"Tag-only logistic": methods.tag_only()}, n_splits=N_SPLITS, seed=params.seed,
    keep_scores=True, progress=False,
)
columns = ["mAP_label", "mAP_image", "P@3_label", "R@3_label", "F1@3_label", "P@3_overall", "R@3_overall", "F1@3_overall"]
baseline_table = result.table(columns).T
baseline_table.loc[["mAP_label", "mAP_image"], "Upper bound"] = "1 (by construction)"
print("C chosen on each split's validation part:", [i["C"] for i in result.info["Tag-only logistic"]])
display(Markdown(("**SYNTHETIC DATA.** " if SYNTHETIC else "") + result.caption()))
baseline_table

# %% [markdown]
# Per-label average precision shows where tags alone suffice and where they do not.
# Each bar is the mean over splits; the dots mark each label's base rate, which is the
# AP of a random ranking.

# %%
from neighborlib import metrics

ap = np.nanmean(np.stack([
    metrics.average_precision_per_label(s, ds.labels[sp.test])
    for s, sp in zip(result.scores["Tag-only logistic"], result.splits)
]), axis=0)
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

# %% [markdown]
# ## What the next chapters add
#
# Tags alone already rank many labels well, but they miss whatever users do not write
# down. The next chapter puts the photos themselves through a pretrained network, and the
# neighbourhood models after it combine an image's visual features with those of its
# metadata neighbours found exactly as above, so that a poorly tagged photo borrows
# evidence from well-tagged look-alikes.
