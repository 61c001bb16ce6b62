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
# # Transformation ranking: the image picks a map for the label words
#
# A visual-semantic embedding such as DeViSE maps an image to one point of the word-vector
# space and ranks labels by their similarity to it. That suits an image with one label, but
# one point cannot sit near "sky", "dog" and "wedding" at once. The paper of this chapter
# ({cite:t}`li2018conditioned`) turns the roles around. The network's last layer outputs
# $k \times d$ numbers, read as a matrix $A = f_\theta(I)$ (Eq. 1). $A$ maps every label's
# $d$-dimensional word vector $w$ into $\mathbb{R}^k$, where the image's labels should land
# near the origin and the others far from it (Eq. 2). Labels are ranked by $\lVert A w
# \rVert_2$, smallest first. Training uses a hinge rank loss over the image's positives
# $p_i$ and sampled negatives $n_j$ (Eq. 3):
#
# $$L = \sum_j \max\Big(0,\; m + \frac{1}{|p|}\sum_i \lVert A p_i\rVert^2 - \lVert A n_j\rVert^2\Big).$$
#
# With $k = 1$ and a dot product in place of the norm, the model is DeViSE. The paper
# trains an AlexNet end to end on NUS-WIDE (81 labels, 102,405 training images, $k = 100$,
# word2vec's 300-d vectors). It reports C-/O- precision, recall and F1 at 3 and 5 labels
# per image (Tables 3-4), a flat curve in $k$ (Figure 8), and the rows of $A$ as a committee
# of complementary classifiers (Table 5, Figure 9).
#
# The code: `neighborlib.models.transform_rank` holds the model, Eq. 3, the baselines'
# losses (softmax, WARP) and the committee analysis. `neighborlib.ranking` makes each method
# a protocol method, and `neighborlib.protocol.run_zero_shot` runs the zero-shot label splits.
#
# **What runs here.** We have no NUS-WIDE photos, so the chapter runs on **MIRFlickr**
# (24 labels; the live tables use the seeded 8,000-photo subset of chapters 3b-6) and on
# **COCO-person** (2,693 photos, 79 labels, closer to the paper's 81). The backbone stays
# frozen on the CPU: every method is one trainable hidden layer (AlexNet's fc7 in the
# paper) and its own output layer on the cached features. All are trained by Adam with the
# same settings, each at its own learning rate chosen on validation
# (`ranking.TUNED_LR`), and each keeps its best validation epoch. The paper's numbers are printed beside ours
# for reference only: different data, backbone and training.
#
# **Paper-scale run.** `live_images=None splits=5 epochs=30 device=cuda` runs all 25,000
# MIRFlickr photos over 5 splits with the same frozen features. Fine-tuning the backbone
# end to end with lr 1e-6 and mirroring, as the paper does, is not wired in
# (`neighborlib.features.FineTunableBackbone` is the building block). No GPU was lent to
# the session that wrote this page, so neither run has been made.

# %% tags=["hide-input"]
import time
from pathlib import Path
from dataclasses import replace
from typing import Optional

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from sklearn.manifold import TSNE

from neighborlib import claims, embeddings, metrics, plots, ranking
from neighborlib.models.minibatch import SGDConfig
from neighborlib.models.transform_rank import committee_votes, mean_row_jaccard, random_jaccard
from neighborlib.notebook import real_sets, start_chapter
from neighborlib.paths import checkout_root
from neighborlib.protocol import (
    benchmark_features, load_benchmark, on_reseeded, on_training_subset, run_protocol, run_zero_shot, seeded_subset,
)
from neighborlib.wordnet import load_wordnet

# %% tags=["parameters"]
dataset: str = "auto"  # "auto" (MIRFlickr and COCO-person when present, else synthetic), "mirflickr", "synthetic"
data_root: Optional[str] = None  # None: $NEIGHBORLIB_DATA, else ../shared/data beside the project
seed: int = 0  # base seed of the splits, the label folds, the initialisations and the batch orders
splits: int = 1  # seeded image splits of the tables (the book's protocol: 5)
live_images: Optional[int] = 8000  # MIRFlickr photos of the live tables (the seeded subset of chapters 3b-6); None: all 25,000
device: str = "cpu"  # "cpu", "cuda" or "auto"
threads: int = 1  # CPU threads of torch and BLAS; the committed outputs use 1 (other counts change last digits)
quick: bool = False  # small settings for smoke tests (1,200 images, 2 epochs, fewer studies)
k: int = 100  # rows of A (the paper: 100)
hidden: int = 256  # the trainable hidden layer on the frozen features (the paper: AlexNet's fc6-fc7, 4096)
n_negatives: int = 40  # negatives sampled per image in Eq. 3 (the paper: 40; all of them when an image has fewer)
margin: float = 1.0  # m of Eq. 3 (not stated in the paper; the label vectors have unit length)
epochs: int = 8  # most epochs of every method (best validation epoch kept)
lr: Optional[float] = None  # Adam's rate; None: each method's, chosen on validation (ranking.TUNED_LR; the paper, fine-tuning: 1e-6)
lr_decay: float = 0.9  # the learning rate is multiplied by this after every epoch ("gradually decreased")
batch_size: int = 256  # minibatch size (not stated in the paper)
k_values: list[int] = [10, 25, 50, 75, 100]  # Figure 8's k (the paper: ten values from 10 to 100)
fractions: list[float] = [0.1, 0.25, 0.5, 0.68, 1.0]  # training-set fractions (0.68: the paper's share of its competitors' images)
label_folds: int = 5  # zero-shot label splits, each holding out a fifth of the labels
conse_T: int = 10  # ConSE's T, the seen labels combined (the ConSE paper: 10)
seed_runs: int = 2  # extra seeds of the full-size model (k of 100) on the same split: Figure 8's noise floor
coco: bool = True  # the COCO-person tables too

# %% tags=["hide-input"]
params, DEVICE = start_chapter(globals(), "07_transformation_ranking")  # checks the parameters, pins threads, styles figures
Q = params.quick
_, REAL, HAVE_COCO = real_sets(params)  # MIRFlickr under the data root; COCO-person too
RESULTS = checkout_root() / "notebooks" / "results" if checkout_root() else None
BASE = SGDConfig(epochs=2 if Q else params.epochs, min_epochs=1 if Q else 3, patience=2, batch_size=params.batch_size,
                 momentum=0.9, optimiser="adam", lr_decay=params.lr_decay)


def fit_settings(method):
    """The network and optimiser settings of a method ("logistic", "softmax", "warp", "devise", "transform")."""
    config = replace(BASE, lr=params.lr) if params.lr else ranking.rank_config(method, BASE)
    return dict(hidden=params.hidden, config=config, device=DEVICE)


EQ3 = dict(n_negatives=params.n_negatives, margin=params.margin)  # Eq. 3's settings
NOISE = 0.005  # single-split noise floor of the claims (page 03b: a thread-count change moves numbers by this much)
wn = load_wordnet()
VECTORS = {"word2vec": embeddings.load_word_vectors("word2vec"), "GloVe": embeddings.load_word_vectors("glove")}

# %% [markdown]
# ## Data and the label words
#
# Both sets follow the book's protocol: seeded splits in LTN's proportions, and every
# choice made on the split's validation part. The metadata plays no part in this chapter.
# Only the labels' names enter the model, through their word vectors.

# %%
def load_set(name, n=None):
    """A benchmark (its seeded subset of ``n`` images; 1,200 for a quick run) and its features."""
    bench = load_benchmark(name, params.data_root) if REAL else load_benchmark(
        "synthetic", seed=params.seed, n_images=1200 if Q else 3000, image_size=160)
    X = benchmark_features(bench, device=DEVICE, progress=False)
    index = seeded_subset(len(bench), 1200 if Q else n, params.seed)
    return bench.subset(index), X[index]


MAIN = "MIRFlickr" if REAL else "Synthetic"
SETS = {MAIN: load_set("mirflickr", params.live_images)}
if HAVE_COCO:
    SETS["COCO-person"] = load_set("coco-person")
display(Markdown(("**SYNTHETIC DATA.** " if not REAL else "")
                 + " ".join(f"{b.describe()}." for b, _ in SETS.values())))

# %% [markdown]
# The model needs a word vector for every label. word2vec here is the 300-d GoogleNews
# model, cut to its 26,423 most useful words (chapter 2). GloVe is the 50-d 6B model with
# 400,000 words. A label of several words takes the mean of their vectors
# ("plant_life", "hair drier"). A label with a word the resource lacks goes to WordNet:
# the first lemma with a vector among its first sense that is not a person, then that
# sense's hypernyms (`embeddings.label_word_vectors`). Every row is scaled to unit length,
# so the margin means the same for both resources.

# %%
LABEL_VECTORS, coverage = {}, []
for title, (b, _) in SETS.items():
    for name, kv in VECTORS.items():
        V, table = embeddings.label_word_vectors(b.dataset.label_names, kv, wn)
        LABEL_VECTORS[(title, name)] = V
        counts = table["source"].map(lambda s: "WordNet" if s.startswith("WordNet") else s).value_counts()
        coverage.append({"set": title, "vectors": name, "labels": len(table),
                         **{c: int(counts.get(c, 0)) for c in ("words", "WordNet", "partial", "none")},
                         "stand-ins": "; ".join(f"{lab} -> {row.words}" for lab, row in table.iterrows()
                                                if row.source != "words")})
pd.DataFrame(coverage).set_index(["set", "vectors"])

# %% [markdown]
# GloVe knows every label word. word2vec's cut lacks eight of COCO's labels. Most stand-ins
# are sensible: equine for zebra, toy for teddy bear, kitchen appliance for toaster. A few
# are crude: "plug" for fire hydrant (WordNet's synonym "fireplug"), "mammal" five levels
# above giraffe, and "plant" alone for potted plant. The chapter keeps them, and GloVe's
# column shows what exact vectors change.

# %% [markdown]
# ### The label words in two dimensions (the paper's Figure 7)
#
# A t-SNE of the word2vec label vectors of both sets. The paper's point is that related
# labels sit together: animals in one region, vehicles in another. The model inherits this
# a priori knowledge of the labels, which a one-vs-all classifier does not have.

# %%
names, groups, rows_v = [], [], []
for title, (b, _) in SETS.items():
    names += [n.replace("_", " ") for n in b.dataset.label_names]
    groups += [title] * b.dataset.n_labels
    rows_v.append(LABEL_VECTORS[(title, "word2vec")])
points = TSNE(n_components=2, perplexity=min(15, len(names) - 1), init="pca", random_state=params.seed,
              max_iter=1000).fit_transform(np.concatenate(rows_v).astype(np.float64))
ax = plots.plot_label_map(points, names, groups, synthetic=not REAL)
ax.set_title("Label word vectors (word2vec, t-SNE)")
plt.show()  # the figure alone (nbval keeps no input history, so a trailing ';' would not hide the title's repr)

# %% [markdown]
# ## Multilabel classification (the paper's Tables 3-4)
#
# Every method sees the same frozen features, splits and hidden layer. Only the output
# layer and the loss differ:
#
# * **One-vs-all**: one logistic output per label (the summed binary cross-entropy);
# * **Softmax**: one softmax over the labels, the target mass spread evenly over the
#   image's labels (Gong et al.'s softmax loss);
# * **WARP**: one score per label, trained with the weighted approximate-rank pairwise loss
#   (the paper's WARP row: Gong et al.'s AlexNet trained with it);
# * **DeViSE**: the image mapped to one word-vector point, labels by dot product, Eq. 3's
#   hinge on the averaged positives ($k = 1$);
# * **Ours**: the transformation model, $k = 100$, with word2vec (the paper's) or GloVe.
#
# C-P, C-R and C-F1 average over labels, O-P, O-R and O-F1 over all predictions. F1 is the
# harmonic mean of the averaged P and R. The paper writes "geometrical average", but its
# numbers are harmonic means: for CNN-RNN, 2 x 40.5 x 30.4 / 70.9 = 34.7 as printed, where
# the geometric mean would be 35.1. Beside them, the book's per-label and per-image mAP.

# %%
def main_methods(title):
    W2V, GLOVE = LABEL_VECTORS[(title, "word2vec")], LABEL_VECTORS[(title, "GloVe")]
    return {
        "One-vs-all": ranking.label_scorer("logistic", **fit_settings("logistic")),
        "Softmax": ranking.label_scorer("softmax", **fit_settings("softmax")),
        "WARP": ranking.label_scorer("warp", **fit_settings("warp")),
        "DeViSE": ranking.devise(W2V, **EQ3, **fit_settings("devise")),
        "Ours (word2vec)": ranking.transform_rank(W2V, params.k, keep_model=True, **EQ3, **fit_settings("transform")),
        "Ours (GloVe)": ranking.transform_rank(GLOVE, params.k, **EQ3, **fit_settings("transform")),
    }


PROTOCOL = dict(n_splits=params.splits, seed=params.seed, keep_scores=True)
TIMES, MAIN_RESULTS = {}, {}
for title, (b, X) in SETS.items():
    start = time.perf_counter()
    MAIN_RESULTS[title] = run_protocol(b, main_methods(title), features=X, **PROTOCOL)
    TIMES[(title, "Tables 3-4")] = time.perf_counter() - start

# %%
PAPER = pd.read_csv((RESULTS or Path("results")) / "07_transformation_ranking_paper.csv")  # beside this page
PAPER_COLUMNS = ["C-P", "C-R", "C-F1", "O-P", "O-R", "O-F1"]


def top_k_columns(kk):
    return {f"P@{kk}_label": "C-P", f"R@{kk}_label": "C-R", f"F1@{kk}_label": "C-F1",
            f"P@{kk}_overall": "O-P", f"R@{kk}_overall": "O-R", f"F1@{kk}_overall": "O-F1"}


def table_at(result, kk):
    cols = top_k_columns(kk)
    return result.table(list(cols) + ["mAP_label", "mAP_image"]).rename(columns=cols)


def paper_rows(table):
    t = PAPER[PAPER["table"] == table].set_index("method")[PAPER_COLUMNS]
    return t.map(lambda v: "" if pd.isna(v) else f"{v:.3f}")


for kk, table in ((3, 3), (5, 4)):
    for title, result in MAIN_RESULTS.items():
        display(Markdown(f"**{title}, {kk} labels per image.** {result.caption()}."))
        display(table_at(result, kk))
    display(Markdown(f"The paper's Table {table}, NUS-WIDE (81 labels, 102,405 training images; "
                     "its competitors trained on 150,000)."))
    display(paper_rows(table))

# %% [markdown]
# **What the tables say.** On frozen features the transformation model is the weakest of
# the trained methods on both sets. On MIRFlickr, with 3 labels per image, its O-F1 is
# 0.574 against WARP's 0.605 and one-vs-all's 0.610, and its C-F1 is 0.445 against
# 0.515-0.526. On COCO-person it falls further behind: O-F1 0.317 against 0.382 (WARP)
# and 0.405 (one-vs-all). GloVe's 50-d vectors do about as well as word2vec's 300-d ones
# on MIRFlickr (0.567) and a little worse on COCO (0.308). On NUS-WIDE the paper's model
# beats WARP by 0.033 O-F1. Here the order is reversed, and the plain one-vs-all
# classifier, which the paper does not report, is the best method on both sets.
#
# The model's per-label mAP (0.215 on MIRFlickr, 0.061 on COCO) is far below the others'.
# This is no bug: $\lVert A w \rVert$ compares the labels of *one* image. Across images,
# $A$ changes and so does the scale of the norms, so ranking images for one label works
# poorly. The paper reports only per-image top-k metrics, where this does not show. Epochs
# are chosen by per-image mAP for every method, for that reason.
#
# Three differences from the paper may explain the reversal. It fine-tunes a whole
# AlexNet, and here one hidden layer of 256 units on fixed features must produce a
# $100 	imes 300$ matrix, with 7.7M weights in the output layer for 3,987 (MIRFlickr)
# or 1,547 (COCO) training images. It has 102,405 training images. And it has 81 labels,
# where MIRFlickr's 24 include words like "structures", "indoor" and "plant_life", whose
# vectors say little about how the photos look.

# %%
def choices(results):
    keep = ["epoch", "val mAP_image"]
    return pd.DataFrame([{"set": t, "method": m, **{c: info.get(c) for c in keep}}
                         for t, r in results.items() for m, per in r.info.items() if m != "Upper bound"
                         for info in per[:1]]).set_index(["set", "method"]).unstack(0)


choices(MAIN_RESULTS)

# %% [markdown]
# ## The transformed dimension $k$ (the paper's Figure 8)
#
# The paper trains ten models, $k$ from 10 to 100, and finds the performance "rather
# stable no matter which $k$". We train one model per $k$ on the same split of MIRFlickr
# with word2vec; $k = 100$ is the model of the tables above. To tell a real trend from
# training noise, the $k = 100$ model is also trained with `seed_runs` = 2 other seeds
# (initialisation, batch order and negatives; same split): the grey band.

# %%
b0, X0 = SETS[MAIN]
K_VALUES = [kk for kk in params.k_values if kk != params.k][: 2 if Q else None]
OURS_K = ranking.transform_rank(LABEL_VECTORS[(MAIN, "word2vec")], params.k, **EQ3, **fit_settings("transform"))


start = time.perf_counter()
sweep = run_protocol(b0, {**{f"k={kk}": ranking.transform_rank(LABEL_VECTORS[(MAIN, "word2vec")], kk, **EQ3,
                                                               **fit_settings("transform")) for kk in K_VALUES},
                          **{f"seed +{s}": on_reseeded(OURS_K, s) for s in range(1, (0 if Q else params.seed_runs) + 1)}},
                     features=X0, n_splits=params.splits, seed=params.seed, upper_bound=False)
TIMES[(MAIN, "Figure 8")] = time.perf_counter() - start
CURVE_COLUMNS = {"F1@3_label": "C-F1, top 3", "F1@3_overall": "O-F1, top 3", "F1@5_label": "C-F1, top 5",
                 "F1@5_overall": "O-F1, top 5", "mAP_image": "mAP (per image)"}
at_k = MAIN_RESULTS[MAIN].means().loc[["Ours (word2vec)"]]
by_k = pd.concat([sweep.means().loc[[f"k={kk}" for kk in K_VALUES]], at_k.rename(index={"Ours (word2vec)": f"k={params.k}"})])
by_k.index = [int(i.split("=")[1]) for i in by_k.index]
K_CURVES = by_k.sort_index()[list(CURVE_COLUMNS)].rename(columns=CURVE_COLUMNS)
SEED_RUNS = pd.concat([at_k, sweep.means().loc[[m for m in sweep.metrics if m.startswith("seed")]]])
SEEDS = SEED_RUNS[list(CURVE_COLUMNS)].rename(columns=CURVE_COLUMNS)
ax = plots.plot_metric_curves(K_CURVES, "k, rows of A", "score (split 0)", synthetic=not REAL)
for column in K_CURVES.columns:
    ax.fill_between([min(K_CURVES.index), max(K_CURVES.index)], SEEDS[column].min(), SEEDS[column].max(),
                    color="grey", alpha=0.15, linewidth=0)
ax.set_title(f"{MAIN}: performance against k (word2vec); band: k = {params.k} over {len(SEEDS)} seeds")
pd.concat([K_CURVES.rename(index=lambda kk: f"k = {kk}"),
           SEEDS.agg(["min", "max"]).rename(index=lambda r: f"k = {params.k}, {r} over {len(SEEDS)} seeds")]).round(3)

# %% [markdown]
# The paper's finding holds. Over $k$ from 10 to 100, O-F1 (top 3) moves between 0.567
# and 0.590, and three seeds of the $k = 100$ model alone span 0.555-0.574. Changing $k$
# moves the results no more than reseeding does: the F test in the claims check finds no
# effect. Even $k = 10$, a $10 	imes 300$ matrix, ranks as well as $k = 100$, and costs a
# tenth of the time.

# %% [markdown]
# ## The rows of $A$ as a committee (the paper's Table 5 and Figure 9)
#
# Each row $a_r$ of $A$ is a classifier in its own right: it ranks the labels by
# $|a_r \cdot w|$. The paper keeps each row's top $N$ labels, lets the $k$ rows vote, and
# annotates an image with its three most voted labels. With $N = 3$ the committee already
# beats WARP on NUS-WIDE. Below, the votes of the $k = 100$ rows of the word2vec model on
# the test part, against the full model. Labels tied in votes share a top-3 place
# fractionally.

# %%
def committee(result, name="Ours (word2vec)"):
    info = result.info[name][0]
    P = ranking.projections(info["model"], info["X_test"])                     # (n_test, L, k)
    y = result.bench.dataset.labels[result.splits[0].test]
    rows = {f"Voting (top {n})": metrics.evaluate(committee_votes(P, n), y, ks=(3,)) for n in (1, 3, 5)}
    rows["Full"] = metrics.evaluate(result.scores[name][0], y, ks=(3,))
    cols = top_k_columns(3)
    return pd.DataFrame(rows).T[list(cols) + ["mAP_label"]].rename(columns=cols), P


TABLE5, PROJ = {}, {}
for title, result in MAIN_RESULTS.items():
    TABLE5[title], PROJ[title] = committee(result)
    display(Markdown(f"**{title}, top 3, split 0.** {result.caption()}."))
    display(TABLE5[title])
display(Markdown("The paper's Table 5, NUS-WIDE (no F1 columns)."))
paper_rows(5)

# %% [markdown]
# Figure 9 measures how different the rows are: for each test image, the Jaccard
# similarity of the top-5 label sets of every pair of rows, averaged over the pairs. The
# paper reports a mean of 0.1001 (std 0.1288) and reads it as "very different"
# classifiers. A baseline is missing there: two *random* 5-label sets of NUS-WIDE's 81
# labels have an expected Jaccard of 0.035, and of MIRFlickr's 24 labels 0.126. The
# dashed lines mark these levels.

# %%
JAC = {title: mean_row_jaccard(P, 5) for title, P in PROJ.items()}
RANDOM_J = {title: random_jaccard(SETS[title][0].dataset.n_labels, 5) for title in PROJ}
ax = plots.plot_jaccard_histogram(JAC, RANDOM_J, paper_mean=0.1001, synthetic=not REAL)
ax.set_title("Agreement of the rows of A (word2vec, k = 100)")
pd.DataFrame({t: {"mean": v.mean(), "std": v.std(), "random 5-sets": RANDOM_J[t], "labels": SETS[t][0].dataset.n_labels}
              for t, v in JAC.items()}).T.rename_axis("set")

# %% [markdown]
# The rows are even more different than the paper's: 0.157 on MIRFlickr against 0.126 for
# random sets (1.25 times), and 0.039 against 0.036 on COCO-person (1.09 times). The
# paper's 0.100 is 2.8 times its random level. Yet the committee is far weaker than the
# paper's. With $N = 3$ the vote reaches O-F1 0.413 on MIRFlickr, against the full
# model's 0.574 and WARP's 0.605. On NUS-WIDE the vote came within 0.012 O-P of the full
# model. So a single row here is close to a random ranking, and the model's skill lies
# only in the sum of squares over all rows. The rows are "complementary" only in that
# sense. (The votes rank images for a label better than the norm does: per-label mAP
# 0.413 at $N = 5$ against 0.215, since a vote count has the same scale in every image.)

# %% [markdown]
# ## Fewer training images
#
# The paper trains on 102,405 images, 68 % of the 150,000 its competitors use, and still
# wins. We measure the curve behind that claim: the same split, a seeded fraction of its
# training part (validation and test unchanged), for the model, WARP and one-vs-all.

# %%
FRACTIONS = [f for f in params.fractions if f < 1.0][: 1 if Q else None]
FRACTION_METHODS = {"Ours (word2vec)": lambda: ranking.transform_rank(LABEL_VECTORS[(MAIN, "word2vec")], params.k, **EQ3,
                                                                      **fit_settings("transform")),
                    "WARP": lambda: ranking.label_scorer("warp", **fit_settings("warp")),
                    "One-vs-all": lambda: ranking.label_scorer("logistic", **fit_settings("logistic"))}


start = time.perf_counter()
frac = run_protocol(b0, {f"{name} | {f}": on_training_subset(make(), f) for f in FRACTIONS for name, make in FRACTION_METHODS.items()},
                    features=X0, n_splits=params.splits, seed=params.seed, upper_bound=False)
TIMES[(MAIN, "training fractions")] = time.perf_counter() - start
curve = pd.concat([frac.means(), MAIN_RESULTS[MAIN].means().loc[list(FRACTION_METHODS)].rename(index=lambda m: f"{m} | 1.0")])
curve.index = pd.MultiIndex.from_tuples([(m, float(f)) for m, f in (i.split(" | ") for i in curve.index)],
                                        names=["method", "fraction"])
n_train = len(MAIN_RESULTS[MAIN].splits[0].train)
FRAC_MAP = curve["mAP_image"].unstack(0).sort_index()[list(FRACTION_METHODS)]
FRAC_F1 = curve["F1@3_overall"].unstack(0).sort_index()[list(FRACTION_METHODS)]
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
plots.plot_metric_curves(FRAC_MAP, f"fraction of the {n_train:,} training images", "mAP (per image)", axes[0],
                         synthetic=not REAL)
plots.plot_metric_curves(FRAC_F1, f"fraction of the {n_train:,} training images", "O-F1, top 3", axes[1],
                         synthetic=not REAL)
fig.suptitle(f"{MAIN}: performance against the training-set size")
pd.concat({"mAP (per image)": FRAC_MAP, "O-F1, top 3": FRAC_F1}, axis=1).round(3)

# %% [markdown]
# The model does not need fewer images: it needs more. With a tenth of the training part
# its O-F1 falls by 0.087 (to 0.487), WARP's by 0.060 and one-vs-all's by 0.055. On 68 %
# of the images it scores 0.573, below WARP on all of them (0.605). The paper's "fewer
# images" compared its 102,405 images with other papers' 150,000, with different networks
# and training. It is not a curve, and on our data the curve points the other way.

# %% [markdown]
# ## Zero-shot labels (the paper's future work)
#
# The paper notes that the label set at test time need not be the one of training: a label
# enters only through its word vector, so the model can rank labels it never saw. It
# leaves this for future work. Here the labels are split into five random folds. Each run
# holds one fold out (a fifth of the labels) and trains on the rest:
# `protocol.seen_view` hands the methods the seen label columns only, for training targets
# and for the choice of epoch. At test time every label is ranked. Three methods:
#
# * **Ours**: the transformation model, with each label ranked by $\lVert A w\rVert$;
# * **DeViSE**: the image's point in word space, with labels ranked by dot product;
# * **ConSE** (Norouzi et al.): a one-vs-all classifier of the seen labels. An image's
#   point is the mean of its $T$ most probable seen labels' vectors, weighted by their
#   probabilities, and every label is ranked by cosine to it.
#
# Columns: per-label mAP on the unseen and on the seen labels, and their harmonic mean
# H. `mAP_image_unseen` is the zero-shot setting, where each image ranks only the
# unseen labels. The generalised setting lets seen and unseen labels compete in one
# ranking: per-image mAP, overall F1 of the top 3, and the share of unseen positives that
# reach the top 3. Above each table, chance: the expected AP of a random ranking
# (`metrics.expected_random_ap`).

# %%
def zero_shot_methods(title):
    W2V = LABEL_VECTORS[(title, "word2vec")]
    return {"Ours (word2vec)": ranking.zero_shot_transform_rank(W2V, params.k, **EQ3, **fit_settings("transform")),
            "DeViSE": ranking.zero_shot_devise(W2V, **EQ3, **fit_settings("devise")),
            "ConSE": ranking.conse(W2V, params.conse_T, **fit_settings("logistic"))}


ZERO_SHOT = {}
for title, (b, X) in SETS.items():
    start = time.perf_counter()
    ZERO_SHOT[title] = run_zero_shot(b, zero_shot_methods(title), label_folds=2 if Q else params.label_folds,
                                     n_splits=params.splits, seed=params.seed, features=X)
    TIMES[(title, "zero-shot")] = time.perf_counter() - start
ZS_COLUMNS = ["mAP_unseen", "mAP_seen", "H", "mAP_image_unseen", "mAP_image_all", "F1@3_all", "R@3_unseen"]
CHANCE = {}
for title, result in ZERO_SHOT.items():
    y_test = result.bench.dataset.labels[result.splits[0].test]
    per_fold = []
    for ls in result.label_splits:
        y_u = y_test[:, ls.unseen]
        per_label_chance = metrics.expected_random_ap(y_u.sum(0), len(y_u))
        per_image_chance = metrics.expected_random_ap(y_u.sum(1), y_u.shape[1])
        per_fold.append((np.nanmean(per_label_chance), np.nanmean(per_image_chance)))
    CHANCE[title] = np.mean(per_fold, axis=0)
    display(Markdown(f"**{title}, zero-shot.** {result.caption()}. Chance (a random ranking's expected AP): "
                     f"mAP_unseen {CHANCE[title][0]:.3f}, mAP_image_unseen {CHANCE[title][1]:.3f}."))
    display(result.table(ZS_COLUMNS))

# %% [markdown]
# **Zero-shot.** Every method ranks held-out labels above chance, so the word vectors do
# carry over to labels the network never trained on. Per image, MIRFlickr's unseen labels
# get mAP 0.597 from our model, 0.646 from DeViSE and 0.563 from ConSE, against 0.518 by
# chance. On COCO-person they get 0.353, 0.450 and 0.444 against 0.225. The
# transformation model is the weakest of the three on COCO, and between the two others
# on MIRFlickr, where the spread over folds (± 0.13) is as large as the gaps.
#
# The generalised setting shows the model's one distinct trait. DeViSE and ConSE put the
# labels they trained on first, so unseen labels rarely reach an image's top 3 (14 % and
# 4.5 % of the unseen positives on MIRFlickr). The norm treats a new word like any other,
# and 44 % of the unseen positives make the top 3 (24 % on COCO). That openness costs
# precision on the seen labels, and overall F1 of the top 3 is lower (0.392 against
# 0.541 and 0.524). Its per-label mAP is low on seen and unseen labels alike, for the
# reason given under Tables 3-4.

# %% [markdown]
# Per label, below: the AP each label gets when it is held out, against its mean AP over
# the four folds that train on it, for each method. The frequency column is chance.

# %%
zs0 = ZERO_SHOT[MAIN]
ZS_NAMES = list(zs0.metrics)
fig, axes = plt.subplots(1, len(ZS_NAMES), figsize=(5 * len(ZS_NAMES), 5))
per_label = {}
for ax, name in zip(np.atleast_1d(axes), ZS_NAMES):
    per_label[name] = zs0.per_label_ap(name)
    plots.plot_ap_scatter(per_label[name]["AP seen"], per_label[name]["AP unseen"],
                          [n.replace("_", " ") for n in per_label[name].index], "AP when seen (trained on)",
                          "AP when unseen (zero-shot)", ax=ax, synthetic=not REAL, annotate=5)
    ax.set_title(name)
fig.suptitle(f"{MAIN}: per-label AP, held out against trained on")
frequency = b0.dataset.labels[zs0.splits[0].test].mean(0)
ap_table = pd.concat({"unseen AP": pd.DataFrame({n: t["AP unseen"] for n, t in per_label.items()}),
                      "seen AP": pd.DataFrame({n: t["AP seen"] for n, t in per_label.items()})}, axis=1)
ap_table[("chance", "frequency (test)")] = frequency
ap_table.sort_values(("unseen AP", ZS_NAMES[0]), ascending=False).round(3)

# %% [markdown]
# DeViSE and ConSE lose AP on nearly every label when it is held out, as expected: the
# points sit below the diagonal. Our model's points sit *on* it, which shows again that its
# per-label ranking hardly depends on the label. Whether the model trained on a label or
# not, the images with the largest scores are mostly those whose norms are small for every
# label. The labels that transfer best are the broad ones with close neighbours in word
# space: sky (clouds), water (sea, lake, river), structures, people.

# %% [markdown]
# ## Claims check
#
# Each gap is our model's metric minus the other method's, on the same split (word2vec,
# $k = 100$). With one split there is no split-to-split spread. A claim is confirmed or
# refuted only when its gap clears a noise floor: the spread of the $k = 100$ model's
# metric over three seeds (Figure 8's band), and at least 0.005. Otherwise it is *not
# resolved*.

# %%
def paper_gap(table, a, b_, col):
    t = PAPER[PAPER["table"] == table].set_index("method")
    return f"{t.loc[a, col] - t.loc[b_, col]:+.3f} ({t.loc[a, col]:.3f} vs {t.loc[b_, col]:.3f})"


OURS = "Ours (word2vec)"
PAPER_RATIO = 0.1001 / random_jaccard(81, 5)  # Figure 9's mean over the random level of NUS-WIDE's 81 labels
checks = []
for title, R in MAIN_RESULTS.items():
    for kk, table in ((3, 3), (5, 4)):
        for metric, col in ((f"F1@{kk}_label", "C-F1"), (f"F1@{kk}_overall", "O-F1")):
            checks.append((title, f"the model beats WARP ({col}, top {kk})", paper_gap(table, "Ours", "WARP", col),
                           claims.paired_gap(R, OURS, "WARP", metric)))
    checks.append((title, "the model beats WARP (mAP per image)", "not reported",
                   claims.paired_gap(R, OURS, "WARP", "mAP_image")))
    checks.append((title, "a transformation beats an embedding: the model beats DeViSE (O-F1, top 3)",
                   "argued (Fig. 2), not measured", claims.paired_gap(R, OURS, "DeViSE", "F1@3_overall")))


def tolerance(metric):
    """A single split's noise floor for a metric: the spread of the k = 100 model over seeds (at least NOISE)."""
    if params.splits > 1:
        return 0.0
    spread = SEED_RUNS[metric].max() - SEED_RUNS[metric].min() if metric in SEED_RUNS and len(SEED_RUNS) > 1 else 0.0
    return max(NOISE, float(spread))


rows = [{"set": s, "claim": c, "paper (NUS-WIDE)": p, "ours (split gaps)": f"{g} (floor {tolerance(g.metric):.3f})",
         "verdict": claims.verdict(g, tolerance=tolerance(g.metric))} for s, c, p, g in checks]
for column in ("O-F1, top 3", "O-F1, top 5"):
    spread, noise = K_CURVES[column], SEEDS[column]
    F, p, stable = claims.stability(spread, noise)
    rows.append({"set": MAIN, "claim": f"performance is stable in k: {column} varies over k no more than over seeds",
                 "paper (NUS-WIDE)": "flat (Fig. 8)",
                 "ours (split gaps)": f"range {spread.max() - spread.min():.3f} over k, {noise.max() - noise.min():.3f} over "
                                      f"{len(noise)} seeds at k = {params.k} (F = {F:.2f}, p = {p:.2f})",
                 "verdict": stable})
for title, t5 in TABLE5.items():
    gap5 = t5.loc["Full", "O-F1"] - t5.loc["Voting (top 5)", "O-F1"]
    rows.append({"set": title, "claim": "the rows are complementary: the full model beats the top-5 vote (O-F1)",
                 "paper (NUS-WIDE)": "O-P +0.007, O-R +0.009", "ours (split gaps)": f"{gap5:+.3f}",
                 "verdict": claims.verdict(gap5, tolerance=tolerance("F1@3_overall"))})
    vote3 = t5.loc["Voting (top 3)", "O-F1"] - MAIN_RESULTS[title].means().loc["WARP", "F1@3_overall"]
    rows.append({"set": title, "claim": "a committee of the rows' top 3 already beats WARP (O-F1, top 3)",
                 "paper (NUS-WIDE)": "O-P +0.020, O-R +0.017", "ours (split gaps)": f"{vote3:+.3f}",
                 "verdict": claims.verdict(vote3, tolerance=tolerance("F1@3_overall"))})
    ratio = JAC[title].mean() / RANDOM_J[title]
    rows.append({"set": title, "claim": f"the rows are very different: mean Jaccard of top-5 sets at most the paper's {PAPER_RATIO:.1f} x random",
                 "paper (NUS-WIDE)": f"0.100 = {PAPER_RATIO:.1f} x random ({random_jaccard(81, 5):.3f})",
                 "ours (split gaps)": f"{JAC[title].mean():.3f} = {ratio:.2f} x random ({RANDOM_J[title]:.3f})",
                 "verdict": "confirmed" if ratio <= PAPER_RATIO else "refuted"})
f_paper = max(f for f in FRACTIONS if f <= 0.68) if FRACTIONS else 1.0
small = FRAC_F1.loc[f_paper, OURS] - FRAC_F1.loc[1.0, "WARP"]
rows.append({"set": MAIN, "claim": f"fewer images suffice: the model on {f_paper:.0%} of the training part beats WARP on all of it (O-F1, top 3)",
             "paper (NUS-WIDE)": "+0.033 over WARP (O-F1, top 3) on 68 % of its images",
             "ours (split gaps)": f"{small:+.3f} (floor {tolerance('F1@3_overall'):.3f})",
             "verdict": claims.verdict(small, tolerance=tolerance("F1@3_overall"))})
for title, Z in ZERO_SHOT.items():  # beyond the paper: its Section 3.5's zero-shot potential, over the label folds
    above = Z.means().loc[OURS, "mAP_image_unseen"] - CHANCE[title][1]
    rows.append({"set": title, "claim": "zero-shot: the model ranks unseen labels above chance (mAP_image_unseen)",
                 "paper (NUS-WIDE)": "anticipated (Sec. 3.5), not measured",
                 "ours (split gaps)": f"{above:+.3f} ({Z.means().loc[OURS, 'mAP_image_unseen']:.3f} vs {CHANCE[title][1]:.3f})",
                 "verdict": claims.verdict(above, tolerance=NOISE)})
    for other in ("DeViSE", "ConSE"):
        g = claims.paired_gap(Z, OURS, other, "mAP_image_unseen")
        rows.append({"set": title, "claim": f"zero-shot: the model beats {other} (mAP_image_unseen, label folds)",
                     "paper (NUS-WIDE)": "not measured", "ours (split gaps)": str(g).replace("splits", "folds"),
                     "verdict": claims.verdict(g)})
claims_df = pd.DataFrame(rows).set_index(["set", "claim"])
display(Markdown(("**SYNTHETIC DATA.** " if not REAL else "") + " ".join(r.caption() + "." for r in MAIN_RESULTS.values())))
claims_df

# %% [markdown]
# In short, on one split of each set (and the five label folds for zero-shot):
#
# * **Confirmed:**
#   * performance is stable in $k$: O-F1 moves over $k$ from 10 to 100 no more than over
#     seeds;
#   * the rows of $A$ are very different (mean Jaccard 1.25 and 1.09 times the random
#     level), and the full model beats their vote by far (+0.156 and +0.138 O-F1);
#   * the model ranks labels it never trained on above chance (+0.079 and +0.128 per-image
#     mAP on the unseen labels).
# * **Refuted:**
#   * that the model beats WARP: it is 0.031-0.065 below in O-F1 and 0.048-0.081 below in
#     C-F1, on both sets and both cut-offs;
#   * that a committee of the rows' top 3 beats WARP (0.19-0.23 below);
#   * that it needs fewer training images: on 68 % of them it is 0.032 below WARP on all
#     of them, and it loses more than WARP as the training part shrinks;
#   * on COCO-person, that a transformation beats an embedding: DeViSE is 0.077 O-F1
#     ahead, and also better zero-shot (0.098 per-image mAP, every fold).
# * **Not resolved:** on MIRFlickr, DeViSE against the model in O-F1 (0.018, inside the
#   seed spread of 0.019), and zero-shot against DeViSE and ConSE (the folds disagree).
#
# The paper's headline claims rest on a fine-tuned AlexNet with 102,405 training images.
# On frozen features, with a few thousand photos, the transformation is the harder model
# to fit and the weaker one. Its stability in $k$ holds, and so does its openness to new
# labels in the generalised setting. The paper-scale run (`live_images=None splits=5
# epochs=30 device=cuda`) tests whether more data closes the gap, once a GPU is lent.

# %% [markdown]
# ## Cost of this page
#
# Seconds of each study on the machine that ran it (one thread), and each method's seconds
# per epoch in Tables 3-4.

# %% tags=["nbval-ignore-output"]
display(pd.concat({"seconds": pd.Series({f"{t}, {what}": round(s, 1) for (t, what), s in TIMES.items()})}, axis=1))
pd.DataFrame({t: {m: per[0].get("s/epoch") for m, per in r.info.items() if m != "Upper bound"}
              for t, r in MAIN_RESULTS.items()}).rename_axis("s/epoch (Tables 3-4)")
