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
# # Semantic metadata maps and recurrent fusion
#
# {cite:t}`tesan2020cnnrnn` keep LTN's nonparametric neighbourhoods and change two
# things. First, the metadata can enter the network, through a *map* $\pi$. The map is
# either the binary tag vector itself ($\pi = \mathrm{id}$) or a semantic embedding: the
# sum of the word vectors of the image's tags,
#
# $$\rho(o_x; \beta) = \sum_{i=1}^{\tau} o_x^{(i)} \, \beta(t^{(i)}) \qquad \text{(Eq. 6)}$$
#
# with $\beta$ word2vec or WordNet embeddings. The same maps also *build* the
# neighbourhoods: Jaccard distance for id, cosine distance for $\rho$ (Eq. 5, 7). The
# paper writes $n$ for the map behind the neighbourhoods and $f$ for the map that is fed.
# Second, the neighbours can be fused by a recurrent network that reads them nearest
# first, instead of LTN's order-blind max-pool. Seven networks follow from these two
# ideas:
#
# | model | what changes from LTN | equation |
# |---|---|---|
# | RTN | an LSTM over the neighbours' hidden states replaces the max-pool | 12 |
# | LTN+Vecs | $\pi(o_x)$ is concatenated to $\phi(x)$ | 13-14 |
# | LTN+AllVecs | the neighbours' maps $\pi(o_{z_i})$ are concatenated too | 15-16 |
# | LTwin | separate image and metadata pipelines $[v_x; v_z; u_x; u_z]$, each max-pooled | 17 |
# | LTwin+RNN | LSTMs replace both of LTwin's max-pools | - |
# | LTwin+2RNN | the output layer is an LSTM over $(v_x, v_z, u_x, u_z)$ | 18 |
# | LZip | one LSTM over $(v_x, u_x, v_{z_1}, u_{z_1}, \dots, v_{z_m}, u_{z_m})$ | 19 |
#
# The "RNN" is an LSTM "with linear activation": identity instead of tanh on the cell
# input and output (`neighborlib.models.LinearLSTM`). The models live in
# `neighborlib.models.fusion`, the maps in `neighborlib.maps`. Training is the LTN
# chapter's loop (`train_neighbourhood_model`) with this paper's settings. The splits are
# the book's protocol: the same seeded splits as the LTN chapter, so the numbers compare
# across chapters.
#
# The paper reports on NUS-WIDE. This page runs on the 25,000 MIRFlickr photos with
# their Flickr tags. Its committed run is a representative subset that fits CI's six
# minutes on two CPU cores; the parameters below give the paper-scale grid.

# %% tags=["hide-input"]
from dataclasses import replace
from pathlib import Path
from typing import Optional

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from neighborlib import claims, embeddings, maps, methods, metrics, neighbourhoods, plots, wordnet
from neighborlib.data import data_root as find_data_root
from neighborlib.models import FUSION_MODELS, TrainConfig
from neighborlib.notebook import start_chapter
from neighborlib.paths import checkout_root
from neighborlib.protocol import (benchmark_features, load_benchmark, run_grid, run_protocol, seeded_subset,
                                  split_data)

# %% tags=["parameters"]
dataset: str = "auto"  # "auto" (MIRFlickr when present, else synthetic), "mirflickr", "synthetic"
data_root: Optional[str] = None  # None: $NEIGHBORLIB_DATA, else ../shared/data beside the project
seed: int = 0  # base seed of the splits, the initialisation, the sampling and the dropout
splits: int = 1  # splits of the live tables (the paper: 5), the protocol's first ones
live_images: Optional[int] = 8000  # MIRFlickr photos of the live tables (the LTN studies' seeded subset); None: all 25,000
device: str = "cpu"  # "cpu", "cuda" or "auto"
threads: int = 1  # CPU threads of torch and BLAS; the committed outputs use 1 (other counts change last digits)
quick: bool = False  # small settings for smoke tests (1,500 images, 2 epochs)
epochs: int = 10  # most epochs of the visual models (the paper: 10)
min_epochs: int = 3  # fewest epochs before early stopping of the visual models (the paper: 3)
joint_epochs: int = 15  # most epochs of the joint models (the paper: 15)
joint_min_epochs: int = 5  # fewest epochs of the joint models (the paper: 5)
patience: int = 2  # epochs without a better validation mAP before stopping (not stated in the paper)
m: int = 3  # neighbourhood size of the live tables
M: int = 6  # max rank of the live tables
h: int = 500  # hidden width (the paper: 500)
lr: float = 1e-4  # RMSProp learning rate (the paper: 1e-4)
l2: float = 3e-4  # L2 strength on every weight matrix (the paper: 3e-4)
batch_size: int = 64  # minibatch size (the paper: 64)
test_samples: int = 10  # neighbourhoods averaged per test image
wordnet_words: int = 6000  # WordNet-embedding vocabulary: the top tags plus their WordNet neighbours (the paper: 60,000)
wordnet_dim: int = 100  # WordNet-embedding dimension (the paper: 650)
vocabulary_top: int = 10000  # the vocabulary shift draws its two vocabularies from this many top tags
grid: bool = False  # run the whole grid (every model, map and size) and write grid_file
grid_splits: int = 5  # splits of the grid (the paper: 5)
grid_images: Optional[int] = None  # MIRFlickr photos of the grid (the seeded subset); None: all 25,000
grid_models: Optional[list[str]] = None  # the grid's model families to run (e.g. ["LTN", "RTN"]); None: all eight
grid_redo: bool = False  # run again the fits grid_file already has (default: skip them, so a grid resumes)
cost_images: int = 1000  # photos of the one-epoch timing of every model
grid_sizes: list[list[int]] = [[3, 6], [6, 12], [12, 24]]  # (m, M) of the grid (the paper's three)
grid_file: Optional[str] = None  # None: notebooks/results/04_semantic_maps_grid.csv in the checkout

# %% tags=["hide-input"]
params, DEVICE = start_chapter(globals(), "04_semantic_maps")  # checks the parameters, pins threads, styles figures
Q = params.quick
VISUAL_CFG = TrainConfig(epochs=2 if Q else params.epochs, min_epochs=1 if Q else params.min_epochs,
                         patience=params.patience, batch_size=params.batch_size, lr=params.lr, l2=params.l2,
                         K=params.test_samples)
JOINT_CFG = replace(VISUAL_CFG, epochs=2 if Q else params.joint_epochs, min_epochs=1 if Q else params.joint_min_epochs)
ROOT = find_data_root(params.data_root)
REAL = params.dataset != "synthetic" and ROOT is not None and (ROOT / "mirflickr25k").is_dir()
HAVE_COCO = REAL and (ROOT / "coco").is_dir()
RESULTS = checkout_root() / "notebooks" / "results" if checkout_root() else Path("results")  # beside this page
GRID_FILE = Path(params.grid_file) if params.grid_file else RESULTS / "04_semantic_maps_grid.csv"
COLUMNS = ["mAP_label", "mAP_image", "R@3_label", "P@3_label", "R@3_overall", "P@3_overall"]

# %% [markdown]
# ## Data, features and the three maps
#
# MIRFlickr's 25,000 photos, their owners' tags (τ = 5,000 most frequent training tags,
# the paper's τ) and the 24 potential labels; $\phi$ are the frozen EfficientNet-Lite0
# features of chapter 2 (1280-d, 160 px), standardised on each training part. The maps:
#
# * **id**: the binary tag vector, 5,000-d;
# * **w2v**: $\rho$ with word2vec GoogleNews vectors (300-d; the 26,423-word subset the
#   project ships, chapter 2);
# * **wnet**: $\rho$ with WordNet embeddings computed by the project's wnet2vec pipeline
#   (chapter 2), seeded with the 5,000 most frequent tags: 6,000 lemmas, 100 dimensions. The
#   paper's dictionary has 60,000 words and 650 dimensions, which the CPU cannot compute
#   in a chapter's budget (`wordnet_words`, `wordnet_dim` on a GPU).
#
# $\rho$ is divided by the root mean square of its training entries, so that the network
# sees inputs of unit scale; cosine neighbourhoods do not change.

# %%
def subset_index(b, n):
    """The seeded subset of ``n`` images of a benchmark (`protocol.seeded_subset`: the LTN studies' subset)."""
    return seeded_subset(len(b), n, params.seed)


if REAL:
    full = load_benchmark("mirflickr", params.data_root)
else:
    full = load_benchmark("synthetic", seed=params.seed, n_images=2000, image_size=160)
X_full = benchmark_features(full, device=DEVICE, progress=False)
index = subset_index(full, 1500 if Q else params.live_images)
bench, X = full.subset(index), X_full[index]
display(Markdown(("**SYNTHETIC DATA.** " if bench.synthetic else "") + "Live tables: " + bench.describe()
                 + f"; features {X.shape[1]}-d"))

# %% tags=["nbval-ignore-output"]
w2v = embeddings.load_word_vectors("word2vec")
top_tags = list(split_data(full, 0, seed=params.seed).vocabulary.tokens)
wnet = wordnet.wordnet_embeddings(n_words=1500 if Q else params.wordnet_words, dim=50 if Q else params.wordnet_dim,
                                  words=top_tags, device=DEVICE, progress=False)

# %%
MAPS = {"id": maps.identity(), "w2v": maps.embedded("w2v", w2v), "wnet": maps.embedded("wnet", wnet)}
SOURCES = {n: neighbourhoods.by_map(fn) for n, fn in MAPS.items()}
print(f"word2vec: {len(w2v):,} words, {w2v.vector_size}-d; WordNet embeddings: {len(wnet):,} lemmas, "
      f"{wnet.vector_size}-d")

# %% [markdown]
# ### Out of vocabulary
#
# A tag without a vector adds nothing to $\rho$. An image none of whose tags has a vector
# gets $\rho = 0$. It is fed the zero vector (no metadata signal), and with zero norm it
# has no cosine neighbours: like an untagged image, it gets filler neighbours at distance
# 1 (`neighborlib.maps`). How often that happens, for each map on split 0 of each real
# set (COCO-person's metadata are the words of its five captions):

# %%
def oov_rows(b, title):
    data = split_data(b, 0, seed=params.seed)
    rows = {}
    for n in ("w2v", "wnet"):
        r = MAPS[n](data).report
        rows[(title, n)] = {"vocabulary": r.n_tokens, "tokens with a vector": r.coverage,
                            "tag occurrences covered": r.covered_mass,
                            "images with tags but no vector": r.images_without_vector / r.n_images}
    return rows


oov = oov_rows(full, full.title)
if HAVE_COCO and not Q:
    oov.update(oov_rows(load_benchmark("coco-person", params.data_root), "COCO-person"))
oov = pd.DataFrame(oov).T
oov.index.names = ["set", "map"]
formats = {"vocabulary": "{:,.0f}", "tokens with a vector": "{:.1%}", "tag occurrences covered": "{:.1%}",
           "images with tags but no vector": "{:.2%}"}
oov.apply(lambda col: col.map(formats[col.name].format))

# %% [markdown]
# The word2vec subset the project ships (26,423 words) covers only 40.5% of MIRFlickr's
# 5,000 tags and 52.5% of their occurrences. Flickr tags are full of years, camera
# names and joined words (*2007*, *nikon*, *bw*, *abigfave*, *selfportrait*), and 13.5% of
# the photos have tags but get $\rho = 0$. The WordNet embeddings, seeded with the same
# tags, reach further: 51.7% of the tags, 6.9% of the photos without a vector.
# COCO-person's caption words are plain English: word2vec covers 84.0% of its 3,666
# words and 96.4% of their occurrences, and every photo gets a vector. Those 6,000
# lemmas were seeded with MIRFlickr's tags, so they cover only 38.5% of COCO's words. The
# paper's full GoogleNews dictionary (3 million words and phrases) would cover more of
# MIRFlickr; a reader who has it can pass it to `maps.embedded`.
#
# ## The main comparison (Table I)
#
# One epoch of LTwin on all 25,000 photos takes 18 s on one CPU thread and one of RTN
# 26 s, against 4.7 s for LTN. The paper's schedule of up to 15 epochs per model cannot
# fit a six-minute page for ten models. The live tables therefore run on the seeded
# 8,000-photo subset of the LTN chapter's studies (page 03b, same stream, same photos),
# split 0, at $(m, M) = (3, 6)$, with:
#
# * **Visual-only** (Eq. 8): one linear layer on $\phi$, the logistic baseline of chapter 2;
# * **LTN** with neighbourhoods by id, w2v and wnet, and **RTN** by w2v (Table II's rows);
# * **LTN+Vecs** (n: id, f: id), the paper's joint baseline, and fed w2v;
# * **LTwin** (n: w2v, f: w2v), the paper's best model;
# * **LZip** (n: w2v, f: w2v), the paper's fastest-rising recurrent model.
#
# LTN+AllVecs, LTwin+RNN and LTwin+2RNN enter the timing below and the grid.
#
# Training follows the paper: RMSProp at 1e-4, He initialisation, dropout 0.5,
# minibatches of 64, h = 500, L2 3e-4 on every weight matrix; early stopping after at
# most 10 and at least 3 epochs (15 and 5 for the joint models), stopping after
# `patience` = 2 epochs without a better validation mAP, which the paper does not state.

# %%
def name(model, n, f=None):
    return f"{model} (n: {n}" + (f", f: {f})" if f else ")")


def fusion(model, n, f=None, m_=params.m, M_=params.M):
    joint = FUSION_MODELS[model].reads_metadata()
    return methods.fusion(model, m=m_, M=M_, source=SOURCES[n], feed=MAPS[f] if f else None,
                          config=JOINT_CFG if joint else VISUAL_CFG, h=params.h, device=DEVICE)


def ltn(n, m_=params.m, M_=params.M):
    return methods.ltn(m=m_, M=M_, source=SOURCES[n], config=VISUAL_CFG, h=params.h, device=DEVICE)


VISUAL = "Visual-only"
LIVE = {
    VISUAL: methods.visual_logistic(device=DEVICE),
    name("LTN", "id"): ltn("id"),
    name("LTN", "w2v"): ltn("w2v"),
    name("LTN", "wnet"): ltn("wnet"),
    name("RTN", "w2v"): fusion("RTN", "w2v"),
    name("LTN+Vecs", "id", "id"): fusion("LTN+Vecs", "id", "id"),
    name("LTN+Vecs", "id", "w2v"): fusion("LTN+Vecs", "id", "w2v"),
    name("LTwin", "w2v", "w2v"): fusion("LTwin", "w2v", "w2v"),
    name("LZip", "w2v", "w2v"): fusion("LZip", "w2v", "w2v"),
}

# %% tags=["nbval-ignore-output"]
live = run_protocol(bench, LIVE, n_splits=params.splits, seed=params.seed, features=X)

# %%
display(Markdown(("**SYNTHETIC DATA.** " if bench.synthetic else "") + live.caption()
                 + f"; (m, M) = ({params.m}, {params.M}); precision and recall at k = 3"))
live.table(COLUMNS)

# %% [markdown]
# The paper's Table I on NUS-WIDE (5 splits, AlexNet features, (m, M) = (12, 24)), in the
# same units, beside ours for the rows both have. Its recall and precision "per image"
# are the overall top-3 figures (its LTN row repeats the LTN paper's overall numbers).

# %%
paper1 = pd.DataFrame({
    "mAP_label": [45.05, 53.17, 55.36, 54.86, 63.13, 100.0],
    "mAP_image": [76.88, 79.82, 79.77, 81.34, 83.77, 100.0],
    "R@3_label": [42.31, 45.67, 48.73, 46.56, 54.40, 65.82],
    "P@3_label": [43.74, 47.64, 51.21, 50.10, 51.86, 60.68],
    "R@3_overall": [71.41, 74.29, 74.35, 75.67, 78.06, 92.09],
    "P@3_overall": [51.36, 53.34, 53.28, 54.37, 55.78, 66.83],
}, index=[VISUAL, name("LTN", "id"), name("RTN", "w2v"), name("LTN+Vecs", "id", "id"), name("LTwin", "w2v", "w2v"),
          "Upper bound"]) / 100
side = pd.concat({"NUS-WIDE (paper)": paper1, f"{bench.title} (ours)": live.means().loc[paper1.index, COLUMNS]}, axis=1)
side.swaplevel(axis=1)[COLUMNS].round(3)

# %% [markdown]
# Among the models that use the neighbourhoods, the paper's order holds. LTwin
# (n: w2v, f: w2v) is the best at 0.706 mAP_L and 0.837 mAP_I, 2.7 points of mAP_L
# above LTN+Vecs fed the binary vector. RTN is 1.0 point above LTN with the same w2v
# neighbourhoods, and LTN's w2v neighbourhoods beat its Jaccard ones by 0.6. Feeding w2v
# instead of the binary vector lifts LTN+Vecs by 1.7.
#
# Two things differ from the paper. First, none of the *visual* models beats visual-only
# (0.670) on this subset, as on page 03b: with 3,987 training photos, LTN's hidden layer
# costs more than the neighbours add. Only the models *fed* the metadata get past it, by
# up to 3.6 points. Second, every model was still improving when its epoch budget ran
# out (each kept its last epoch). LZip suffers most: its output LSTM, of the labels'
# width and with linear activation, reaches only 0.450 mAP_L after 15 epochs of 62
# minibatches (930 updates). The paper's 15 epochs on NUS-WIDE's 110,000 training images
# are about 26,000. The absolute numbers are far above the paper's because the visual
# model is: 0.670 mAP_L against AlexNet's 45.05 on NUS-WIDE's 81 labels.
#
# What each model kept (the epoch of its best validation mAP):

# %%
pd.Series({k: i[0]["epoch"] for k, i in live.info.items() if "epoch" in i[0]}, name="kept epoch").to_frame().T

# %% [markdown]
# ### Training cost
#
# The paper reports that LZip and LTwin+2RNN take an order of magnitude longer to train.
# One epoch (training and validation) of every model, on a seeded subset of `cost_images`
# photos, every joint model fed w2v and LTN's neighbourhoods by id; then the live fits'
# own seconds. Both tables are wall-clock times on the machine that built this page, with
# one CPU thread.

# %% tags=["nbval-ignore-output"]
cost_index = subset_index(full, 600 if Q else params.cost_images)
cost_bench, X_cost = full.subset(cost_index), X_full[cost_index]
one_epoch = replace(VISUAL_CFG, epochs=1, min_epochs=1)
timed = {"LTN": methods.ltn(m=params.m, M=params.M, config=one_epoch, h=params.h, device=DEVICE)}
timed.update({model: methods.fusion(model, m=params.m, M=params.M, feed=MAPS["w2v"], config=one_epoch, h=params.h,
                                    device=DEVICE) for model in FUSION_MODELS})
cost = run_protocol(cost_bench, timed, n_splits=1, seed=params.seed, features=X_cost, upper_bound=False, progress=False)
per_epoch = pd.Series({k: i[0]["s/epoch"] for k, i in cost.info.items()}, name="s/epoch")
display(Markdown(f"One epoch on {len(cost_bench):,} photos (train {len(cost.splits[0].train):,}, "
                 f"val {len(cost.splits[0].val):,}), (m, M) = ({params.m}, {params.M}):"))
display(pd.DataFrame({"s/epoch": per_epoch, "vs LTN": per_epoch / per_epoch["LTN"]}).round(2))
pd.DataFrame({k: {"kept epoch": i[0]["epoch"], "s/epoch": i[0]["s/epoch"], "s": i[0]["s"]}
              for k, i in live.info.items() if "s/epoch" in i[0]}).T

# %% [markdown]
# The LSTMs of width h = 500 over the neighbours dominate the cost: RTN's epoch takes
# about five times LTN's, LTwin+RNN's and LTwin+2RNN's about nine to eleven times (two
# such LSTMs). LZip's only LSTM has the labels' width (24), so it costs under twice LTN,
# as does LTwin. The paper's "an order of magnitude slower" holds for LTwin+2RNN, but not
# for LZip, whose recurrent width the paper does not give. Feeding the 5,000-d binary
# vector doubles LTN+Vecs' epoch against feeding the 300-d $\rho$.
#
# ## The grid: Tables II-III and Figures 4-6
#
# Tables II and III and Figures 4-6 vary the map behind the neighbourhoods, the map that
# is fed and the neighbourhood size over $(m, M) \in \{(3, 6), (6, 12), (12, 24)\}$,
# for every model: 126 fits per split, beyond a chapter's six minutes. `grid=True` runs
# them (`neighborlib.protocol.run_grid`) and adds each fit's row for a split, one row per
# model, setting and split, to `grid_file` as soon as it ends. A grid that stops keeps
# what it finished, and a second run skips those rows. Because a fit's seeds depend only
# on its split and the base `seed` (a key of the file), a grid can be run in pieces and
# the pieces merged; `grid_models` and `grid_sizes` choose a piece. This page reads the
# file's rows of its base seed when there are any, and plots them.
#
# The committed file comes from a longer local run on the CPU, as the issue allows. It
# covers split 0 of the same 8,000-photo subset as the live tables, at one thread per fit,
# with the paper's epochs. Two pieces ran side by side on two cores: LTwin+RNN and
# LTwin+2RNN, and all the other models. The recurrent pair costs about 11 s per epoch at
# $(3, 6)$ and 21 s at $(6, 12)$, so it ran at those two sizes only. Its $(12, 24)$ fits
# are left to the paper-scale run:
# `grid=True grid_images=None grid_splits=5 device=cuda`, which resumes from this file
# only for fits on the same photos (the key includes the image count and the seed).

# %% tags=["nbval-ignore-output"]
GRID_MODELS = [("LTN", n, None) for n in MAPS] + [("RTN", n, None) for n in MAPS] + [
    (model, n, f) for model in ("LTN+Vecs", "LTN+AllVecs", "LTwin", "LTwin+RNN", "LTwin+2RNN", "LZip")
    for n in ("id", "w2v") for f in MAPS]
FAMILIES = list(dict.fromkeys(model for model, _, _ in GRID_MODELS))
if params.grid:
    unknown = sorted(set(params.grid_models or []) - set(FAMILIES))
    if unknown:
        raise ValueError(f"grid_models: unknown model(s) {unknown}; the grid's are {FAMILIES}")
    grid_index = subset_index(full, params.grid_images) if params.grid_images else np.arange(len(full))
    grid_bench, X_grid = full.subset(grid_index), X_full[grid_index]
    grid_fits = [(name(model, n, f), {"m": m_, "M": M_},
                  (lambda model=model, n=n, f=f, m_=m_, M_=M_: ltn(n, m_, M_) if model == "LTN"
                   else fusion(model, n, f, m_, M_)))
                 for m_, M_ in params.grid_sizes for model, n, f in GRID_MODELS
                 if params.grid_models is None or model in params.grid_models]
    # each (fit, split) is added to grid_file as it ends; those the file has are skipped (grid_redo=False)
    run_grid(grid_bench, grid_fits, GRID_FILE, n_splits=params.grid_splits, seed=params.seed, features=X_grid,
             columns={"device": DEVICE, "threads": params.threads, "epochs": VISUAL_CFG.epochs,
                      "joint_epochs": JOINT_CFG.epochs}, redo=params.grid_redo)

# %%
grid_df = pd.read_csv(GRID_FILE) if GRID_FILE.is_file() and not Q and REAL else None
if grid_df is not None:
    grid_df = grid_df[grid_df["seed"] == params.seed]  # the splits of this page's base seed
    grid_df = grid_df if len(grid_df) else None
if grid_df is None:
    display(Markdown("**The grid has not been run yet** for this base seed (`grid=True` writes it); Tables II-III "
                     "and Figures 4-6 are left out."))
else:
    other_photos = sorted(set(grid_df["images"]) - {grid_df["images"].max()})
    grid_df = grid_df[grid_df["images"] == grid_df["images"].max()]  # one photo set: the largest the file has
    parts = grid_df["method"].str.extract(r"^(?P<model>\S+) \(n: (?P<n>\w+)(?:, f: (?P<f>\w+))?\)$")
    grid_df = pd.concat([grid_df, parts.fillna({"f": "-"})], axis=1)
    SIZES = sorted(set(zip(grid_df["m"], grid_df["M"])))
    GRID_SPLITS = sorted(int(k) for k in grid_df["split"].unique())
    display(Markdown(
        f"Grid file `{GRID_FILE.name}`: {len(grid_df):,} fits on {grid_df['set'].iloc[0]}, "
        f"{grid_df['images'].max():,} photos"
        + (f" (its rows on {', '.join(f'{n:,}' for n in other_photos)} photos are left out)" if other_photos else "")
        + f", split(s) {GRID_SPLITS}, "
        f"(m, M) in {SIZES}, at most {grid_df['epochs'].max()} epochs ({grid_df['joint_epochs'].max()} for the "
        f"joint models), run on {', '.join(sorted(grid_df['device'].astype(str).unique()))} with "
        f"{', '.join(map(str, sorted(grid_df['threads'].unique())))} thread(s). Fits by model and (m, M):"))
    display(grid_df.groupby(["model", "m", "M"]).size().unstack(["m", "M"]).reindex(FAMILIES).fillna(0).astype(int))


def grid_table(frame, index, cols=("mAP_label", "mAP_image")):
    """One column per metric of ``cols`` and (m, M): the mean over the grid's splits (± their std when
    there are several); "-" where a setting did not run."""
    g = frame.groupby(index + ["m", "M"])[list(cols)]
    mean, std = g.mean(), g.std()
    fmt = (lambda mu, sd: f"{mu:.3f} ± {sd:.3f}") if len(GRID_SPLITS) > 1 else (lambda mu, sd: f"{mu:.3f}")
    text = pd.DataFrame({c: [fmt(mu, sd) for mu, sd in zip(mean[c], std[c])] for c in cols},
                        index=mean.index).unstack(["m", "M"])
    text.columns = [f"{c} ({m_}, {M_})" for c, m_, M_ in text.columns]
    return text.reindex(FAMILIES, level="model").fillna("-")


# %%
if grid_df is not None:
    visual_rows = grid_df["model"].isin(["LTN", "RTN"])
    paper2 = pd.DataFrame({"paper mAP_label (12, 24)": [53.17, 54.54, 53.07, 53.97, 55.36, 53.76],
                           "paper mAP_image (12, 24)": [79.82, 80.32, 79.95, 79.23, 79.77, 79.45]},
                          index=pd.MultiIndex.from_product([["LTN", "RTN"], ["id", "w2v", "wnet"]],
                                                           names=["model", "n"])) / 100
    display(Markdown("**Table II**: the visual models, mAP per label and per image at each (m, M); the paper's "
                     "at (12, 24) on NUS-WIDE, as fractions"))
    display(grid_table(grid_df[visual_rows], ["model", "n"]).join(paper2.round(4)))
    chance = split_data(full.subset(subset_index(full, int(grid_df["images"].max()))), 0, seed=params.seed).Y("test")
    display(Markdown("**Table III**: the joint models (n: the neighbourhoods' map, f: the fed map). The extracted "
                     "text of the paper lost its Table III, so only ours is shown. A random ranking scores "
                     f"{np.nanmean(metrics.expected_random_ap(chance.sum(0), len(chance))):.3f} mAP_label and "
                     f"{np.nanmean(metrics.expected_random_ap(chance.sum(1), chance.shape[1])):.3f} mAP_image on "
                     "split 0's test part."))
    display(grid_table(grid_df[~visual_rows], ["model", "n", "f"]))

# %% [markdown]
# **The visual models (Table II).** All six stay within 0.025 mAP_L of one another, and
# all stay below visual-only (0.670) at every size, as on page 03b. Three of the paper's
# findings reproduce:
#
# * RTN beats LTN with the same neighbourhoods, by 0.005 to 0.017 over the maps and
#   sizes, against the paper's 0.7 to 1.2 points. The smallest gap (w2v at $(12, 24)$)
#   is just inside the noise floor, so the claim about every setting stays unresolved.
# * word2vec neighbourhoods are the best for both models.
# * WordNet neighbourhoods are no better than Jaccard ones (within 0.004).
#
# Two do not. RTN does not pay for its gain with mAP_I: it is level with LTN or above it
# at every setting. And a larger neighbourhood does not help. From $(3, 6)$ to $(12, 24)$
# no visual model gains more than 0.001 mAP_L, and four of the six lose 0.004 to 0.006,
# while the paper's curves rise with m. With 3,987 training photos, the twelfth nearest
# neighbour by tags is a weak witness. RTN (n: w2v) at $(3, 6)$ does beat LTN (n: id) at
# $(6, 12)$, as the paper notes, but only because neither size matters.
#
# **The joint models (Table III).** What is fed matters more than how the neighbours are
# found:
#
# * Feeding $\rho$ from word2vec instead of the binary vector lifts LTN+Vecs by 0.012 to
#   0.021 mAP_L, LTwin by 0.015 to 0.033 and LTwin+RNN by 0.015 to 0.030.
# * LTN+AllVecs gains nothing from it (−0.005 to +0.006). Its neighbours' binary vectors
#   already carry what $\rho$ adds.
# * Feeding WordNet's $\rho$ is worse than feeding word2vec's for every model that
#   trains (by 0.006 to 0.035), as the paper says.
# * The best fits are the LTwins fed word2vec. LTwin+RNN reaches 0.713 to 0.716 with
#   either neighbourhoods at both sizes it ran, the best mAP_L of the grid. LTwin
#   (n: id, f: w2v) reaches 0.710 at $(12, 24)$, 0.040 above visual-only.
# * LTwin fed word2vec does as well with Jaccard neighbourhoods as with word2vec ones
#   (0.710 against 0.707 at $(12, 24)$): the paper's observation holds.
#
# The two models whose output is an LSTM of the labels' width do not train under the
# paper's settings:
#
# * LTwin+2RNN reaches 0.58 to 0.62 mAP_L at $(3, 6)$ and $(6, 12)$, below visual-only.
# * LZip reaches 0.40 to 0.51 there, and falls as its sequence grows with m.
# * At $(12, 24)$, where LZip's LSTM runs over 26 steps, LZip fed $\rho$ stops
#   improving after its first or third epoch. Its 0.16 to 0.17 mAP_L is what a random
#   ranking scores on this test part (0.163, under Table III). Fed the
#   binary vector, it falls to 0.33 to 0.38.
#
# Every other fit kept its last epoch: all of them were still improving when the paper's
# epoch cap ran out, on a twentieth of NUS-WIDE's training images.

# %% [markdown]
# Figures 4-6 draw the same numbers against the neighbourhood size, as the paper does:
# LTN in black and RTN in red (line style: the neighbourhoods' map), then the joint
# models with $\pi = \mathrm{id}$ for both uses, then the joint models fed w2v (top) or
# wnet (bottom). The dashed line is visual-only on the same photos and split, from the
# live table above, where the grid ran on them. A model more than 0.1 below visual-only
# at every size (LZip) would squeeze the others into a band, so it leaves the axis and a
# note under the lines gives its range.

# %%
if grid_df is not None:
    same_photos = set(grid_df["images"]) == {len(bench)} and GRID_SPLITS == list(range(params.splits))
    reference = ("visual-only", live.means().loc[VISUAL]) if same_photos else None
    DASH = {"id": "-", "w2v": "--", "wnet": ":"}

    def curves(rows, key):
        """One column per setting ``key(row)``, the mean over the splits at each m."""
        cols = rows.assign(setting=[key(r) for r in rows.itertuples()])
        return cols.groupby(["m", "setting"])[["mAP_label", "mAP_image"]].mean().unstack("setting")

    def figure(panels, title):
        panels = [panel for panel in panels if len(panel[0])]  # a grid run in pieces may lack some models
        if not panels:
            return
        fig, axes = plt.subplots(len(panels), 2, figsize=(11, 3.8 * len(panels)), squeeze=False)
        for r, (rows, key, styles, label) in enumerate(panels):
            table = curves(rows, key)
            for c, metric in enumerate(("mAP_label", "mAP_image")):
                plots.plot_metric_curves(table[metric], "neighbourhood size m (M = 2m)",
                                         f"{metric.replace('_', ' per ')}{label}", axes[r, c], synthetic=bench.synthetic,
                                         styles=styles, baseline=(reference[0], reference[1][metric]) if reference else None)
                axes[r, c].get_legend().remove()  # one legend for the figure, beside it
                axes[r, c].set_xticks([m_ for m_, _ in SIZES])
                if reference:  # models more than 0.1 below visual-only leave the axis, named in a note
                    off = [k for k in table[metric].columns if table[metric][k].max() < reference[1][metric] - 0.1]
                    if off and len(off) < table[metric].shape[1]:
                        axes[r, c].set_ylim(bottom=table[metric].drop(columns=off).min().min() - 0.01)
                        axes[r, c].text(0.01, 0.02, "below the axis (Table III): " + ", ".join(
                            f"{k} {table[metric][k].min():.2f}-{table[metric][k].max():.2f}" for k in off),
                            transform=axes[r, c].transAxes, fontsize=6, va="bottom")
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
        plt.show()

    visual_styles = {f"{model} (n: {n})": {"color": "black" if model == "LTN" else "tab:red", "linestyle": DASH[n]}
                     for model in ("LTN", "RTN") for n in DASH}
    figure([(grid_df[visual_rows], lambda r: f"{r.model} (n: {r.n})", visual_styles, "")],
           "Figure 4: visual models against the neighbourhood size")
    palette = dict(zip(FAMILIES[2:], plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    joint_styles = {f"{model} (n: {n})": {"color": palette[model], "linestyle": DASH[n]} for model in FAMILIES[2:]
                    for n in DASH}
    joint = grid_df[~visual_rows]
    figure([(joint[(joint["n"] == "id") & (joint["f"] == "id")], lambda r: f"{r.model} (n: {r.n})", joint_styles, "")],
           "Figure 5: joint models, n: id, f: id")
    figure([(joint[joint["f"] == f], lambda r: f"{r.model} (n: {r.n})", joint_styles, f" (f: {f})")
            for f in ("w2v", "wnet")], "Figure 6: joint models fed w2v (top) and wnet (bottom)")

# %% [markdown]
# The cost of each model in the grid: the mean seconds per epoch of its fits at each
# $(m, M)$ (one CPU thread, the machine that ran the grid), and the ratio to LTN's at the
# same size.

# %% tags=["nbval-ignore-output"]
if grid_df is not None:
    epoch_cost = grid_df.groupby(["model", "m"])["s/epoch"].mean().unstack("m").reindex(FAMILIES)
    display(pd.concat({"s/epoch": epoch_cost.round(2), "vs LTN": (epoch_cost / epoch_cost.loc["LTN"]).round(1)},
                      axis=1))

# %% [markdown]
# The grid ran two fits at a time on two cores, so these seconds are slower than the
# one-epoch table above, but their ratios agree with it. LTwin+2RNN costs 11 to 15
# times LTN per epoch: the paper's "order of magnitude" holds for it. It holds for
# LTwin+RNN too, but not for LZip, which stays at about three times LTN at every size:
# its only LSTM has the labels' width. RTN's cost grows with m, from five times LTN at
# $(3, 6)$ to eight times at $(12, 24)$. The curves give no reason to pay any of it
# here, because nothing improves with m.

# %% [markdown]
# ## Vocabulary shift with semantic maps
#
# The paper's argument for $\pi$: a network fed binary tag vectors is useless once the
# vocabulary changes, while one fed $\rho$ can read a new vocabulary mapped into the same
# space. Here the training and validation images are encoded with one half of the 10,000
# most frequent training tags and the test images with the *other* half (no tag shared),
# as in the LTN chapter's Figure 8 (`maps.shifted`). Each map is used for both the
# neighbourhoods and the feed, so at test time the Jaccard neighbourhoods of id come from
# the new vocabulary too. With $\pi = \mathrm{id}$, column $j$ of the test vectors means a
# different tag than in training; with w2v both vocabularies land in the word2vec space.
# The model is LTN+Vecs, the simplest network fed the map, on the live subset's split 0.
# The reference of each map is the same model with overlap 100%: the training vocabulary
# (one random half of the 10,000 tags) for the test images too, so that only the shift
# differs.

# %% tags=["nbval-ignore-output"]
SHIFT, SHIFT_MAPS = {}, {}
for f, vec in (("id", None), ("w2v", w2v)):
    for ov in (1.0, 0.0):
        fn = SHIFT_MAPS[f, ov] = maps.shifted(f, vec, ov, n_top=params.vocabulary_top)
        SHIFT[f"{f}, overlap {ov:.0%}"] = methods.fusion("LTN+Vecs", m=params.m, M=params.M, source=neighbourhoods.by_map(fn), feed=fn,
                                      config=JOINT_CFG, h=params.h, device=DEVICE)
shift = run_protocol(bench, SHIFT, n_splits=1, seed=params.seed, features=X, upper_bound=False)

# %%
shift_data = split_data(bench, 0, seed=params.seed)
shift_table = pd.DataFrame({
    f"LTN+Vecs (n: {f}, f: {f})": {
        "same vocabulary": shift.means().loc[f"{f}, overlap 100%", "mAP_label"],
        "disjoint test vocabulary": shift.means().loc[f"{f}, overlap 0%", "mAP_label"],
        "images with tags but no vector, test vocabulary": (
            np.nan if f == "id" else SHIFT_MAPS[f, 0.0](shift_data).report.images_without_vector / len(bench)),
    } for f in ("id", "w2v")}).T
shift_table.insert(2, "change", shift_table["disjoint test vocabulary"] - shift_table["same vocabulary"])
display(Markdown(("**SYNTHETIC DATA.** " if bench.synthetic else "") + shift.caption()
                 + f"; mAP_label; vocabularies of {params.vocabulary_top // 2:,} tags; "
                 + f"visual-only {live.means().loc[VISUAL, 'mAP_label']:.3f}"))
shift_table.round(3)

# %% [markdown]
# The paper's motivation does not survive on MIRFlickr. With a disjoint test vocabulary,
# LTN+Vecs fed the binary vector loses only 0.005 mAP_L, because at test time its input
# columns mean other tags and it falls back on the image and the neighbourhoods (which,
# built in the new vocabulary, still work, as page 03b's Figure 8 showed). Fed w2v, it
# loses 0.026 and ends below visual-only. The second half of the 10,000 most frequent tags
# is rarer and more idiosyncratic: 22% of the photos tagged in it get no word2vec vector
# at all, and for the rest $\rho$ shifts from the kind of words seen in training. The
# embedding keeps the two vocabularies in one space, but a network trained on one
# vocabulary's $\rho$ does not read the other's; a fuller dictionary might.
#
# ## Claims check
#
# The paper's headline claims, against the live tables: one split of the 8,000-photo
# subset, at (m, M) = (3, 6) where the paper's Table I uses (12, 24). A gap is the first
# model's metric minus the second's. With one split there is no split-to-split spread,
# so a claim is confirmed or refuted only when its gap clears a noise floor of 0.005
# (changing the thread count alone moves single-split numbers by that much, page 03b);
# otherwise it is *not resolved*. The claims that need the grid (gains with m,
# LTwin+2RNN's accuracy, Table III) are checked on its file after this table.

# %%
g = lambda a, b, metric="mAP_label", res=live: claims.paired_gap(res, a, b, metric)  # noqa: E731
NOISE = 0.005  # single-split noise floor: a change of thread count alone moves these numbers by up to 0.005
LTWIN, LVECS = name("LTwin", "w2v", "w2v"), name("LTN+Vecs", "id", "id")
checks = [
    ("LTwin (n: w2v, f: w2v) is the best model on mAP_L", "63.13, best of Table I",
     g(LTWIN, live.means().drop(index=["Upper bound", LTWIN])["mAP_label"].idxmax())),
    ("LTwin beats LTN+Vecs (n: id, f: id) on mAP_L", "+8.27 (63.13 vs 54.86)", g(LTWIN, LVECS)),
    ("LTwin beats LTN+Vecs (n: id, f: id) on mAP_I", "+2.43 (83.77 vs 81.34)", g(LTWIN, LVECS, "mAP_image")),
    ("RTN beats LTN on mAP_L (n: w2v)", "+0.7 to +1.2 (Fig. 4); +0.82 at (12, 24)", g(name("RTN", "w2v"), name("LTN", "w2v"))),
    ("RTN is below LTN on mAP_I (n: w2v)", "−0.2 to −0.4 (Fig. 4); −0.55 at (12, 24)",
     g(name("LTN", "w2v"), name("RTN", "w2v"), "mAP_image")),
    ("w2v neighbourhoods beat id for LTN (mAP_L)", "+1.37 (54.54 vs 53.17)", g(name("LTN", "w2v"), name("LTN", "id"))),
    ("Every neighbourhood model beats visual-only (mAP_L)", "Fig. 4-6: all above v-only",
     min((g(k, VISUAL) for k in LIVE if k != VISUAL), key=lambda gap: gap.mean)),
    ("Feeding w2v beats feeding id (LTN+Vecs, mAP_L)", "Fig. 5-6: all models boosted",
     g(name("LTN+Vecs", "id", "w2v"), name("LTN+Vecs", "id", "id"))),
    ("WordNet neighbourhoods are the weakest for LTN (mAP_L)", "53.07 vs 53.17 (id), 54.54 (w2v)",
     max((g(name("LTN", n), name("LTN", "wnet")) for n in ("id", "w2v")), key=lambda gap: -gap.mean)),
    ("Recurrent fusion (LZip) beats LTwin's max-pool (n: w2v, f: w2v; mAP_L)", "Fig. 5-6: LZip among the best",
     g(name("LZip", "w2v", "w2v"), LTWIN)),
    ("Under a disjoint vocabulary, w2v keeps more mAP_L than id (LTN+Vecs)", "the paper's motivation (not measured)",
     float(shift_table["change"].iloc[1] - shift_table["change"].iloc[0])),
    ("Under a disjoint vocabulary, LTN+Vecs (w2v) stays above visual-only", "not measured in the paper",
     float(shift_table.iloc[1]["disjoint test vocabulary"] - live.means().loc[VISUAL, "mAP_label"])),
]
rows = [{"claim": c, "paper (NUS-WIDE, points)": p,
         "ours (mAP, split gaps)": f"{gap:+.3f} (one split)" if isinstance(gap, float) else str(gap),
         "verdict": claims.verdict(gap, tolerance=NOISE if params.splits == 1 or isinstance(gap, float) else 0.0)}
        for c, p, gap in checks]
claims_df = claims.claims_table(rows)
display(Markdown(("**SYNTHETIC DATA.** " if bench.synthetic else "") + live.caption()))
claims_df

# %% [markdown]
# ### Claims that need the grid
#
# Figures 4-6 and Tables II-III carry claims about every model at every size. Each is
# checked on the grid's rows (`claims.records_gap`: per split, paired). Where a claim holds
# for a family of comparisons ("every", "all"), the gap shown is the *weakest* one of
# the family, named in the last column, so that the verdict is that of the whole claim.
# A comparison uses the largest $(m, M)$ at which both of its models ran. With one grid
# split the noise floor is again 0.005.

# %%
def grid_sel(model, n, f=None, m_=None):
    return {"method": name(model, n, f), **({} if m_ is None else {"m": m_})}


def gap_at(a, b, metric="mAP_label", m_=None):
    """a - b at size ``m_`` (default: the largest size at which both ran); None when they share none."""
    both = sorted(set.intersection(*(set(grid_df.loc[grid_df["method"] == s_["method"], "m"]) for s_ in (a, b))))
    m_ = both[-1] if m_ is None and both else m_
    if m_ not in both:
        return None
    return claims.records_gap(grid_df, {**a, "m": m_}, {**b, "m": m_}, metric)


def claim_row(claim, paper, gaps, sign=1, as_well_as=False):
    """One row of the grid's claims: the weakest comparison of the family ``gaps`` decides the
    verdict (a claim about "every" model holds only if its weakest case does); "holds in"
    counts the comparisons confirmed on their own. ``as_well_as``: the claim is "not worse",
    so a gap within the noise floor confirms it too."""
    gaps = [x for x in gaps if x is not None]
    if not gaps:
        return {"claim": claim, "paper (NUS-WIDE)": paper, "ours (grid)": "not run", "holds in": "-",
                "verdict": "not run", "weakest comparison": ""}
    weak = min(gaps, key=lambda x: sign * x.mean)
    judged = [claims.verdict(x, sign, tolerance=GRID_NOISE) for x in gaps]
    if as_well_as:
        judged = ["refuted" if v == "refuted" else "confirmed" for v in judged]
    return {"claim": claim, "paper (NUS-WIDE)": paper, "ours (grid)": f"{weak.mean:+.3f}",
            "holds in": f"{judged.count('confirmed')}/{len(gaps)}", "verdict": judged[gaps.index(weak)],
            "weakest comparison": f"{weak.a} vs {weak.b}".replace("method=", "")}


if grid_df is not None:
    GRID_NOISE = NOISE if len(GRID_SPLITS) == 1 else 0.0
    ms, JOINT = [m_ for m_, _ in SIZES], FAMILIES[2:]
    PI_ID = [(model, "id", "id") for model in JOINT]
    steps = [claims.records_gap(grid_df, grid_sel(model, n, m_=b_), grid_sel(model, n, m_=a_))
             for model in ("LTN", "RTN") for n in MAPS for a_, b_ in zip(ms, ms[1:])
             if {a_, b_} <= set(grid_df.loc[grid_df["method"] == name(model, n), "m"])]
    same = lambda metric: [gap_at(grid_sel("RTN", n), grid_sel("LTN", n), metric, m_)  # noqa: E731
                           for n in MAPS for m_ in ms]
    others = lambda winner, m_: [gap_at(grid_sel(*winner), grid_sel(*o), m_=m_)  # noqa: E731
                                 for o in PI_ID if o != winner]
    grid_rows = [
        claim_row("Visual models improve monotonically with m (mAP_L)", "Fig. 4: all of them", steps),
        claim_row("RTN beats LTN on mAP_L, same neighbourhoods, every size", "+0.7 to +1.2 (Fig. 4)", same("mAP_label")),
        claim_row("RTN is below LTN on mAP_I, same neighbourhoods, every size", "−0.2 to −0.4 (Fig. 4)",
                  same("mAP_image"), sign=-1),
        claim_row("RTN (n: w2v) at (3, 6) beats LTN (n: id) at (6, 12) on mAP_L", "Fig. 4",
                  [claims.records_gap(grid_df, grid_sel("RTN", "w2v", m_=3), grid_sel("LTN", "id", m_=6))]
                  if {3, 6} <= set(ms) else []),
        claim_row("w2v neighbourhoods are the best for LTN and RTN (mAP_L)", "Table II: +1.37 and +1.39 over the next",
                  [gap_at(grid_sel(model, "w2v"), grid_sel(model, n)) for model in ("LTN", "RTN") for n in ("id", "wnet")]),
        claim_row("wnet neighbourhoods are the weakest for LTN and RTN (mAP_L)", "Table II: −0.10 and −0.21 below id",
                  [gap_at(grid_sel(model, n), grid_sel(model, "wnet")) for model in ("LTN", "RTN") for n in ("id", "w2v")]),
        claim_row("LTN+Vecs (n: id, f: id) is the weakest joint model (π = id)", "Fig. 5: \"the worst-performing\"",
                  [gap_at(grid_sel(*o), grid_sel("LTN+Vecs", "id", "id")) for o in PI_ID[1:]]),
        *[claim_row(f"{w} (π = id) beats the other joint models at (m, M) = {SIZES[0]}", "Fig. 5: the best at small (m, M)",
                    others((w, "id", "id"), ms[0])) for w in ("LZip", "LTwin+2RNN")],
        claim_row("Feeding w2v beats feeding id, every joint model (mAP_L)", "Fig. 6: \"all architectures boosted\"",
                  [gap_at(grid_sel(model, n, "w2v"), grid_sel(model, n, "id")) for model in JOINT for n in ("id", "w2v")]),
        claim_row("Feeding wnet is worse than feeding w2v, every joint model (mAP_L)",
                  "\"WordNet results in poor performance\"",
                  [gap_at(grid_sel(model, n, "w2v"), grid_sel(model, n, "wnet")) for model in JOINT for n in ("id", "w2v")]),
        claim_row("LTwin fed w2v does as well with Jaccard neighbourhoods (n: id vs n: w2v, mAP_L)",
                  "\"as well ... or even better\"", [gap_at(grid_sel("LTwin", "id", "w2v"), grid_sel("LTwin", "w2v", "w2v"))],
                  as_well_as=True),
    ]
    cost = grid_df.groupby(["model", "m"])["s/epoch"].mean()
    ratios = [cost[model, m_] / cost["LTN", m_] for model in ("LZip", "LTwin+2RNN") for m_ in ms
              if {(model, m_), ("LTN", m_)} <= set(cost.index)]
    grid_rows.append({"claim": "LZip and LTwin+2RNN take an order of magnitude longer per epoch than LTN",
                 "paper (NUS-WIDE)": "\"by far the longest ... by an order of magnitude\"",
                 "ours (grid)": f"{min(ratios):.1f}x" if ratios else "not run",
                 "holds in": f"{sum(r >= 10 ** 0.5 for r in ratios)}/{len(ratios)}",
                 "verdict": "not run" if not ratios else "confirmed" if min(ratios) >= 10 ** 0.5 else "refuted",
                 "weakest comparison": "the smallest ratio, over both models and the sizes"})
    display(Markdown(f"Grid claims: {grid_df['set'].iloc[0]}, {grid_df['images'].max():,} photos, split(s) "
                     f"{GRID_SPLITS}; gaps in mAP (fractions); noise floor {GRID_NOISE}"))
    display(claims.claims_table(grid_rows))

# %% [markdown]
# In short, on 8,000 MIRFlickr photos and one split:
#
# * **Holds:** the architectures' order.
#   * LTwin with word2vec is the best model of Table I, and LTwin+RNN fed word2vec the
#     best of the grid.
#   * RTN's recurrent pooling beats LTN's max-pool on mAP_L, beyond the noise floor in
#     8 of the 9 map and size settings.
#   * word2vec neighbourhoods beat Jaccard ones.
#   * Feeding word2vec beats feeding the binary vector for LTN+Vecs, LTwin and LTwin+RNN
#     (not for LTN+AllVecs, which gains nothing from it).
#   * LTwin fed word2vec does not need word2vec neighbourhoods.
# * **Within the noise floor:** that WordNet neighbourhoods are the weakest (they tie
#   with Jaccard ones).
# * **Fails:**
#   * that every neighbourhood model beats visual-only (none of the visual ones does on
#     this subset);
#   * that RTN trades mAP_I for its mAP_L (it loses none);
#   * that the models improve with m (nothing does between $(3, 6)$ and $(12, 24)$);
#   * that recurrent fusion at the output (LZip, LTwin+2RNN) is the best. Those two
#     LSTMs of the labels' width do not train under the paper's settings, and LZip
#     collapses to a random ranking at $(12, 24)$ when fed $\rho$;
#   * the vocabulary-shift robustness that motivates the maps.
#
# The grid's scale is the open question. A GPU run of `grid=True grid_images=None
# grid_splits=5` would show whether m and the output LSTMs start to pay with all 25,000
# photos and five splits. So would a longer epoch budget: every model that trained was
# still improving at the paper's cap.
