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
# # LTN: which neighbours, which metadata, which vocabulary
#
# The previous page reproduced LTN's main table on MIRFlickr. This one follows the rest of
# {cite:t}`johnson2015love`'s experiments, which all vary the *neighbourhoods* while the
# model stays the same: a second real set, COCO-person, where the metadata are caption
# words; visual against metadata neighbours (their Table 3); training with one kind of
# metadata and testing with another (Table 4); the neighbourhood size $m$, the max rank
# $M$ and the vocabulary size $\tau$ (Figure 7); and train and test tag vocabularies that
# overlap less and less (Figure 8). Each section says on which images and how many splits
# it runs; the parameters at the top give the paper-scale settings.

# %% tags=["hide-input"]
from dataclasses import replace
from typing import Optional

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from neighborlib import claims, methods, neighbourhoods, plots
from neighborlib.data import data_root as find_data_root
from neighborlib.models import TrainConfig
from neighborlib.notebook import start_chapter
from neighborlib.protocol import benchmark_features, load_benchmark, run_protocol, seeded_subset

# %% tags=["parameters"]
dataset: str = "auto"  # "auto" (MIRFlickr and COCO-person when present, else synthetic), "mirflickr", "synthetic"
data_root: Optional[str] = None  # None: $NEIGHBORLIB_DATA, else ../shared/data beside the project
seed: int = 0  # base seed of the splits, the initialisation, the sampling and the dropout
splits: int = 5  # splits of the COCO-person table (the paper: 5)
study_splits: int = 1  # splits of the MIRFlickr studies (Table 3, Figures 7-8); the paper: 5
kinds_splits: int = 2  # splits of the synthetic metadata-generalisation table (Table 4); the paper: 5
study_images: Optional[int] = 8000  # MIRFlickr images of the studies (a seeded subset); None: all 25,000
device: str = "cpu"  # "cpu", "cuda" or "auto"
threads: int = 1  # CPU threads of torch and BLAS; the committed outputs use 1 (other counts change last digits)
quick: bool = False  # small settings for smoke tests
epochs: int = 10  # LTN epochs (the paper: 10)
learning_rates: list[float] = [1e-4, 1e-3]  # RMSProp learning rates, one chosen per set on validation (the paper: 1e-4)
m: int = 3  # neighbourhood size (the paper: 3)
M: int = 6  # max rank (the paper: 6)
ms: list[int] = [1, 3, 6]  # neighbourhood sizes of Figure 7 (with M at its default of 6)
Ms: list[int] = [3, 6, 12, 24]  # max ranks of Figure 7 (with m at its default of 3)
taus: list[int] = [500, 1000, 2000, 5000]  # vocabulary sizes of Figure 7
overlaps: list[float] = [0.0, 0.25, 0.5, 0.75, 1.0]  # train/test vocabulary overlaps of Figure 8
vocabulary_top: int = 10000  # Figure 8 draws both vocabularies from this many most frequent tags

# %% tags=["hide-input"]
params, DEVICE = start_chapter(globals(), "03b_ltn_neighbourhoods")  # checks the parameters, pins threads, styles figures
Q = params.quick
N_SPLITS = min(params.splits, 2) if Q else params.splits
STUDY_SPLITS, KINDS_SPLITS = (1, 1) if Q else (params.study_splits, params.kinds_splits)
BASE = TrainConfig(epochs=2 if Q else params.epochs, m=params.m)
ROOT = find_data_root(params.data_root)
REAL = params.dataset != "synthetic" and ROOT is not None and (ROOT / "mirflickr25k").is_dir()
HAVE_COCO = REAL and (ROOT / "coco").is_dir()
VISUAL, LTN_TAGS = "CNN + logistic (visual-only)", "LTN: tag neighbours"


def subset_index(b, n):
    """The seeded subset of ``n`` images of a benchmark (`protocol.seeded_subset`: the LTN studies' subset)."""
    return seeded_subset(len(b), n, params.seed)


def choose_lr(bench, X):
    """The learning rate of ``learning_rates`` with the best validation mAP of LTN (default m, M)
    on split 0 of ``bench``: a choice on validation data only, as the paper's grid search."""
    runs = run_protocol(bench, {lr: methods.ltn(m=params.m, M=params.M, config=replace(BASE, lr=lr), device=DEVICE)
                                for lr in params.learning_rates}, n_splits=1, seed=params.seed, features=X,
                        upper_bound=False, progress=False)
    val = {lr: runs.info[lr][0]["val mAP_label"] for lr in params.learning_rates}
    best = max(val, key=lambda lr: (val[lr], -lr))
    print(f"{bench.title}: validation mAP of LTN by learning rate "
          + ", ".join(f"{lr:g}: {v:.4f}" for lr, v in val.items()) + f" -> {best:g}")
    return replace(BASE, lr=best)


def main_methods(config):
    return {
        "Tag-only + logistic": methods.tag_only(),
        VISUAL: methods.visual_logistic(device=DEVICE),
        "CNN + kNN voting": methods.cnn_knn_vote(),
        "Image neighbourhoods + CNN voting": methods.image_neighbourhood_vote(M=params.M, device=DEVICE),
        LTN_TAGS: methods.ltn(m=params.m, M=params.M, config=config, device=DEVICE),
        "LTN: tag neighbours + tag vector": methods.ltn(m=params.m, M=params.M, tag_vector=True, config=config,
                                                        device=DEVICE),
    }

# %% [markdown]
# ## A second real set: COCO-person
#
# The 2,693 COCO val2017 photos that show a person, with the words of their five captions
# as metadata (every training word in the vocabulary) and the 79 object labels other than
# `person`. Captions were written by annotators looking at the photo, so they are much
# less noisy than Flickr tags. With 1,547 training photos a pass of LTN is only 31
# minibatches: ten passes at the paper's learning rate are 310 updates, against 22,000 on
# NUS-WIDE's 110,000 training images and 2,460 on MIRFlickr. The paper chose its learning
# rate by grid search; every set on this page therefore chooses one from
# `learning_rates` by LTN's validation mAP on its split 0 (`choose_lr`; validation data
# only), then uses it on every split.

# %% tags=["nbval-ignore-output"]
coco = None
if HAVE_COCO:
    coco_bench = load_benchmark("coco-person", params.data_root)
    if Q:
        coco_bench = coco_bench.subset(subset_index(coco_bench, 1200))
    X_coco = benchmark_features(coco_bench, device=DEVICE, progress=False)
    coco = run_protocol(coco_bench, main_methods(choose_lr(coco_bench, X_coco)), n_splits=N_SPLITS, seed=params.seed,
                        features=X_coco)

# %%
COLUMNS = ["mAP_label", "mAP_image", "R@3_label", "P@3_label", "R@3_overall", "P@3_overall"]
if coco is not None:
    display(Markdown(coco.caption() + "; precision and recall at k = 3"))
    display(coco.table(COLUMNS))
else:
    print("COCO-person needs the COCO photos under the data root")


# %% [markdown]
# On COCO-person the captions decide everything. The tag-only logistic on caption words
# (0.611 mAP_L on the committed run) is far ahead of every visual method, and LTN with
# caption neighbours (0.428) does not beat the visual-only model (0.434): the gap is
# −0.006 ± 0.006 and one split of five goes the other way. The tag vector, which hands LTN
# the caption words themselves, adds four points (0.468), and the model-free
# image-neighbourhood blend does better still (0.474). With 1,547 training photos and 79
# labels, a 1.3-million-parameter network learns less from the neighbours than a blend
# that needs one weight.
# %% [markdown]
# ## The studies' images
#
# The studies below train LTN many times, so on the committed run they use a seeded
# subset of 8,000 MIRFlickr photos and one split (`study_images`, `study_splits`); pass
# `study_images=None, study_splits=5` for the paper's scale. Without a data root they run
# on the synthetic world.

# %%
if REAL:
    full = load_benchmark("mirflickr", params.data_root)
    index = subset_index(full, 1500 if Q else params.study_images)
    study = full.subset(index)
    X_study = benchmark_features(full, device=DEVICE, progress=False)[index]
else:
    study = load_benchmark("synthetic", seed=params.seed, n_images=2000, image_size=160)
    X_study = benchmark_features(study, device=DEVICE, progress=False)
display(Markdown(("**SYNTHETIC DATA.** " if study.synthetic else "") + study.describe()))
STUDY = choose_lr(study, X_study)

# %% [markdown]
# ## Is the previous page's LTN undertrained?
#
# The learning rate chosen on validation for the studies' subset is not the paper's 1e-4.
# The previous page kept 1e-4 on all 25,000 photos, where LTN's validation curves were
# still rising at epoch 10. On split 0 of the full set, the same LTN with the chosen rate,
# beside the paper's rate and the visual-only model:

# %% tags=["nbval-ignore-output"]
if REAL:
    X_full = benchmark_features(full, device=DEVICE, progress=False)
    full_bench = full.subset(subset_index(full, 1500)) if Q else full
    X_full = X_full[subset_index(full, 1500)] if Q else X_full
    rate = run_protocol(full_bench, {
        VISUAL: methods.visual_logistic(device=DEVICE),
        f"LTN, lr {BASE.lr:g} (the paper's)": methods.ltn(m=params.m, M=params.M, config=BASE, device=DEVICE),
        f"LTN, lr {STUDY.lr:g} (chosen on the subset's validation)": methods.ltn(m=params.m, M=params.M, config=STUDY,
                                                                              device=DEVICE),
    }, n_splits=1, seed=params.seed, features=X_full, upper_bound=False)

# %%
if REAL:
    display(Markdown(rate.caption()))
    display(pd.concat([rate.table(["mAP_label", "mAP_image"]),
                       pd.Series({k: i[0].get("epoch") for k, i in rate.info.items()}, name="kept epoch")], axis=1))


# %% [markdown]
# Validation picks 1e-3 on the 8,000-photo subset (and on COCO-person and the synthetic
# set), but on all 25,000 photos the larger rate overfits within three epochs: 0.695
# mAP_L against 0.703 at the paper's 1e-4, which the previous page therefore keeps. The
# rate that suits a set depends on its size. On this split both rates finish above the
# visual-only model (0.691), the chosen one by only 0.004, inside the single-split noise
# floor of the claims check.
# %% [markdown]
# ## Visual against metadata neighbours (Table 3)
#
# The same LTN, with neighbourhoods found by cosine distance of the CNN features within
# each part (`neighbourhoods.visual`) instead of Jaccard distance of the tags. The paper
# found visual neighbours slightly better than no neighbours (47.45 against 45.78 mAP_L)
# and well below tag neighbours (52.78).

# %% tags=["nbval-ignore-output"]
types = run_protocol(study, {
    VISUAL: methods.visual_logistic(device=DEVICE),
    "LTN: visual neighbours": methods.ltn(m=params.m, M=params.M, source=neighbourhoods.visual, config=STUDY,
                                          device=DEVICE),
    LTN_TAGS: methods.ltn(m=params.m, M=params.M, config=STUDY, device=DEVICE),
}, n_splits=STUDY_SPLITS, seed=params.seed, features=X_study, upper_bound=False)

# %%
paper3 = pd.Series({VISUAL: 45.78, "LTN: visual neighbours": 47.45, LTN_TAGS: 52.78}) / 100
display(Markdown(("**SYNTHETIC DATA.** " if study.synthetic else "") + types.caption()))
pd.concat([types.table(["mAP_label", "mAP_image"]), paper3.rename("paper mAP_label (NUS-WIDE)")], axis=1)


# %% [markdown]
# On the 8,000-photo subset (3,987 training photos) neither kind of neighbourhood lifts
# LTN above the visual-only model (0.670): tag neighbours reach 0.665 and visual ones
# 0.650. The order of the paper holds (tags above visual, by 1.5 points), the gain over no
# neighbours does not: with a quarter of MIRFlickr for training, LTN's extra layer costs
# more than the neighbours give. On all 25,000 photos (previous page) LTN is ahead.
# %% [markdown]
# ## Metadata generalisation (Table 4, synthetic)
#
# Train (and validate) with neighbourhoods from one kind of metadata, test with another.
# No real set here has Flickr groups or photo sets, so this table runs on the **synthetic
# world**: the 2,085 of 12,000 generated images that carry tags, groups and sets
# (`"synthetic-kinds"`), their rendered photos through the same backbone. Groups and sets
# get their whole vocabulary, tags the τ most frequent, as in the paper.

# %% tags=["nbval-ignore-output"]
kinds_bench = load_benchmark("synthetic-kinds")  # seed 0: the set `make features` extracts
X_kinds = benchmark_features(kinds_bench, device=DEVICE, progress=False)
if Q:
    keep = subset_index(kinds_bench, 900)
    kinds_bench, X_kinds = kinds_bench.subset(keep), X_kinds[keep]
KINDS = ("tags", "groups", "sets")
KINDS_CONFIG = choose_lr(kinds_bench, X_kinds)
kinds_methods = {VISUAL: methods.visual_logistic(device=DEVICE)}
for a in KINDS:
    for b in KINDS:
        kinds_methods[f"{a} → {b}"] = methods.ltn(m=params.m, M=params.M, source=neighbourhoods.metadata_kinds(a, b),
                                                 config=KINDS_CONFIG, device=DEVICE)
kinds_res = run_protocol(kinds_bench, kinds_methods, n_splits=KINDS_SPLITS, seed=params.seed, features=X_kinds,
                         upper_bound=False)

# %%
tab = kinds_res.table(["mAP_label"])["mAP_label"]
table4 = pd.DataFrame({b: [tab[f"{a} → {b}"] for a in KINDS] for b in KINDS}, index=list(KINDS))
table4.index.name, table4.columns.name = "train", "test"
display(Markdown(f"**SYNTHETIC DATA.** mAP_label; {kinds_res.caption()}; visual-only: {tab[VISUAL]}"))
table4

# %%
paper4 = pd.DataFrame([[52.78, 47.12, 48.14], [52.21, 48.02, 48.49], [50.32, 47.82, 48.87]],
                      index=list(KINDS), columns=list(KINDS)) / 100
paper4.index.name, paper4.columns.name = "train", "test"
display(Markdown("The paper's Table 4 (NUS-WIDE, mAP_label; visual-only 45.78):"))
paper4


# %% [markdown]
# On the synthetic world the table is flat: every train/test pair lies between 0.752 and
# 0.776 mAP_L, within two standard deviations of each other, so switching the kind of
# metadata at test time costs nothing measurable, which is the paper's point. But none
# of the nine pairs reaches the visual-only model (0.786): the world's rendered photos
# show their labels plainly, and 1,206 training images are few for the network.
# %% [markdown]
# ## Neighbourhood hyperparameters (Figure 7)
#
# LTN as $m$ (at $M = 6$), $M$ (at $m = 3$) and τ (at $m = 3$, $M = 6$) vary, against the
# visual-only model on the same split.

# %% tags=["nbval-ignore-output"]
settings = [("m", v, v, max(params.M, v), study.tau) for v in params.ms]
settings += [("M", v, min(params.m, v), v, study.tau) for v in params.Ms]
settings += [("τ", v, params.m, params.M, v) for v in params.taus]
fitted = {}  # (m, M, τ) -> metrics: the default setting appears in all three sweeps, fitted once
sweep = {}
for hp, value, m_, M_, tau in settings:
    if (m_, M_, tau) not in fitted:
        r = run_protocol(replace(study, tau=tau), {"LTN": methods.ltn(m=m_, M=M_, config=STUDY, device=DEVICE)},
                         n_splits=STUDY_SPLITS, seed=params.seed, features=X_study, upper_bound=False, progress=False)
        fitted[(m_, M_, tau)] = r.means().loc["LTN", ["mAP_label", "mAP_image"]]
    sweep[(hp, value)] = fitted[(m_, M_, tau)]

# %%
visual_study = types.means().loc[VISUAL]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
for ax, hp in zip(axes, ("m", "M", "τ")):
    keys = [k for k in sweep if k[0] == hp]
    xs = [k[1] for k in keys]
    ax.plot(xs, [sweep[k]["mAP_label"] for k in keys], marker="o", label="LTN mAP_label")
    ax.axhline(visual_study["mAP_label"], color="grey", linestyle="--", label="visual-only mAP_label")
    ax.set_xlabel(hp)
    if hp == "τ":
        ax.set_xscale("log")
    ax.set_title(f"varying {hp}")
axes[0].set_ylabel("mAP (per label)")
axes[0].legend(fontsize=8)
plots.data_badge(axes[-1], study.synthetic)
plt.show()
hp_table = pd.DataFrame(sweep).T
hp_table.index.names = ["hyperparameter", "value"]
hp_table.round(4)


# %% [markdown]
# Across all eleven settings mAP_L stays within 0.661-0.669: none of $m$, $M$ or τ moves
# it by more than a point, and none reaches the visual-only 0.670 on this subset.
# The paper found $M$ the most influential; here the ranges of the three are alike
# (0.008, 0.007, 0.004), all near the single-split noise floor of 0.005 (claims check).
# %% [markdown]
# ## Vocabulary generalisation (Figure 8)
#
# Training neighbourhoods come from one tag vocabulary and test neighbourhoods from
# another: both are halves of the `vocabulary_top` most frequent training tags, shuffled,
# sharing a given fraction (`neighbourhoods.overlap_vocabularies`). At 0% overlap no tag
# that formed a training neighbourhood forms a test neighbourhood. Images with no tag in a
# vocabulary have only filler neighbours in it; the table reports how many.

# %% tags=["nbval-ignore-output"]
vocab_runs = {}
for ov in params.overlaps:
    source = neighbourhoods.vocabulary_overlap(ov, n_top=params.vocabulary_top)
    vocab_runs[ov] = run_protocol(study, {"LTN": methods.ltn(m=params.m, M=params.M, source=source, config=STUDY,
                                                             keep_model=True, device=DEVICE)},
                                  n_splits=STUDY_SPLITS, seed=params.seed, features=X_study, upper_bound=False,
                                  progress=False)

# %%
vocab_table = pd.DataFrame({
    f"{ov:.0%}": {"mAP_label": r.means().loc["LTN", "mAP_label"], "mAP_image": r.means().loc["LTN", "mAP_image"],
                  "test images without a test-vocabulary tag": np.mean(
                      [neighbourhoods.isolated_fraction(i["tables"])["test"] for i in r.info["LTN"]])}
    for ov, r in vocab_runs.items()}).T
vocab_table.index.name = "overlap"
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.plot([100 * o for o in params.overlaps], vocab_table["mAP_label"], marker="o", label="LTN")
ax.axhline(visual_study["mAP_label"], color="grey", linestyle="--", label="visual-only")
ax.set_xlabel("overlap of train and test tag vocabularies (%)")
ax.set_ylabel("mAP (per label)")
ax.legend()
plots.data_badge(ax, study.synthetic)
plt.show()
vocab_table.round(4)


# %% [markdown]
# Disjoint vocabularies cost LTN almost nothing: 0.663 mAP_L at 0% overlap against 0.666
# at 100%, a difference below a split's noise. The model reads metadata only through
# which images are neighbours, and neighbours found through one random half of the
# frequent tags are about as informative as through the other, as the paper argued. On
# this subset LTN stays below the visual-only model at every overlap, as in the
# studies above.
# %% [markdown]
# ## Claims check
#
# The paper's claims on these experiments, against our measurements (gaps in mAP). On
# the studies' single split a gap is one number with no spread across splits, so it is
# judged against a noise floor of 0.005 mAP_L: the largest move of any single-split
# number of this page when the same seeds ran at 2 CPU threads instead of 1 (the
# rounding of the sums changes, and training amplifies it; 0% vocabulary overlap went
# from 0.654 to 0.659). A gap inside ±0.005 is "not resolved".

# %%
NOISE = 0.005  # single-split noise floor in mAP_L (see above)
rows = []
if coco is not None:
    gap = claims.paired_gap(coco, LTN_TAGS, VISUAL)
    rows.append({"claim": "LTN beats visual-only (COCO-person, mAP_L)", "paper": "+7.00 on NUS-WIDE",
                 "ours": str(gap), "verdict": claims.verdict(gap)})
    gap = claims.paired_gap(coco, "LTN: tag neighbours + tag vector", LTN_TAGS)
    rows.append({"claim": "The tag vector raises mAP_L (COCO-person)", "paper": "+9.10 on NUS-WIDE",
                 "ours": str(gap), "verdict": claims.verdict(gap)})
for a, b, text, paper_gap in (
    (LTN_TAGS, "LTN: visual neighbours", "Tag neighbours beat visual neighbours (Table 3)", "+5.33"),
    ("LTN: visual neighbours", VISUAL, "Visual neighbours beat no neighbours (Table 3)", "+1.67"),
):
    gap = claims.paired_gap(types, a, b)
    rows.append({"claim": text, "paper": paper_gap, "ours": str(gap), "verdict": claims.verdict(gap, tolerance=NOISE)})
if REAL:
    names_ = list(rate.metrics)
    gap = claims.paired_gap(rate, names_[2], names_[0])
    rows.append({"claim": "LTN beats visual-only on all 25,000 photos with a learning rate chosen on validation",
                 "paper": "+7.00 on NUS-WIDE", "ours": f"{gap.mean:+.4f} (split 0)",
                 "verdict": claims.verdict(gap, tolerance=NOISE)})
pairs = [f"{a} → {b}" for a in KINDS for b in KINDS]
above = [claims.paired_gap(kinds_res, p, VISUAL) for p in pairs]
rows.append({"claim": "Every train/test kind pair beats visual-only (Table 4, synthetic)", "paper": "9 of 9 pairs",
             "ours": f"{sum(claims.verdict(g_) == 'confirmed' for g_ in above)} of 9 pairs above on every split",
             "verdict": "confirmed" if all(claims.verdict(g_) == "confirmed" for g_ in above) else "refuted"})
spread = {hp: float(np.ptp([v["mAP_label"] for k, v in sweep.items() if k[0] == hp])) for hp in ("m", "M", "τ")}
rows.append({"claim": "M varies performance most of m, M, τ (Figure 7)", "paper": "M",
             "ours": ", ".join(f"{k} range {v:.4f}" for k, v in spread.items()),
             "verdict": claims.verdict(spread["M"] - max(v for k, v in spread.items() if k != "M"), tolerance=NOISE)})
worst = min(v["mAP_label"] for v in sweep.values())
rows.append({"claim": "Every m, M, τ beats visual-only (Figure 7)", "paper": "all settings",
             "ours": f"worst setting {worst:.4f} vs visual-only {visual_study['mAP_label']:.4f}",
             "verdict": claims.verdict(worst - visual_study["mAP_label"], tolerance=NOISE)})
v0, v1 = vocab_table["mAP_label"].iloc[0], vocab_table["mAP_label"].iloc[-1]
rows.append({"claim": "Less vocabulary overlap, lower mAP (Figure 8)", "paper": "monotone decrease",
             "ours": f"0%: {v0:.4f}, 100%: {v1:.4f}", "verdict": claims.verdict(v1 - v0, tolerance=NOISE)})
rows.append({"claim": "At 0% overlap LTN still beats visual-only (Figure 8)", "paper": "yes",
             "ours": f"{v0 - visual_study['mAP_label']:+.4f}",
             "verdict": claims.verdict(v0 - visual_study["mAP_label"], tolerance=NOISE)})
claims.claims_table(rows)

# %% [markdown]
# What survives of the paper on these sets: metadata neighbours beat visual neighbours,
# the tag vector helps, and LTN is robust to the kind of metadata and to the vocabulary
# at test time. What does not: the gains over a strong visual model. LTN needs data to
# pay for its hidden layer. It beats the visual-only model on all 25,000 MIRFlickr
# photos (previous page), but not on 8,000 of them, on 2,693 COCO photos or on 2,085
# synthetic images, where a one-weight blend of visual scores over the same neighbours
# does better. The studies ran on one split of a subset; `study_images=None
# study_splits=5` repeats them at the paper's scale.
