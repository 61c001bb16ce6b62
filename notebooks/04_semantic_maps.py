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

from neighborlib import claims, embeddings, maps, methods, neighbourhoods, plots, wordnet
from neighborlib.data import data_root as find_data_root
from neighborlib.models import FUSION_MODELS, LTN, TrainConfig
from neighborlib.notebook import start_chapter
from neighborlib.paths import checkout_root
from neighborlib.protocol import benchmark_features, load_benchmark, run_protocol, seeded_subset, split_data

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
grid_splits: int = 5  # splits of the grid (the paper: 5), on all the photos
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
# for every model: hundreds of fits, beyond a chapter's six minutes. `grid=True` runs
# them (`grid_splits` splits) and writes a long table, one row per model, setting and
# split, to `grid_file`; this page reads that file when it exists and plots it. Its
# provenance (splits, epochs, device) is in the file.

# %% tags=["nbval-ignore-output"]
GRID_MODELS = [("LTN", n, None) for n in MAPS] + [("RTN", n, None) for n in MAPS] + [
    (model, n, f) for model in ("LTN+Vecs", "LTN+AllVecs", "LTwin", "LTwin+RNN", "LTwin+2RNN", "LZip")
    for n in ("id", "w2v") for f in MAPS]
if params.grid:
    frames = []
    for m_, M_ in params.grid_sizes:
        grid_methods = {name(model, n, f): (ltn(n, m_, M_) if model == "LTN" else fusion(model, n, f, m_, M_))
                        for model, n, f in GRID_MODELS}
        res = run_protocol(full, grid_methods, n_splits=params.grid_splits, seed=params.seed, features=X_full,
                           upper_bound=False)
        frames.append(res.records(m=m_, M=M_, device=DEVICE, threads=params.threads, set=full.title,
                                  epochs=VISUAL_CFG.epochs, joint_epochs=JOINT_CFG.epochs))
    GRID_FILE.parent.mkdir(parents=True, exist_ok=True)
    pd.concat(frames).to_csv(GRID_FILE, index=False)

# %%
grid_df = pd.read_csv(GRID_FILE) if GRID_FILE.is_file() and not Q and REAL else None
if grid_df is None:
    display(Markdown("**The grid has not been run yet** (`grid=True` writes it); Tables II-III and Figures 4-6 "
                     "are left out."))
else:
    parts = grid_df["method"].str.extract(r"^(?P<model>\S+) \(n: (?P<n>\w+)(?:, f: (?P<f>\w+))?\)$")
    grid_df = pd.concat([grid_df, parts.fillna({"f": "-"})], axis=1)
    sizes = sorted(set(zip(grid_df["m"], grid_df["M"])))
    display(Markdown(f"Grid file `{GRID_FILE.name}`: {len(grid_df):,} fits on {grid_df['set'].iloc[0]}, "
                     f"{grid_df['split'].nunique()} split(s) per setting, (m, M) in {sizes}, run on "
                     f"{', '.join(sorted(grid_df['device'].astype(str).unique()))}"))


def grid_table(frame, index, columns=("mAP_label", "mAP_image")):
    """Mean ± std over the grid's splits of each setting."""
    agg = frame.groupby(index)[list(columns)].agg(["mean", "std"])
    return pd.DataFrame({c: [f"{mu:.3f} ± {0 if np.isnan(sd) else sd:.3f}" for mu, sd in zip(agg[(c, "mean")], agg[(c, "std")])]
                         for c in columns}, index=agg.index)


if grid_df is not None:
    largest = grid_df[(grid_df["m"] == sizes[-1][0]) & (grid_df["M"] == sizes[-1][1])]
    paper2 = pd.DataFrame({"paper mAP_label": [53.17, 54.54, 53.07, 53.97, 55.36, 53.76],
                           "paper mAP_image": [79.82, 80.32, 79.95, 79.23, 79.77, 79.45]},
                          index=pd.MultiIndex.from_product([["LTN", "RTN"], ["id", "w2v", "wnet"]], names=["model", "n"]))
    display(Markdown(f"**Table II** (visual models, (m, M) = {sizes[-1]}); the paper's at (12, 24), NUS-WIDE, in %"))
    display(grid_table(largest[largest["model"].isin(["LTN", "RTN"])], ["model", "n"]).join(paper2))
    display(Markdown(f"**Table III** (joint models, (m, M) = {sizes[-1]}). The extracted text of the paper lost its "
                     "Table III, so only ours is shown."))
    display(grid_table(largest[~largest["model"].isin(["LTN", "RTN"])], ["model", "n", "f"]))

# %%
if grid_df is not None:
    families = {"Figure 4: visual models": (grid_df["model"].isin(["LTN", "RTN"]), ["model", "n"]),
                "Figure 5: joint models, n: id, f: id": ((grid_df["f"] == "id") & (grid_df["n"] == "id"), ["model"]),
                "Figure 6: joint models fed w2v or wnet": (grid_df["f"].isin(["w2v", "wnet"]), ["model", "n", "f"])}
    fig, axes = plt.subplots(len(families), 2, figsize=(11, 3.6 * len(families)), squeeze=False)
    for r, (title, (mask, keys)) in enumerate(families.items()):
        curves = grid_df[mask].groupby(keys + ["m"])[["mAP_label", "mAP_image"]].mean().reset_index()
        for c, metric in enumerate(("mAP_label", "mAP_image")):
            ax = axes[r, c]
            for key, curve in curves.groupby(keys):
                key = key if isinstance(key, tuple) else (key,)
                ax.plot(curve["m"], curve[metric], marker="o", markersize=3, label=", ".join(map(str, key)))
            ax.set_xlabel("neighbourhood size m (M = 2m)")
            ax.set_ylabel(f"{metric.replace('_', ' per ')}")
            ax.set_title(title, fontsize=9)
        axes[r, 1].legend(fontsize=6, ncol=2, loc="best")
    plots.data_badge(axes[0, 1], bench.synthetic)
    fig.tight_layout()
    plt.show()

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
# otherwise it is *not resolved*. The claims that need the grid (monotonic gains with m,
# LTwin+2RNN's accuracy, Table III) wait for its file.

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
# In short, on 8,000 MIRFlickr photos and one split:
#
# * **Holds:** the architectures' order. LTwin with word2vec is the best model, RTN's
#   recurrent pooling beats LTN's max-pool on mAP_L, word2vec neighbourhoods beat Jaccard
#   ones, and feeding word2vec beats feeding the binary vector.
# * **Within the noise floor:** that RTN trades mAP_I for mAP_L, and that WordNet
#   neighbourhoods are the weakest.
# * **Fails:** that every neighbourhood model beats visual-only (none of the visual
#   ones does on this subset), that recurrent fusion (LZip) beats LTwin's max-pool (LZip
#   is far from trained in 930 updates), and the vocabulary-shift robustness that
#   motivates the maps.
#
# The grid (`grid=True`) answers the remaining questions on all 25,000 photos, at the
# paper's three neighbourhood sizes: monotone gains with m, LTwin+2RNN's accuracy, and
# Table III.
