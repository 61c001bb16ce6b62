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
# # Weak supervision: learning from user tags while refining them
#
# The chapters so far trained on clean labels and used the user tags as metadata. The
# paper of this chapter ({cite:t}`zhang2018killtwobirds`, AAAI) does without the labels. It
# trains the annotation network on the **user tags alone**, treats them as noisy, and
# refines them during training. The labels are used only to evaluate. Three constraints
# act on every batch of tag probabilities $P$:
#
# * **Visual consistency**, $L_{vis}$ (Eq. 2). Images that look alike should get alike
#   tag distributions. A batch of $s$ images is made of $s/m$ groups, each an anchor and
#   its $m - 1$ current visual neighbours. The loss is
#   $L_{vis} = \frac{m}{s(m-1)} \sum_j \sum_e \gamma_{j,e} \lVert p_{i_j} - p_{z_e} \rVert^2$,
#   with weights $\gamma = \exp(-\lVert\varphi(i_j) - \varphi(z_e)\rVert^2 / \sigma)$.
# * **Semantic dependency**, $L_{sem}$ (Eq. 3-8). Related tags should get alike
#   probabilities. The tag-pair distance adds the normalised Google distance over image
#   co-occurrence (Eq. 3) to $\alpha$ times a WordNet distance from Lin similarity
#   (Eq. 4). It becomes an affinity $\xi = \exp(-\mathrm{dist}^2/\sigma)$ (Eq. 5), and the
#   loss is the graph-Laplacian trace $\frac{1}{C^2}\mathrm{Tr}[P(Q - \xi)P^\top]$ (Eq. 8).
# * **User-error sparsity**, $L_{err}$ (Eq. 9). Users are mostly right, so the error
#   matrix is sparse: $L_{err} = \lVert G - P \rVert_1$ against the batch's user tags $G$.
#
# The network $\varphi_0$ is first trained on the user tags with the logistic loss (the
# paper's **Multi-CNN** baseline). It is then trained on
# $L = L_{vis} + \lambda_1 L_{sem} + \lambda_2 L_{err}$ (Eq. 1). Batches are built by
# **dynamic neighbours** (Algorithm 1): every image keeps $M$ candidates found with
# $\varphi_0$'s features, and before each batch the anchors' candidates are re-ranked with
# the *current* network. Tag refinement is the training itself. Annotation is a forward
# pass of a new photo.
#
# The code: `neighborlib.models.weak` holds the three constraints (one function each),
# Algorithm 1 (`DynamicBatches`) and the trainer (`fit_weak`).
# `neighborlib.tagsemantics` holds the preprocessing and Eq. 3-5.
# `neighborlib.models.refine` holds the baselines, and `neighborlib.refinement` makes
# them all protocol methods.
#
# **What runs here.** The paper evaluates on MIRFlickr (14 labels, 1/5 of the images for
# training, 5 repeats) and NUS-WIDE. We have MIRFlickr's 25,000 real photos with their
# real tags, so its **Tables 2 and 4** are reproduced on the same kind of data. We have
# no NUS-WIDE photos or tags, so the paper's Tables 3 and 5 are printed for reference.
# **COCO-person** is the second set: the words of the five captions act as user tags,
# and the 79 object labels are the ground truth. The backbone stays frozen on the CPU,
# and $\varphi$ is a trainable head on its pooled features. The live MIRFlickr tables use
# the seeded 8,000-photo subset of chapters 3b-5, so the training fifth holds 1,600 photos
# where the paper's holds 5,000.
#
# **Five splits.** The live tables run one split. `grid=True` runs both tasks on five
# splits of the same photos, the paper's five repeats, and adds the rows to
# `notebooks/results/06_weak_supervision_grid.csv`. The committed file comes from that
# run on the CPU; the section "Five splits" reads it, and the claims check uses it.
#
# **Paper-scale run.** `live_images=None splits=5 epochs=30 refresh=1 device=cuda` runs
# all 25,000 photos with the paper's 5 repeats and 30 epochs, and re-ranks before every
# batch as Algorithm 1 does. The wider grid is
# `lambda_sem=[1,10,100] lambda_err=[0.03,0.1,0.3] alpha=[0.5,1,2]`. Fine-tuning
# the backbone end to end (`neighborlib.features.FineTunableBackbone`) is not wired in
# yet. No GPU was lent to the session that wrote this page, so that run has not been made.

# %% tags=["hide-input"]
import itertools
import time
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

from neighborlib import claims, metrics, plots, refinement
from neighborlib.features import read_image
from neighborlib.models.minibatch import SGDConfig
from neighborlib.models.weak import WeakConfig
from neighborlib.notebook import real_sets, start_chapter
from neighborlib.paths import checkout_root
from neighborlib.protocol import (
    WEAK_FRACTIONS, benchmark_features, describe_splits, load_benchmark, records_table, run_grid, run_protocol,
    seeded_subset, split_data,
)
from neighborlib.tagsemantics import tag_affinity
from neighborlib.wordnet import load_information_content, load_wordnet

# %% tags=["parameters"]
dataset: str = "auto"  # "auto" (MIRFlickr and COCO-person when present, else synthetic), "mirflickr", "synthetic"
data_root: Optional[str] = None  # None: $NEIGHBORLIB_DATA, else ../shared/data beside the project
seed: int = 0  # base seed of the splits, the initialisations and the batch orders
splits: int = 1  # seeded splits (the paper: 5 repeats)
live_images: Optional[int] = 8000  # MIRFlickr photos of the live tables (the seeded subset of chapters 3b-5); None: all 25,000
device: str = "cpu"  # "cpu", "cuda" or "auto"
threads: int = 1  # CPU threads of torch and BLAS; the committed outputs use 1 (other counts change last digits)
quick: bool = False  # small settings for smoke tests (1,500 images, 2 epochs)
min_fraction: float = 0.001  # the tag filter: tags on at least this fraction of the images (the paper: 0.1 %)
hidden: int = 512  # the image feature phi of the trainable head (the paper: VGG-16's 4096-d fc7)
M: int = 512  # neighbourhood candidates per image (the paper: 512)
batch_size: int = 64  # s (the paper: 64)
group_size: int = 8  # m, the anchor and its neighbours (the paper: 8)
epochs: int = 1  # epochs of the constrained training (the paper: 30; on the frozen features validation peaks after 1)
lr: float = 1e-3  # SGD learning rate (the paper: 1e-3, divided by 10 every 10 epochs)
refresh: int = 25  # batches between re-rankings of the candidates (Algorithm 1: 1)
phi0_epochs: int = 20  # most epochs of phi0, the Multi-CNN baseline (logistic loss, epoch chosen on validation)
phi0_lr: float = 1e-2  # SGD learning rate of phi0
lambda_sem: list[float] = [10.0]  # grid of lambda_1 (chosen on validation)
lambda_err: list[float] = [0.1, 0.3]  # grid of lambda_2
alpha: list[float] = [1.0]  # grid of the WordNet weight alpha (Eq. 4)
ablations: bool = True  # each constraint alone and removed, and fixed neighbours (MIRFlickr annotation)
coco: bool = True  # the COCO-person tables too
grid: bool = False  # run both tasks on grid_splits splits of the live sets and write grid_file (about 25 minutes on one core)
grid_splits: int = 5  # splits of the grid (the paper: 5 repeats)
grid_redo: bool = False  # run again the (method, split) pairs grid_file already has (default: skip them, so a grid resumes)
grid_file: Optional[str] = None  # None: notebooks/results/06_weak_supervision_grid.csv in the checkout

# %% tags=["hide-input"]
params, DEVICE = start_chapter(globals(), "06_weak_supervision")  # checks the parameters, pins threads, styles figures
Q = params.quick
_, REAL, HAVE_COCO = real_sets(params)  # MIRFlickr under the data root; COCO-person too
RESULTS = checkout_root() / "notebooks" / "results" if checkout_root() else None
GRID_FILE = Path(params.grid_file) if params.grid_file else (RESULTS or Path("results")) / "06_weak_supervision_grid.csv"
COLUMNS = ["imAP", "mAP", "MicroAUC", "MacroAUC"]  # the paper's columns (imAP: every image, label-less ones count 0)
NOISE = 0.005  # single-split noise floor of the claims (page 03b: a thread-count change moves numbers by this much)
WEAK = WeakConfig(epochs=2 if Q else params.epochs, lr=params.lr, batch_size=params.batch_size,
                  group_size=params.group_size, refresh=params.refresh)
PHI0 = SGDConfig(epochs=2 if Q else params.phi0_epochs, min_epochs=1 if Q else 3, patience=2, lr=params.phi0_lr)
GRID = [{"lambda_sem": a, "lambda_err": b, "alpha": c}
        for a, b, c in itertools.product(params.lambda_sem, params.lambda_err, params.alpha)]
wn, ic = load_wordnet(), load_information_content()

# %% [markdown]
# ## Data and the paper's preprocessing
#
# The paper lemmatises every tag, drops the tags WordNet does not know, and keeps those on
# at least 0.1 % of the images. It splits **every** image: one fifth trains and the rest is
# tested. Our protocol needs a validation part for its choices, so a tenth of the images
# comes out of the paper's test part (`protocol.WEAK_FRACTIONS`: train 1/5, val 1/10,
# test 7/10). The paper's RandomGuess row (mAP 0.072) confirms that it counts every image:
# the mean frequency of the 14 labels over all 25,000 images is 0.071, and over only the
# 12,682 images with a label it would be 0.141. Its imAP column then averages over every
# image too. We report it with a label-less image counting 0 (`imAP`), and beside it the
# mean over the labelled images (`imAP_labelled`, the book's per-image mAP elsewhere).
# Neither reproduces the paper's RandomGuess imAP of 0.072 exactly: a random ranking's
# expected AP is above the label frequency, so the paper's per-image rule stays unclear.

# %%
def load_set(name, n=None):
    """A benchmark (its seeded subset of ``n`` images; 1,500 for a quick run), its features and its tag set."""
    bench = load_benchmark(name, params.data_root) if REAL else load_benchmark(
        "synthetic", seed=params.seed, n_images=1500 if Q else 3000, image_size=160)
    X = benchmark_features(bench, device=DEVICE, progress=False)
    index = seeded_subset(len(bench), 1500 if Q else n, params.seed)
    bench, X = bench.subset(index), X[index]
    return bench, X, refinement.tag_set(bench, wn, ic, params.min_fraction)


MAIN = "MIRFlickr" if REAL else "Synthetic"
SETS = {MAIN: load_set("mirflickr-r1", params.live_images)}
if HAVE_COCO:
    SETS["COCO-person"] = load_set("coco-person")

rows = []
for title, (b, X, ts) in SETS.items():
    ds = b.dataset
    rows.append({"set": title, "images N": len(ds), "photos": int(ds.has_photo.sum()), "tags C": ts.n_tags,
                 "labels": ds.n_labels, "tags per image": ts.G.nnz / len(ds),
                 "images without a tag": int((np.diff(ts.G.indptr) == 0).sum()),
                 "labels with a tag": sum(1 for c in ts.label_columns if c)})
rows.append({"set": "MIRFlickr (paper, Table 1)", "images N": 25_000, "tags C": 444, "labels": 14, "tags per image": 2.7})
rows.append({"set": "NUS-WIDE (paper, Table 1)", "images N": 201_302, "tags C": 3010, "labels": 81, "tags per image": 6.8})
display(Markdown(("**SYNTHETIC DATA.** " if not REAL else "")
                 + "Table 1 again: the sets after the paper's preprocessing (lemmatise, WordNet, 0.1 % filter)."))
pd.DataFrame(rows).set_index("set")

# %% [markdown]
# The tags per image roughly agree with the paper's Table 1, but the vocabulary does not:
# we keep more tags than its 444 under the rule as written. Over the 8,000-photo subset,
# 0.1 % is 8 photos. Over all 25,000 photos (`live_images=None`) the table reads 797 tags
# and 2.75 tags per image. No single threshold gives both of the paper's numbers: while
# this page was written, a filter of 0.16 % kept 470 tags, but only 2.35 tags per image. The paper's tag source or lemmatiser probably differed. WordNet's `morphy` keeps
# forms that are lemmas in their own right ("men", "sitting"), and passes camera words
# that are also English ("canon"). We keep the rule as written.
#
# A label is scored through the tags that stand for it (`refinement.LABEL_TAGS`). Most
# labels are their own tag. MIRFlickr's owners write "woman" and "girl" rather than
# "female", and no photo is tagged "male". COCO's captions name a "dining table" a
# "table". A label with several tags takes the largest of their scores:

# %%
stand_for = pd.concat({title: pd.Series(ts.label_names(), name="label: its tags")
                       for title, (_, _, ts) in SETS.items()}, names=["set", "#"]).to_frame()
with pd.option_context("display.max_rows", 100):
    display(stand_for.loc[MAIN])
if HAVE_COCO:
    missing = [n for n, c in zip(SETS["COCO-person"][0].dataset.label_names, SETS["COCO-person"][2].label_columns) if not c]
    display(Markdown(f"COCO-person: labels without a caption word in the vocabulary: {len(missing)} of 79 "
                     f"({', '.join(missing) or 'none'}); every tag-based method scores them 0."))

# %% [markdown]
# ### The semantic dependency in numbers
#
# $\xi$ over MIRFlickr's training tags, with $\alpha = 1$. Below are the tags closest to a
# few of the labels' tags. WordNet ties kinds and synonyms ("dog" and "puppy", "flower"
# and "bloom"). Co-occurrence ties tags that share photos ("car" and "wheel"). On a
# training fifth of 1,600 photos, it also ties rare tags that happen to share one or two
# photos with a label's tag ("woman" and "market").

# %%
b0, X0, ts0 = SETS[MAIN]
data0 = split_data(b0, 0, n_splits=params.splits, seed=params.seed, features=X0, fractions=WEAK_FRACTIONS,
                   every_image=True)
ngd0 = refinement.context_distance(ts0.G[data0.train])
xi0, sigma0 = tag_affinity(ngd0, ts0.kb_distance, 1.0)
tok = ts0.vocabulary.tokens
probe = [tok[c[0]] for c in ts0.label_columns if c][:8]
pd.DataFrame({t: [f"{tok[j]} ({xi0[ts0.vocabulary.index_of(t), j]:.2f})"
                  for j in np.argsort(-xi0[ts0.vocabulary.index_of(t)], kind="stable")[:5]] for t in probe},
             index=[f"#{k}" for k in range(1, 6)]).T.rename_axis(f"tag (σ = {sigma0:.2f}; "
                                                                   f"{(xi0 == 0).mean():.0%} of pairs never co-occur)")

# %% [markdown]
# ## Image annotation (the paper's Tables 2-3)
#
# Every method learns from the user tags of the training fifth and scores the test photos.
# Nothing is trained on a label: the labels of the validation part only choose each
# method's settings and epochs.
#
# * **RandomGuess**: the mean of 80 uniform draws.
# * **KNN**: tag frequencies among the $k$ visually nearest training photos.
# * **Multi-CNN**: $\varphi_0$ itself.
# * **CCA**: CCA-KNN in a canonical space of features and tags.
# * **TagProp**: σTagProp on the tags.
# * **Ours**: $\varphi_0$ trained further by the three constraints.
#
# The features are chapter 2's frozen EfficientNet-Lite0, pooled, where the paper used a
# VGG-16 that it fine-tunes. $\varphi$ is one hidden layer of 512 on them. With
# `epochs` = 4, `refresh` = 25 batches and a one-point grid, the page fits in the CI
# budget: see the parameters.

# %%
def annotation_methods(ts, with_ablations, watch=True):
    """The rows of the annotation tables (and the ablations); ``watch``: record Figure 4's query photo."""
    ours = dict(config=WEAK, M=params.M, hidden=params.hidden, phi0_config=PHI0, device=DEVICE)
    seen = dict(watch=WATCH, watch_every=WATCH_EVERY) if watch else {}
    m = {
        "RandomGuess": refinement.random_guess_method(ts),
        "KNN": refinement.knn(ts),
        "Multi-CNN": refinement.multi_cnn(ts, hidden=params.hidden, config=PHI0, device=DEVICE),
        "CCA": refinement.cca(ts),
        "TagProp": refinement.tagprop_tags(ts),
        "Ours": refinement.weak_model(ts, grid=GRID, keep_fit=True, **seen, **ours),
    }
    if with_ablations:  # the ablations reuse the setting Ours chose on the same split
        for name, change in ABLATIONS.items():
            m[name] = refinement.weak_model(ts, grid=None, changes=change, **ours)
    return m


ABLATIONS = {
    "L_vis alone": {"lambda_sem": 0.0, "lambda_err": 0.0},
    "L_sem alone": {"use_vis": False, "lambda_err": 0.0},
    "L_err alone": {"use_vis": False, "lambda_sem": 0.0},
    "w/o L_vis": {"use_vis": False},
    "w/o L_sem": {"lambda_sem": 0.0},
    "w/o L_err": {"lambda_err": 0.0},
    "fixed neighbours": {"dynamic": False},
}
WATCH = [int(data0.train[np.argmax(b0.dataset.labels[data0.train].sum(1))])]  # Figure 4's query: a training photo
BATCHES = -(-len(data0.train) // WEAK.groups_per_batch)  # batches per epoch: every training image anchors once
WATCH_EVERY = max(1, BATCHES * WEAK.epochs // 5)  # five snapshots of its neighbours over the training
protocol = dict(n_splits=params.splits, seed=params.seed, evaluator=metrics.evaluate_weak, fractions=WEAK_FRACTIONS,
                every_image=True, upper_bound=False, keep_scores=True)
TIMES, ANNOTATION, REFINEMENT = {}, {}, {}
for title, (b, X, ts) in SETS.items():
    start = time.perf_counter()
    ANNOTATION[title] = run_protocol(b, annotation_methods(ts, params.ablations and title == MAIN), features=X,
                                     **protocol)
    TIMES[(title, "annotation")] = time.perf_counter() - start

# %% [markdown]
# The paper's rows beside ours. The paper's numbers are in
# `notebooks/results/06_weak_supervision_paper.csv`, read off its Tables 2-5. CCA and WDNL
# have no imAP there.

# %%
PAPER = pd.read_csv((RESULTS or Path("results")) / "06_weak_supervision_paper.csv")  # beside this page


def paper_table(table):
    return PAPER[PAPER["table"] == table].set_index("method")[COLUMNS]


def side_by_side(result, table, rows):
    """Our table with the paper's MIRFlickr rows beside it (the paper calls its model "Our model")."""
    ours = result.table(COLUMNS + ["imAP_labelled"]).loc[rows]
    if result.bench.key != "mirflickr-r1":  # the paper has no table for this set
        return ours
    paper = paper_table(table).rename(index={"Our model": "Ours"}).reindex(rows)
    return pd.concat({"ours (mean ± std)": ours,
                      f"paper, MIRFlickr, Table {table}": paper.map(lambda v: "" if pd.isna(v) else f"{v:.3f}")}, axis=1)


def show_task(results, task, table, rows):
    """Each set's table of one task (with the paper's MIRFlickr table beside), then the paper's NUS-WIDE table."""
    for title, result in results.items():
        display(Markdown(f"**{title}, {task}.** {result.caption()}."))
        display(side_by_side(result, table, rows))
    display(Markdown(f"NUS-WIDE, for reference (the paper's Table {table + 1}; we have no NUS-WIDE tags or photos)."))
    return paper_table(table + 1)


show_task(ANNOTATION, "annotation", 2, ["RandomGuess", "KNN", "Multi-CNN", "CCA", "TagProp", "Ours"])

# %% [markdown]
# What the model chose on validation (its cost is at the end of the page):

# %%
def choices(results, method="Ours"):
    keep = ["lambda_sem", "lambda_err", "alpha", "epoch", "val mAP"]
    return pd.DataFrame([{"set": t, "split": k, **{c: info.get(c) for c in keep}}
                         for t, r in results.items() for k, info in enumerate(r.info[method])]).set_index(["set", "split"])


choices(ANNOTATION)

# %% [markdown]
# **What the annotation tables say.** On MIRFlickr the constraints add almost nothing to
# $\varphi_0$: mAP 0.347 against Multi-CNN's 0.343, where the paper gains 0.035 (0.591
# against 0.556). The ranking of the baselines also differs. The paper's Multi-CNN beats
# KNN and TagProp; on our frozen features, with 1,600 training photos, the two
# neighbour-voting methods are ahead (KNN 0.410, TagProp 0.398). Plain neighbour votes
# need no training, and a head trained on noisy tags needs more photos than that. The
# model gains the same 0.004 on COCO-person (0.260 against 0.256), where CCA is best
# (0.289). The paper's imAP (every image, 0.404 for Multi-CNN) and ours (0.318) are of the
# same size once label-less images count in the mean. Over labelled images only, imAP is
# about twice as large.

# %% [markdown]
# ## Tag refinement (the paper's Tables 4-5)
#
# Now every method sees the photos and tags of *all* images and refines the tags of the
# test part. The protocol's splits are the same.
#
# * **UserTags**: the tags as given.
# * **Multi-CNN**: $\varphi_0$ trained on every image.
# * **TagCooccur**: promotion of co-occurring tags.
# * **TagVote**: neighbour votes minus the tag's prior.
# * **RPCA**: the low-rank part of the whole tag matrix.
# * **Ours**.
#
# The labels of the validation part still choose the settings.

# %%
def refinement_methods(ts):
    return {
        "UserTags": refinement.user_tags_method(ts),
        "Multi-CNN": refinement.multi_cnn(ts, "refinement", hidden=params.hidden, config=PHI0, device=DEVICE),
        "TagCooccur": refinement.tag_cooccur_method(ts),
        "TagVote": refinement.tag_vote_method(ts),
        "RPCA": refinement.rpca_method(ts),
        "Ours": refinement.weak_model(ts, "refinement", grid=GRID, config=WEAK, M=params.M, hidden=params.hidden,
                                      phi0_config=PHI0, device=DEVICE, keep_fit=True),
    }


for title, (b, X, ts) in SETS.items():
    start = time.perf_counter()
    REFINEMENT[title] = run_protocol(b, refinement_methods(ts), features=X, **protocol)
    TIMES[(title, "refinement")] = time.perf_counter() - start

show_task(REFINEMENT, "refinement", 4, ["UserTags", "Multi-CNN", "TagCooccur", "TagVote", "RPCA", "Ours"])

# %%
choices(REFINEMENT)

# %% [markdown]
# **What the refinement tables say.** Refinement is where the constraints help. On
# MIRFlickr the model refines the tags to mAP 0.545, against 0.527 for $\varphi_0$
# trained on the same photos (+0.018; the paper: +0.036). That is the best mAP of the
# table, just ahead of TagVote (0.535). TagVote keeps the best imAP and MicroAUC. The
# user tags themselves score 0.256 (the paper: 0.263); TagCooccur lifts them to 0.325.
# RPCA's low-rank part falls below them (0.204): on a tag matrix this sparse, the
# low-rank part that survives the sparse error is mostly the frequent tags (the paper's
# RPCA, 0.541, probably also used the content priors of Zhu et al.). On COCO-person the
# captions are already good tags (UserTags 0.470). TagCooccur (0.601) edges out the
# model, which only equals $\varphi_0$ (0.591 both).

# %% [markdown]
# ## Ablations: which constraint helps
#
# The paper trains with each constraint alone and reports mAP 0.572 ($L_{vis}$), 0.564
# ($L_{sem}$) and 0.560 ($L_{err}$) for annotation on MIRFlickr, against 0.591 for the
# three together. It does not report the model with one constraint removed, nor fixed
# against dynamic neighbours. We run all of these on MIRFlickr's annotation split, each
# with the setting the full model chose.

# %%
if params.ablations:
    abl = ANNOTATION[MAIN]
    rows = ["Multi-CNN", "Ours", *ABLATIONS]
    paper_abl = pd.Series({"L_vis alone": 0.572, "L_sem alone": 0.564, "L_err alone": 0.560, "Ours": 0.591,
                           "Multi-CNN": 0.556}, name="paper mAP").reindex(rows)
    table = abl.table(COLUMNS).loc[rows].join(paper_abl.map(lambda v: "" if pd.isna(v) else f"{v:.3f}"))
    table["Δ mAP vs Ours"] = (abl.means().loc[rows, "mAP"] - abl.means().loc["Ours", "mAP"]).map("{:+.3f}".format)
    display(Markdown(f"**{MAIN}, annotation, ablations.** {abl.caption()}."))
    display(table)

# %% [markdown]
# Only $L_{err}$ matters at the chosen weights. Without it the model loses 0.067, and
# $L_{vis}$ alone drops 0.059 *below* $\varphi_0$ (0.284 against 0.343). Alone, visual
# consistency pulls the probabilities of neighbours together until they stop ranking
# anything. $L_{sem}$ moves nothing: a Laplacian term divided by $C^2$ is tiny, and
# $\lambda_1$ = 1,000 instead of 10 collapsed the model in our tuning runs. The paper's
# finding that each constraint alone beats Multi-CNN, and $L_{vis}$ most, is not
# reproduced. Fixed neighbours come 0.005 below dynamic ones. That is the size of our
# noise floor, but it agrees with the neighbour relevance measured below.

# %% [markdown]
# Where the constraints move a label: the per-label AP of the model minus that of
# $\varphi_0$ (Multi-CNN), against the label's frequency.

# %%
A0 = ANNOTATION[MAIN]
gain = A0.per_label_ap("Ours") - A0.per_label_ap("Multi-CNN")
ax = plots.plot_gain_against_frequency(gain, b0.dataset.labels.sum(0), [refinement.label_word(n) for n in b0.dataset.label_names],
                                       "AP(Ours) - AP(Multi-CNN), annotation", synthetic=not REAL, annotate=8)
ax.set_title(f"{MAIN}: the three constraints against φ0, per label (split 0)")
pd.Series({"labels gaining": int((gain > 0).sum()), "labels losing": int((gain < 0).sum()),
           "mean gain": float(gain.mean())}).to_frame("Ours vs Multi-CNN")

# %% [markdown]
# The mean gain is small (+0.004), and more labels lose than gain (9 against 5).

# %% [markdown]
# ## Dynamic neighbours (the paper's Figure 4)
#
# One training photo, the one with the most labels, and the $m - 1 = 7$ neighbours it
# selects from its $M$ candidates. The first row uses $\varphi_0$, the others the network
# as training goes on. A green frame marks a neighbour that shares a label with the query.
# The paper shows irrelevant (red) neighbours giving way to relevant ones as training
# goes on.

# %%
def photo(bench, i):
    return np.asarray(read_image(bench.dataset.photo_path(int(i))).convert("RGB").resize((128, 128)))


info0 = ANNOTATION[MAIN].info["Ours"][0]
pool0 = info0["pool"]
query = WATCH[0]
Y0 = b0.dataset.labels
steps = info0["fit"].watched[int(np.searchsorted(pool0, query))]
rows_fig, shares = [], []
for e, sel in enumerate(steps):
    nbrs = pool0[sel]
    rel = [bool((Y0[n] & Y0[query]).any()) for n in nbrs]
    shares.append(np.mean(rel))
    rows_fig.append(("φ0" if e == 0 else f"batch {e * WATCH_EVERY}", [photo(b0, n) for n in nbrs], rel))
fig = plots.plot_neighbour_iterations(photo(b0, query), rows_fig, synthetic=not REAL)
labels_q = ", ".join(refinement.label_word(n) for n, y in zip(b0.dataset.label_names, Y0[query]) if y)
display(Markdown(f"Query labels: {labels_q}. Share of relevant neighbours by row: "
                 + ", ".join(f"{s:.2f}" for s in shares) + "."))

# %% [markdown]
# How often the selected neighbours share a label with their anchor, over all training
# anchors, tells more than one photo. We compare $\varphi_0$'s neighbours with those of
# the trained network, using the candidate ranking of Algorithm 1 for both.

# %%
Xpool = info0["X"][torch.as_tensor(pool0)]
relevance = {name: refinement.neighbour_relevance(model, Xpool, info0["candidates"], Y0[pool0], params.group_size)
             for name, model in (("φ0 (= fixed neighbours)", info0["phi0"]), ("after training", info0["fit"].model))}
pd.Series(relevance, name=f"share of the {params.group_size - 1} selected neighbours sharing a label").to_frame()

# %% [markdown]
# The mechanism of Figure 4 holds. After training, 62 % of the selected neighbours share a
# label with their anchor, against 56 % with $\varphi_0$. The query above goes from 3 of
# 7 relevant neighbours to 7 of 7. The network's feature space does become more
# label-like under $L_{vis}$ and $L_{err}$. Better neighbours do not turn into better
# annotation here, because the constraints barely move the classifier.

# %% [markdown]
# ## Refined tags on real photos (the paper's Figure 3)
#
# Test photos of the refinement task, as in the paper's Figure 3: the owner's tags, and
# the five tags the refined distribution ranks first with their probabilities. A blue
# tag stands for one of the photo's labels, a red one for none of them.

# %%
ref_info = REFINEMENT[MAIN].info["Ours"][0]
rng = np.random.default_rng(params.seed)  # which test photos to show (any tagged, labelled ones)
test_labelled = data0.test[(Y0[data0.test].sum(1) > 0) & (np.diff(ts0.G.indptr)[data0.test] > 0)]
show = np.sort(rng.choice(test_labelled, 4, replace=False))
with torch.no_grad():
    P_show = torch.sigmoid(ref_info["fit"].model(ref_info["X"][torch.as_tensor(show)])).numpy()
photo_rows = []
for i, p in zip(show, P_show):
    right = {c for cols, y in zip(ts0.label_columns, Y0[i]) if y for c in cols}
    labs = [refinement.label_word(n) for n, y in zip(b0.dataset.label_names, Y0[i]) if y]
    photo_rows.append({
        "photo": photo(b0, i), "title": "labels: " + ", ".join(labs),
        "columns": {"user tags": [(tok[c], c in right) for c in ts0.G[i].indices[:6]],
                    "refined (top 5)": [(f"{tok[c]} ({p[c]:.2f})", c in right)
                                        for c in np.argsort(-p, kind="stable")[:5]]},
    })
fig = plots.plot_refined_tags(photo_rows, synthetic=not REAL)
fig.suptitle(f"Tag refinement on {MAIN} test photos (split 0)", fontsize=10)

# %% [markdown]
# Unlike the paper's examples, the refined distributions add little. They keep the
# owner's tags that stand for labels on top ("car" at 0.92, "girl" at 0.41), and a label
# the owner did not tag ("female" for the dancers) stays near 0. $L_{err}$ pulls every
# probability towards the owner's tags, and on a frozen backbone the other two terms are
# too weak to push back.

# %% [markdown]
# ## Five splits
#
# The paper averages five repeats; the tables above are one split. `grid=True` runs both
# tasks, every method and the ablations, on `grid_splits` = 5 splits of the same photos
# (Figure 4's neighbour snapshots aside), and adds each (method, split) row to
# `notebooks/results/06_weak_supervision_grid.csv` as soon as it ends
# (`protocol.run_grid`). The committed file comes from that run on the CPU. This page
# reads it.

# %% tags=["nbval-ignore-output"]
if params.grid:
    for title, (b, X, ts) in SETS.items():
        fits = [(name, {"task": "annotation"}, lambda method=method: method)
                for name, method in annotation_methods(ts, params.ablations and title == MAIN, watch=False).items()]
        fits += [(name, {"task": "refinement"}, lambda method=method: method) for name, method in refinement_methods(ts).items()]
        run_grid(b, fits, GRID_FILE, n_splits=params.grid_splits, seed=params.seed, features=X, evaluator=metrics.evaluate_weak,
                 fractions=WEAK_FRACTIONS, every_image=True, redo=params.grid_redo,
                 columns={"device": str(DEVICE), "threads": params.threads, "epochs": WEAK.epochs, "refresh": WEAK.refresh})

# %%
FIVE = {}  # (set title, task) -> its rows of the grid file (these photos, this base seed)
if GRID_FILE.is_file() and REAL and not Q:
    grid_df = pd.read_csv(GRID_FILE)
    for title, (b, _, _) in SETS.items():
        for task in ("annotation", "refinement"):
            rows = grid_df[(grid_df["set"] == b.title) & (grid_df["images"] == len(b)) & (grid_df["seed"] == params.seed)
                           & (grid_df["task"] == task)]
            if len(rows):
                FIVE[(title, task)] = rows
if not FIVE:
    display(Markdown("**The five-split grid has not been run for these photos** (`grid=True` writes it): the "
                     "claims rest on the live split alone."))
captions = {title: describe_splits(SETS[title][0], rows["split"].nunique(), seed=params.seed, fractions=WEAK_FRACTIONS,
                                  every_image=True) for (title, _), rows in FIVE.items()}  # both tasks share the splits
for (title, task), rows in FIVE.items():
    order = [k for k in (ANNOTATION if task == "annotation" else REFINEMENT)[title].metrics if k in set(rows["method"])]
    display(Markdown(f"**{title}, {task}, {rows['split'].nunique()} splits.** {captions[title]}."))
    display(records_table(rows, COLUMNS + ["imAP_labelled"], order))

# %% [markdown]
# Split 0 is a typical split of COCO-person (every method within 0.006 of its
# five-split mean) and a hard one of MIRFlickr's annotation: there the neighbour-voting
# methods score 0.03 below their means, and the model 0.035. The five splits change one
# picture. On MIRFlickr's annotation the model gains little over $\varphi_0$ on three
# splits (−0.009 to +0.004) and a lot on two (+0.068 and +0.099), so its mean gain is
# +0.033 ± 0.048, near the paper's +0.035 but not on every split. $L_{err}$ alone does the
# same (+0.032 ± 0.048): the gain is the error term's. Everything else holds: KNN and
# TagProp stay ahead on annotation (0.441 and 0.430 against 0.382), and refinement by
# the constraints beats $\varphi_0$ on every split of MIRFlickr (+0.023 ± 0.007), level
# with TagVote (+0.001 ± 0.014).
#
# ## Claims check
#
# Each gap is our model's metric minus the other method's, on the same split. On the
# live split there is no split-to-split spread, so a claim is confirmed or refuted only
# when its gap clears a noise floor of 0.005; otherwise it is *not resolved*. Over the
# grid's five splits a claim is confirmed when every split's gap has the claimed sign,
# refuted when every split's has the other, and not resolved when the splits disagree.
# Where the two columns disagree, the five splits decide.

# %%
def both_gaps(title, task, a, others, metric="mAP"):
    """The gap of ``a`` over ``others`` (a method, or several: the strongest of them, the smallest gap)
    on the live split and over the grid's splits (None where the grid lacks them)."""
    others = [others] if isinstance(others, str) else list(others)
    live_run = (ANNOTATION if task == "annotation" else REFINEMENT)[title]
    live = min((claims.paired_gap(live_run, a, o, metric) for o in others), key=lambda g_: g_.mean)
    rows, five = FIVE.get((title, task)), None
    if rows is not None and {a, *others} <= set(rows["method"]):
        five = min((claims.records_gap(rows, {"method": a}, {"method": o}, metric) for o in others), key=lambda g_: g_.mean)
    return live, five


def paper_gap(table, a, b_, metric="mAP"):
    t = paper_table(table)
    return f"{t.loc[a, metric] - t.loc[b_, metric]:+.3f} ({t.loc[a, metric]:.3f} vs {t.loc[b_, metric]:.3f})"


checks = []  # (set, claim, paper, task, a, b or several b, metric)
for title in SETS:
    checks += [
        (title, "annotation: the model beats Multi-CNN (mAP)", paper_gap(2, "Our model", "Multi-CNN"), "annotation", "Ours", "Multi-CNN", "mAP"),
        (title, "annotation: the model beats Multi-CNN (imAP)", paper_gap(2, "Our model", "Multi-CNN", "imAP"),
         "annotation", "Ours", "Multi-CNN", "imAP"),
        (title, "annotation: the model beats TagProp (mAP)", paper_gap(2, "Our model", "TagProp"), "annotation", "Ours", "TagProp", "mAP"),
        (title, "annotation: the model beats KNN (mAP)", paper_gap(2, "Our model", "KNN"), "annotation", "Ours", "KNN", "mAP"),
        (title, "refinement: the model beats Multi-CNN (mAP)", paper_gap(4, "Our model", "Multi-CNN"), "refinement", "Ours", "Multi-CNN", "mAP"),
        (title, "refinement: the model beats RPCA (mAP)", paper_gap(4, "Our model", "RPCA"), "refinement", "Ours", "RPCA", "mAP"),
        (title, "refinement: every method improves on the user tags (RPCA vs UserTags, mAP)",
         paper_gap(4, "RPCA", "UserTags"), "refinement", "RPCA", "UserTags", "mAP"),
    ]
if params.ablations:
    for c in ("L_vis", "L_sem", "L_err"):
        checks.append((MAIN, f"{c} helps: the model beats w/o {c} (mAP)", "not reported", "annotation", "Ours", f"w/o {c}", "mAP"))
        alone = {"L_vis": 0.572, "L_sem": 0.564, "L_err": 0.560}[c]
        checks.append((MAIN, f"{c} alone beats Multi-CNN (mAP)", f"{alone - 0.556:+.3f} ({alone:.3f} vs 0.556)",
                       "annotation", f"{c} alone", "Multi-CNN", "mAP"))
    checks.append((MAIN, "L_vis is the strongest constraint alone (vs the better of the others, mAP)",
                   "+0.008 (0.572 vs 0.564)", "annotation", "L_vis alone", ("L_sem alone", "L_err alone"), "mAP"))
    checks.append((MAIN, "dynamic neighbours beat fixed ones (mAP)", "shown in Fig. 4 only",
                   "annotation", "Ours", "fixed neighbours", "mAP"))
N_FIVE = max((rows["split"].nunique() for rows in FIVE.values()), default=0)
rows = []
for s_, c, p, task, a, b_, metric in checks:
    live, five = both_gaps(s_, task, a, b_, metric)
    rows.append({"set": s_, "claim": c, "paper (MIRFlickr)": p, "live split": str(live) if live.differences.size > 1 else f"{live.mean:+.3f}",
                 "verdict (live)": claims.verdict(live, tolerance=NOISE if params.splits == 1 else 0.0),
                 f"{N_FIVE} splits": str(five) if five else "-",
                 f"verdict ({N_FIVE} splits)": claims.verdict(five) if five else "-"})
before, after = relevance.values()
rows.append({"set": MAIN, "claim": "training makes the selected neighbours more relevant (Fig. 4)",
             "paper (MIRFlickr)": "shown on example photos", "live split": f"{after - before:+.3f} ({after:.3f} vs {before:.3f})",
             "verdict (live)": claims.verdict(after - before, tolerance=NOISE), f"{N_FIVE} splits": "-",
             f"verdict ({N_FIVE} splits)": "-"})
claims_df = pd.DataFrame(rows).set_index(["set", "claim"])
if not FIVE:
    claims_df = claims_df.drop(columns=[f"{N_FIVE} splits", f"verdict ({N_FIVE} splits)"])
display(Markdown(("**SYNTHETIC DATA.** " if not REAL else "")
                 + " ".join(r.caption() + "." for r in ANNOTATION.values())))
claims_df

# %% [markdown]
# In short, over five splits of each set:
#
# * **Confirmed:**
#   * on MIRFlickr, refinement by the three constraints beats $\varphi_0$ (+0.023 mAP;
#     the paper: +0.036);
#   * on COCO-person, annotation by the model beats $\varphi_0$ (+0.004 ± 0.001) and
#     KNN (+0.019), on every split, though by a tenth of the paper's gain;
#   * on both sets, the model beats RPCA;
#   * $L_{err}$ is needed (+0.086 over the model without it);
#   * dynamic neighbours beat fixed ones, on every split, though on two by 0.001
#     (+0.010 ± 0.011);
#   * training makes the selected neighbours more relevant (+0.07 of shared labels,
#     split 0).
# * **Not resolved:**
#   * on MIRFlickr, annotation by the model beats $\varphi_0$: +0.033 ± 0.048 mAP, large
#     on two splits and −0.009 to +0.004 on the other three (imAP: +0.003 ± 0.011). The paper's +0.035 needs, at the least, its
#     fine-tuned backbone and its 5,000 training photos. While this page was written, a
#     run over all 25,000 photos (`live_images=None`, 12 minutes on this machine, not part
#     of the committed outputs) gave mAP 0.467 against 0.453, still below KNN (0.509) and
#     TagProp (0.506);
#   * refinement on COCO-person beats $\varphi_0$ (−0.001 ± 0.002);
#   * that $L_{vis}$ and $L_{sem}$ help within the model: removing either moves mAP by
#     less than 0.001, and the splits straddle zero.
# * **Refuted:**
#   * that the model beats TagProp on annotation, on both sets, and KNN on MIRFlickr
#     (−0.060), on every split;
#   * that each constraint alone beats Multi-CNN, with $L_{vis}$ the strongest: alone,
#     $L_{vis}$ is the *worst* (−0.051 against Multi-CNN), $L_{sem}$ changes nothing
#     (−0.002) and only $L_{err}$ gains;
#   * that every refinement method improves on the user tags: RPCA does not.
#
# The paper's recipe is fine-tuning a VGG-16 end to end under the constraints, for 30
# epochs. It is the paper-scale parameter set, and it needs a GPU. On a frozen backbone
# the constraints act on one hidden layer. There they reshape the neighbourhoods but
# leave the annotations almost where $\varphi_0$ put them.

# %% [markdown]
# ## Cost of this page
#
# Seconds of each protocol run, and of one epoch of the constrained training, on the
# machine that made the committed run (2 CPU cores, one thread). These numbers change
# from run to run, so nbval does not compare them.

# %% tags=["nbval-ignore-output"]
cost = pd.DataFrame({f"{t}, {task}": {"protocol run (s)": round(s, 1),
                                      "Ours, s/epoch": (ANNOTATION if task == "annotation" else REFINEMENT)[t].info["Ours"][0]["s/epoch"]}
                     for (t, task), s in TIMES.items()}).T
cost
