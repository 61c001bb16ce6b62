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
# # MangoNet: a co-attention graph over the metadata neighbourhood
#
# LTN (chapter 3) embeds each neighbour on its own, from its global feature, and
# max-pools the result. {cite:t}`zhang2019mangonet` keep LTN's metadata neighbourhoods
# and change how a neighbour is read. MangoNet ("Metadata neighbourhood graph
# co-attention network") makes three changes:
#
# 1. **Instance attention (InsAtten, Fig. 3, Eq. 1-3).** The backbone's last
#    convolutional map $\varphi(i)$ ($d$ channels at $N = H \times W$ positions) gets one
#    attention map per label, $\beta = \mathrm{softmax}_l(q(\varphi(i)))$. Here $q$ is three
#    convolutions (512 1×1, 512 3×3, $C$ 1×1), and the softmax runs over the positions
#    $l$. The label confidences are $y = \sum_l E \odot \beta$, with $E$ a 1×1 convolution
#    giving a label classifier at every position.
# 2. **Co-attention (Eq. 4-9).** A neighbour $z_j$ is attended where the labels that it
#    and the target share are: $w_j = y_i \odot y_{z_j}$,
#    $\alpha_j = \mathrm{softmax}_l(\sum_k w_j^k \beta_{z_j}^k)$, and
#    $\hat z_j = \sum_l \alpha_j \varphi(z_j)$. The target is attended by the labels it
#    shares with *all* its neighbours, $w = y_i \odot \prod_j y_{z_j}$.
# 3. **A graph (Eq. 10-11).** The $m + 1$ attended features are the nodes of a fully
#    connected graph. Its edges are $S = \mathrm{softmax}_{\text{rows}}(\psi(\hat Z)\psi(\hat Z)^\top)$,
#    with $\psi$ an FC layer of 512. One graph convolution with a residual gives
#    $Z' = \mathrm{ReLU}(S \hat Z W) + \hat Z$. The nodes are then average-pooled,
#    concatenated with the target's average-pooled $\varphi(i)$ (the *global feature*)
#    and classified by an FC layer.
#
# Training is stage-wise (Section 3.2): fine-tune the backbone, then train InsAtten
# on the labels, then train the graph with InsAtten frozen. Every stage uses the
# cross-entropy loss and SGD with learning rate 1e-3 and batch 64, and
# $m \in \{3, 7, 15\}$ nearest metadata neighbours (not a sample: the co-attention reads
# a fixed neighbourhood). The code is `neighborlib.models.mangonet` (the equations, one
# function each), `neighborlib.spatial` (the InsAtten stage on a protocol split) and
# `neighborlib.methods.mangonet` (stage 3 as a protocol method).
#
# The paper evaluates on NUS-WIDE, MIRFlickr and MS-COCO. We have real photos of two of
# them, so this page reproduces its **Table 2** on MIRFlickr with the 14 `_r1` labels
# and the owners' tags, and its **Table 3** on COCO-person with the 256 most common
# caption words. It also reproduces the ablations of Tables 5-6, Figure 5 (per-label AP
# against NCNN) and Figure 6 (co-attention maps on real photos). The backbone stays
# frozen on the CPU. Its cached last-layer maps stand in for the fine-tuned ResNet-101's.
#
# **Five splits and m = 15.** The live tables run one split, with m = 3 and 7.
# `grid=True` runs every method on five splits of the same photos, with m = 15 as well,
# and adds its rows to `notebooks/results/05_mangonet_grid.csv`. The committed file
# comes from that run on the CPU; the section "Five splits, and m = 15" reads it.
#
# **Paper-scale run.** `live_images=None splits=5 width=512 m_values=[3,7,15] device=cuda`
# runs all 25,000 MIRFlickr photos, 5 splits, the paper's InsAtten width and its three
# neighbourhood sizes. Fine-tuning the backbone end
# to end is not implemented yet (`neighborlib.features.FineTunableBackbone` is the
# building block). No GPU was lent to the session that wrote this page, so that run has
# not been made.

# %% tags=["hide-input"]
import time
from pathlib import Path
from typing import Optional

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

from neighborlib import claims, embeddings, maps, methods, metrics, neighbourhoods, plots
from neighborlib.features import BACKBONES, image_transform, read_image
from neighborlib.models import TrainConfig
from neighborlib.models.mangonet import InsAtten, MangoNet
from neighborlib.models.minibatch import SGDConfig
from neighborlib.notebook import real_sets, start_chapter
from neighborlib.paths import checkout_root
from neighborlib.protocol import (
    benchmark_features, benchmark_maps, describe_splits, load_benchmark, records_table, run_grid, run_protocol,
    seeded_subset,
)

# %% tags=["parameters"]
dataset: str = "auto"  # "auto" (MIRFlickr and COCO-person when present, else synthetic), "mirflickr", "synthetic"
data_root: Optional[str] = None  # None: $NEIGHBORLIB_DATA, else ../shared/data beside the project
seed: int = 0  # base seed of the splits, the initialisation and the epoch orders
splits: int = 1  # splits of the live tables (the paper: one fixed split; the book's protocol: 5)
live_images: Optional[int] = 8000  # MIRFlickr photos of the live tables (the LTN studies' seeded subset); None: all 25,000
device: str = "cpu"  # "cpu", "cuda" or "auto"
threads: int = 1  # CPU threads of torch and BLAS; the committed outputs use 1 (other counts change last digits)
quick: bool = False  # small settings for smoke tests (1,200 images, 2 epochs)
m_values: list[int] = [3, 7]  # MangoNet's neighbourhood sizes (the paper: 3, 7 and 15; 15 doubles the page's time)
ablation_m: int = 3  # neighbourhood size of the ablations, NCNN and CNN voting (the paper: 3)
width: int = 128  # InsAtten's hidden convolutions (the paper: 512)
psi_dim: int = 512  # width of the edge function psi (the paper: 512)
epochs: int = 20  # most epochs of each SGD stage (not stated in the paper)
min_epochs: int = 3  # fewest epochs before early stopping
patience: int = 2  # epochs without a better validation mAP before stopping
lr: float = 1e-2  # SGD learning rate of InsAtten and the graph (the paper, fine-tuning: 1e-3; see "Training")
momentum: float = 0.9  # SGD momentum (not stated in the paper)
batch_size: int = 64  # minibatch size (the paper: 64)
coco_words: int = 256  # COCO-person's metadata vocabulary: the most common caption words (the paper: 256)
ncnn_epochs: int = 40  # most epochs of NCNN (LTN's loop, RMSProp 1e-4, stopping after `patience` epochs without gain)
tagprop_k: list[int] = [25, 50, 100, 200]  # TagProp's neighbourhood sizes, chosen on val (capped per set below)
grid: bool = False  # run every method on grid_splits splits of the live sets and write grid_file (about 35 minutes on one core)
grid_splits: int = 5  # splits of the grid (the book's protocol: 5)
grid_m: list[int] = [3, 7, 15]  # MangoNet's neighbourhood sizes in the grid (the paper's three)
grid_redo: bool = False  # run again the (method, split) pairs grid_file already has (default: skip them, so a grid resumes)
grid_file: Optional[str] = None  # None: notebooks/results/05_mangonet_grid.csv in the checkout

# %% tags=["hide-input"]
params, DEVICE = start_chapter(globals(), "05_mangonet")  # checks the parameters, pins threads, styles figures
Q = params.quick
SGD = SGDConfig(epochs=2 if Q else params.epochs, min_epochs=1 if Q else params.min_epochs, patience=params.patience,
                batch_size=params.batch_size, lr=params.lr, momentum=params.momentum)
_, REAL, HAVE_COCO = real_sets(params)  # MIRFlickr under the data root; COCO-person too
RESULTS = checkout_root() / "notebooks" / "results" if checkout_root() else None
GRID_FILE = Path(params.grid_file) if params.grid_file else (RESULTS or Path("results")) / "05_mangonet_grid.csv"
COLUMNS = ["mAP_C", "mAP_O", "CP", "CR", "CF1", "OP", "OR", "OF1"]
NOISE = 0.005  # single-split noise floor of the claims (page 03b: a thread-count change moves numbers by this much)

# %% [markdown]
# ## Data and neighbourhoods
#
# * **MIRFlickr** (the paper's Table 2): the 25,000 photos, their owners' tags
#   (τ = 5,000 most frequent training tags) and the 14 `_r1` ("relevant") labels, as in
#   the paper, which keeps 12,682 images, 450 tags and trains on 5,200. The live tables
#   use the seeded 8,000-photo subset of the LTN studies (page 03b, same photos).
# * **COCO-person** (Table 3): the 2,693 val2017 photos with a person, the 79 labels
#   other than the constant `person`, and as metadata the `coco_words` = 256 most common
#   words of their five captions on each training part. The paper builds 256 "visual
#   attributes" from the captions of all of COCO and neighbours them by word2vec. We
#   build neighbourhoods both ways: by Jaccard on the binary word vector, and by cosine
#   on $\rho$, the sum of the words' word2vec vectors (`neighborlib.maps`, chapter 4).
#
# Both sets follow the book's protocol (seeded splits in LTN's proportions, vocabulary
# on the training part, hyperparameters on validation). Neighbours come from the same
# part, so a test image's neighbours are test images, as in LTN and the paper ("the
# nearest neighbour search for the training and test metadata are performed separately").

# %%
def subset_index(b, n):
    """The seeded subset of ``n`` images of a benchmark (`protocol.seeded_subset`: the LTN studies' subset)."""
    return seeded_subset(len(b), n, params.seed)


def load_set(name, n=None, **kw):
    """A benchmark set (or its seeded subset), its pooled features and its feature maps."""
    full = load_benchmark(name, params.data_root, **kw) if REAL else load_benchmark(
        "synthetic", seed=params.seed, n_images=1200 if Q else 2000, image_size=160)
    index = subset_index(full, 1200 if Q else n)
    X = benchmark_features(full, device=DEVICE, progress=False)[index]
    F = benchmark_maps(full, device=DEVICE, progress=False)[index]
    return full.subset(index), X, F


MAIN = "MIRFlickr" if REAL else "Synthetic"  # the set of Table 2 (the synthetic world without a data root)
SETS = {}
SETS[MAIN] = load_set("mirflickr-r1", params.live_images)
if HAVE_COCO:
    SETS["COCO-person"] = load_set("coco-person", tau=params.coco_words)
for title, (b, X, F) in SETS.items():
    display(Markdown(("**SYNTHETIC DATA.** " if b.synthetic else "") + b.describe()
                     + f"; pooled features {X.shape[1]}-d, maps {tuple(F.shape[1:])} float16"))

# %% [markdown]
# ### Which feature maps, at what cost
#
# InsAtten and the co-attention need the spatial maps, not the pooled vectors. `make
# features` writes them in the same forward pass as the pooled features: the last
# layer of EfficientNet-Lite0 (1×1 convolution to 1280 channels, BatchNorm, ReLU6), at
# chapter 2's CPU resolution of 160 px, stored as float16. Their bytes for all of a set's
# photos, against the alternatives:

# %%
def map_bytes(n_images, channels, resolution):
    side = BACKBONES["efficientnet_lite0"].map_size(resolution)
    return n_images * channels * side * side * 2  # float16


n_mir = 25_000
options = pd.DataFrame(
    [{"layer": layer, "channels": ch, "resolution (px)": r,
      "map": f"{BACKBONES['efficientnet_lite0'].map_size(r)}×{BACKBONES['efficientnet_lite0'].map_size(r)}",
      "GB for 25,000 photos": map_bytes(n_mir, ch, r) / 1e9}
     for layer, ch in (("last block (before the head)", 320), ("head: what the pooled features average", 1280))
     for r in (128, 160, 224)]).set_index(["layer", "resolution (px)"])
options.round(2)

# %% [markdown]
# We take the head's 1280 channels at 160 px: 1.6 GB for MIRFlickr and 0.17 GB for
# COCO-person. Chapter 2 chose 160 px by measurement: +3.5 points of visual-only mAP
# over 128 px for 1.6 times the extraction time, with 224 px three times slower again.
# The head is the layer whose average is the pooled feature every other chapter and
# every baseline here uses. MangoNet's global feature (the average-pooled $\varphi$) is
# then exactly the baselines' input, so the comparison isolates the graph and the
# attention. The 320-channel block would take a quarter of the bytes, and the graph's
# $d \times d$ weight $W$ would shrink sixteenfold. But it would hand MangoNet different
# features from its baselines. The paper's ResNet-101 gives 2048 channels at 14×14,
# max-pooled to 7×7.
#
# The cost that matters on the CPU is InsAtten's 3×3 convolution, which grows with the
# square of `width`. One training step per image, measured on random maps of this
# shape (one thread):

# %% tags=["nbval-ignore-output"]
def per_image_ms(net, inputs, targets, repeats=3):
    opt = torch.optim.SGD(net.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(repeats):
        for lo in range(0, len(targets), 64):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(*(t[lo:lo + 64] for t in inputs)), targets[lo:lo + 64])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return 1000 * (time.perf_counter() - start) / (repeats * len(targets))


g = torch.Generator().manual_seed(0)
phi = torch.randn(128, 1280, 5, 5, generator=g)
y14 = (torch.rand(128, 14, generator=g) < 0.2).float()
cost = {f"InsAtten, width {w}": per_image_ms(InsAtten(1280, 14, width=w), (phi,), y14) for w in (128, 256, 512)}
for m_ in params.m_values:
    cost[f"graph stage, m = {m_}"] = per_image_ms(MangoNet(1280, 14, psi_dim=params.psi_dim),
                                                  (torch.randn(128, m_ + 1, 1280, generator=g), phi.mean(dim=(2, 3))), y14)
pd.Series(cost, name="ms per training image").round(2).to_frame()

# %% [markdown]
# InsAtten at the paper's width of 512 costs about six times as much per image as at
# 128, so the committed run uses `width` = 128. The graph stage's cost grows with the
# number of nodes $m + 1$, through $W$ ($1280 \times 1280$) at every node.
#
# ## The methods
#
# Every method sees the same splits and the same frozen features. The paper's baselines
# map to the book's code:
#
# | paper | here |
# |---|---|
# | Meta+Logistic | logistic regression on the binary metadata vector (`methods.tag_only`) |
# | KNN | vote of the $k$ visually nearest training photos, $k$ chosen on val (`methods.cnn_knn_vote`) |
# | Multi-CNN | logistic regression on the pooled features, C chosen on val (`methods.visual_logistic`) |
# | CNN Voting | Multi-CNN's probabilities blended with its $m$ metadata neighbours', weight chosen on val |
# | TagProp | rank-weighted nearest-neighbour label transfer with per-label sigmoids, learned by maximum likelihood (`methods.tagprop`) |
# | NCNN | LTN (chapter 3) with hidden size 512 over the same $m$ metadata neighbours |
# | InsAtten | stage 2 alone, the SRN-like attention network |
# | NGCN | the graph over holistic (average-pooled) nodes, no co-attention |
# | MangoNet w/o GF | MangoNet without the global feature |
#
# The link-CRF and SRN rows of the paper's tables are other papers' models and are not
# reproduced. Scores are probabilities: the logistic and LTN logits go through a
# sigmoid, because the metrics threshold them. The columns are the paper's (Section 4.2):
# mAP over labels ($\mathrm{mAP}_C$), one AP over all image-label pairs ($\mathrm{mAP}_O$),
# and per-label (C) and overall (O) precision, recall and F1. For those, each image gets
# at most its 3 highest labels, and only those above 0.5 (`metrics.evaluate_mangonet`).
#
# **Training.** Every network keeps its best validation epoch. NCNN keeps the LTN
# chapter's optimiser (RMSProp 1e-4, L2 3e-3) for up to `ncnn_epochs` = 40 epochs. At
# the LTN chapter's 10 it was still improving on these small training parts: on split
# 0's validation parts it kept its last epoch at 0.751 mAP_C on MIRFlickr and 0.302 on
# COCO-person, against 0.787 and 0.384 when allowed 40. InsAtten and the graph use SGD with momentum 0.9 and batch 64 for up to
# `epochs` = 20, stopping after 2 epochs without gain. The paper's learning rate of
# 1e-3 was for fine-tuning a whole ResNet. On frozen features it is far too slow. We
# measured on split 0's *validation* parts (never the test parts). At 1e-3, InsAtten
# was still rising after 20 epochs on COCO-person (0.204 val mAP_C); 1e-2 peaked at
# 0.221 after 8 epochs, and 5e-2 and 2e-1 were worse. On MIRFlickr, 1e-2 reached
# 0.629. For the graph stage, 1e-2 reached a better validation mAP than 1e-3 did in 20
# epochs (0.799 against 0.791 on MIRFlickr, 0.430 against 0.401 on COCO-person), in a
# quarter of the time. So `lr` = 1e-2 for both stages.
#
# **Co-attention: probabilities or logits?** Eq. 4 and 7 multiply confidences. Read
# literally, $y$ is InsAtten's output, a logit, and then two labels that both images
# confidently *lack* (two negative logits) give a large positive weight. We feed
# probabilities $\sigma(y)$ instead, and run the literal reading as a row of its own
# ("logit co-attention").

# %%
w2v = embeddings.load_word_vectors("word2vec") if HAVE_COCO else None
NCNN_CFG = TrainConfig(epochs=2 if Q else params.ncnn_epochs, min_epochs=1, patience=params.patience)
LOGIT = f"MangoNet-m{params.ablation_m}, logit co-attention"


W2V_ROWS = {"NCNN": "NCNN, word2vec neighbours", f"MangoNet-m{params.ablation_m}": f"MangoNet-m{params.ablation_m}, word2vec neighbours"}


def method_set(title, F, m_values):
    """The rows of Tables 2-3 and 5-6 for the set ``title`` (its maps F), MangoNet at each of
    ``m_values``; on COCO-person, NCNN and MangoNet again with word2vec neighbours (sharing the
    split's InsAtten)."""
    coco = title == "COCO-person"
    # COCO-person's 79 labels make a 200-neighbour TagProp fit slow, and split 0's validation chose 50 of up to 200
    tagprop_k = [k for k in params.tagprop_k if k <= 100] if coco else params.tagprop_k
    w2v_source = neighbourhoods.by_map(maps.embedded("w2v", w2v)) if coco else None
    mango = dict(width=params.width, insatten_config=SGD, config=SGD, psi_dim=params.psi_dim, device=DEVICE)
    ncnn = dict(m=params.ablation_m, M=params.ablation_m, h=512, config=NCNN_CFG, device=DEVICE)
    out = {
        "Meta+Logistic": methods.sigmoid_scores(methods.tag_only()),
        "KNN": methods.cnn_knn_vote(),
        "Multi-CNN": methods.sigmoid_scores(methods.visual_logistic(device=DEVICE)),
        "CNN Voting": methods.image_neighbourhood_vote(M=params.ablation_m, device=DEVICE),
        "TagProp": methods.tagprop(ks=tagprop_k),
        "NCNN": methods.sigmoid_scores(methods.ltn(**ncnn)),
        "InsAtten": methods.insatten(F, width=params.width, config=SGD, device=DEVICE),
        "NGCN": methods.mangonet(F, m=params.ablation_m, nodes="holistic", **mango),
        "MangoNet w/o GF": methods.mangonet(F, m=params.ablation_m, global_feature=False, **mango),
    }
    for m_ in m_values:
        out[f"MangoNet-m{m_}"] = methods.mangonet(F, m=m_, keep_model=True, **mango)
    out[LOGIT] = methods.mangonet(F, m=params.ablation_m, confidence="logit", keep_model=True, **mango)
    if w2v_source is not None:
        out[W2V_ROWS["NCNN"]] = methods.sigmoid_scores(methods.ltn(source=w2v_source, **ncnn))
        out[W2V_ROWS[f"MangoNet-m{params.ablation_m}"]] = methods.mangonet(F, m=params.ablation_m, source=w2v_source, **mango)
    return out


# %% tags=["nbval-ignore-output"]
RESULTS_BY_SET, SECONDS = {}, {}
for title, (b, X, F) in SETS.items():
    start = time.perf_counter()
    RESULTS_BY_SET[title] = run_protocol(b, method_set(title, F, params.m_values), n_splits=params.splits, seed=params.seed,
                                         features=X, evaluator=metrics.evaluate_mangonet, keep_scores=True)
    SECONDS[title] = time.perf_counter() - start

# %% [markdown]
# ## Table 2: MIRFlickr
#
# Ours on the live subset, then the paper's MIRFlickr numbers (ResNet-101 fine-tuned on
# MIRFlickr; 5,200 training and 7,482 test images). The paper's tables lost their layout
# in the text extraction. We rebuilt them from the number blocks
# (`notebooks/results/05_mangonet_paper.csv`). The overall F1 fixes which blocks are
# OP, OR and OF1: $\mathrm{OF1} = 2\,\mathrm{OP}\,\mathrm{OR}/(\mathrm{OP} + \mathrm{OR})$
# holds to 0.001 in every row under one assignment only. The ablation tables' MangoNet
# row repeats the main tables' m3 row cell for cell, which places CP, CR and CF1. Two
# readings are inferences: in each row the smaller of the two mAP values is taken as
# $\mathrm{mAP}_C$ (their printed order varies), and the paper's '-' cells belong to KNN.

# %%
PAPER = pd.read_csv((RESULTS or Path("results")) / "05_mangonet_paper.csv")  # beside this page


def paper_table(number):
    return PAPER[PAPER["table"] == number].set_index("method")[COLUMNS]


def show(result, title, paper_number=None):
    table = result.table(COLUMNS).drop(index=list(W2V_ROWS.values()), errors="ignore")
    display(Markdown(("**SYNTHETIC DATA.** " if result.bench.synthetic else "") + f"**{title}.** " + result.caption()
                     + "; at most 3 labels per image above 0.5"))
    display(table)
    if paper_number is not None:
        display(Markdown(f"The paper's Table {paper_number} ({PAPER[PAPER['table'] == paper_number]['dataset'].iloc[0]}):"))
        display(paper_table(paper_number).astype(object).where(paper_table(paper_number).notna(), "-"))


show(RESULTS_BY_SET[MAIN], "Table 2 (ours)", 2)

# %% [markdown]
# Of the subset's 8,000 photos, 3,427 carry an `_r1` label and enter the protocol (train
# 2,042, val 689, test 696). On them MangoNet-m3 reaches 0.750 mAP$_C$, level with NCNN
# (0.751) and below Multi-CNN (0.766) and CNN Voting (0.773), the best row. With seven
# neighbours it gains 0.007 (0.757). On the overall metrics it does better: MangoNet-m7 has
# the best mAP$_O$ (0.869 against Multi-CNN's 0.863), and MangoNet-m3's OF1 (0.759) is
# second only to TagProp's (0.761), 1.2 points above Multi-CNN. Every number is below the
# paper's, whose MangoNet-m3 reaches 0.849. The paper fine-tunes a ResNet-101 on
# MIRFlickr and trains on 5,200 images; here a frozen EfficientNet-Lite0 reads 128 px
# crops at 160 px and trains on 2,042. The *order* differs too. In the paper every
# neighbourhood model beats Multi-CNN (NCNN by 2.4 points, MangoNet-m3 by 3.3); here only
# CNN Voting does. InsAtten alone, 0.820 in the paper, is the weakest visual row here
# (0.589). On a frozen backbone its attention can only choose among 25 positions of a
# 5×5 map, and the logistic regression on their average is hard to beat.
#
# ## Table 3: COCO-person

# %%
if HAVE_COCO:
    show(RESULTS_BY_SET["COCO-person"], "Table 3 (ours), neighbours by Jaccard on the 256 caption words", 3)
    display(Markdown("NCNN and MangoNet with neighbours by Jaccard and by cosine on the words' summed word2vec "
                     "vectors (the paper's choice), same split:"))
    display(RESULTS_BY_SET["COCO-person"].table(COLUMNS).loc[[k for pair in W2V_ROWS.items() for k in pair]])
else:
    display(Markdown("COCO-person is not under the data root: Table 3 is left out."))

# %% [markdown]
# COCO-person is where the neighbours help MangoNet most. With Jaccard neighbourhoods on
# the 256 words, MangoNet-m3 reaches 0.443 mAP$_C$, 4.7 points above NCNN (0.396), and
# MangoNet-m7 0.462. CNN Voting (0.469) is still the best row. The caption words nearly
# name the labels: the metadata-only Meta+Logistic matches the visual Multi-CNN on
# mAP$_C$ (0.454 against 0.453) and has by far the best OF1 (0.520). Word2vec
# neighbourhoods change little: +0.005 for MangoNet and −0.004 for NCNN, both within the
# noise floor. The paper's numbers (0.775 for MangoNet-m3) come from COCO's 82,783
# training images, all 80 labels and a fine-tuned ResNet-101. Ours come from 1,547
# training photos, each with a person, and 79 labels, many of which have only a handful
# of positives in the 566 test photos.
#
# ## Ablations (the paper's Tables 4-6)
#
# The ablation rows at m = 3, side by side with the paper's Tables 5 (MIRFlickr) and 6
# (MS-COCO), $\mathrm{mAP}_C$ and OF1:

# %%
ABLATIONS = ["NGCN", "MangoNet w/o GF", "InsAtten", f"MangoNet-m{params.ablation_m}"]
frames = {}
for title, number in ((MAIN, 5), ("COCO-person", 6)):
    if title not in RESULTS_BY_SET:
        continue
    ours = RESULTS_BY_SET[title].means().loc[ABLATIONS, ["mAP_C", "OF1"]]
    theirs = paper_table(number).rename(index={"MangoNet (m = 3)": f"MangoNet-m{params.ablation_m}"}).loc[ABLATIONS, ["mAP_C", "OF1"]]
    frames[(title, "ours")] = ours
    frames[(title, f"paper (Table {number})")] = theirs
pd.concat(frames, axis=1).round(3)

# %% [markdown]
# Two of the paper's three ablation results hold, more strongly than in the paper:
#
# * **Without the global feature**, MangoNet loses 0.148 mAP$_C$ on MIRFlickr and 0.103 on
#   COCO-person (the paper: 0.081 and 0.083). The neighbours do not carry all of the
#   target's labels.
# * **InsAtten alone** is the weakest row on both sets, 0.161 and 0.208 below MangoNet (the
#   paper: 0.029 and 0.034).
#
# The third does not hold. **Co-attention against holistic nodes** (MangoNet against
# NGCN) is +0.001 and −0.002, within the noise: the co-attention adds nothing here. The
# entropy table below shows why.
#
# ## Figure 5: per-label AP against NCNN

# %%
fig, axes = plt.subplots(1, len(RESULTS_BY_SET), figsize=(5.2 * len(RESULTS_BY_SET), 4.6), squeeze=False)
above = {}
for ax, (title, res) in zip(axes[0], RESULTS_BY_SET.items()):
    a_ncnn, a_mango = res.per_label_ap("NCNN"), res.per_label_ap(f"MangoNet-m{params.ablation_m}")
    ok = ~(np.isnan(a_ncnn) | np.isnan(a_mango))
    above[title] = (int((a_mango[ok] > a_ncnn[ok]).sum()), int(ok.sum()))
    ax.scatter(a_ncnn[ok], a_mango[ok], s=14, alpha=0.8)
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="y = x")
    ax.set_xlabel("AP of NCNN (LTN, m = 3)")
    ax.set_ylabel(f"AP of MangoNet (m = {params.ablation_m})")
    ax.set_title(f"{title}: {above[title][0]} of {above[title][1]} labels above y = x", fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right")
    plots.data_badge(ax, res.bench.synthetic)
fig.tight_layout()
plt.show()

# %% [markdown]
# MangoNet's per-label AP lies above NCNN's for 10 of MIRFlickr's 14 labels and 53 of
# COCO-person's 77 labels with a test positive: the paper's "majority", on both sets. On
# MIRFlickr the mean gap is nonetheless −0.001, because one label falls from 0.80 to 0.55
# while the others gain a little.
#
# ## Figure 6: co-attention maps on real photos
#
# The co-attention maps $\alpha$ of test photos and their $m = 3$ metadata neighbours,
# from MangoNet-m3's split 0 (COCO-person when present). Each map covers the 160 px
# centre crop the backbone saw; its 5×5 weights are upsampled bilinearly over the crop,
# and the colours are stretched to each map's own range.
# The first column is the target, the others its neighbours, nearest first. Titles give
# the ground-truth labels.

# %%
fig_set = "COCO-person" if "COCO-person" in RESULTS_BY_SET else MAIN
res6 = RESULTS_BY_SET[fig_set]
info6 = res6.info[f"MangoNet-m{params.ablation_m}"][0]
b6 = res6.bench
test6, alpha6 = res6.splits[0].test, info6["attention"].cpu().numpy()
nbr6 = info6["tables"]["test"].indices[:, :params.ablation_m]
side6 = int(round(np.sqrt(alpha6.shape[-1])))
crop = image_transform(160)
labels6 = b6.dataset.labels
# three test photos with several labels and a confident shared label, chosen by a fixed rule
shared = np.array([labels6[test6[q]].sum() + labels6[nbr6[q]].all(axis=0).sum() for q in range(len(test6))])
chosen = np.argsort(-shared, kind="stable")[:3]
fig, axes = plt.subplots(len(chosen), params.ablation_m + 1, figsize=(2.3 * (params.ablation_m + 1), 2.5 * len(chosen)),
                         squeeze=False)
for r, q in enumerate(chosen):
    rows = [test6[q], *nbr6[q]]
    for c, row in enumerate(rows):
        ax = axes[r, c]
        img = (crop(read_image(b6.dataset.photo_path(row))).permute(1, 2, 0).numpy() * 0.5 + 0.5).clip(0, 1)
        att = torch.nn.functional.interpolate(torch.as_tensor(alpha6[q, c]).reshape(1, 1, side6, side6).float(),
                                              size=img.shape[:2], mode="bilinear", align_corners=False)[0, 0].numpy()
        ax.imshow(img)
        ax.imshow(att, cmap="viridis", alpha=0.5)
        names = [n for n, v in zip(b6.dataset.label_names, labels6[row]) if v][:3]
        ax.set_title(("target: " if c == 0 else f"neighbour {c}: ") + ", ".join(names), fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[r, 0].set_ylabel(f"test photo {b6.dataset.ids[test6[q]]}", fontsize=7)
plots.data_badge(axes[0, -1], b6.synthetic)
fig.suptitle(f"{fig_set}: co-attention maps of MangoNet (m = {params.ablation_m}), brighter = more weight", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### How sharp is the co-attention?
#
# The target's weights $w = y_i \odot \prod_j y_{z_j}$ multiply $m + 1$ probabilities.
# As $m$ grows they shrink towards zero, and $\alpha$ flattens towards the uniform map
# (the average pool). The mean entropy of the test photos' maps, against the uniform
# map's $\log N$:

# %%
def entropy(a):
    return float(-(a * np.log(np.clip(a, 1e-12, None))).sum(axis=-1).mean())


sharp = {}
for title, res in RESULTS_BY_SET.items():
    for m_, key in [(m_, f"MangoNet-m{m_}") for m_ in params.m_values] + [(f"{params.ablation_m}, logits", LOGIT)]:
        att = res.info[key][0]["attention"].cpu().numpy()
        sharp[(title, m_)] = {"target": entropy(att[:, 0]), "neighbours": entropy(att[:, 1:]),
                              "uniform (log N)": float(np.log(att.shape[-1]))}
sharp = pd.DataFrame(sharp).T
sharp.index.names = ["set", "m"]
sharp.round(3)

# %% [markdown]
# With probabilities, the co-attention maps are flat. Their mean entropy is within 0.007
# of the uniform map's $\log 25 = 3.219$ for every $m$, so $\hat z_j$ is, to three
# digits, the average-pooled feature, and MangoNet's nodes are NGCN's. That follows from
# the arithmetic of Eq. 5 and 8 rather than from training. The softmax's input at a
# position is $\sum_k w^k \beta^k_l$: each $\beta^k$ spreads a total weight of one over
# the 25 positions, and each $w^k$ is a product of probabilities. So the inputs differ
# between positions by a small fraction of one, and the target's products over $m + 1$
# images shrink further. Figure 6's colours stretch each map to its own range and so
# magnify these small differences. Read literally, with logits, the maps collapse onto
# a single position (entropy ≈ 0), and MangoNet loses 0.041 mAP$_C$ on MIRFlickr (0.709)
# and 0.099 on COCO-person (0.344). Neither reading of Eq. 4-8 gives attention that helps
# on frozen 5×5 maps. The paper's 14×14 maps of a fine-tuned ResNet might.
#
# ## Five splits, and m = 15
#
# The tables above come from one split, as the paper's do. On one split a gap of 0.005
# is within the noise (page 03b), and several of the paper's claims turn on gaps that
# small. The book's protocol is five seeded splits, and the paper's third neighbourhood
# size, m = 15, would add about a minute per split to the live run. Both ran offline:
# `grid=True` runs every method above, with MangoNet at `grid_m` = 3, 7 and 15, on
# `grid_splits` = 5 splits of the same photos. It adds each (method, split) row to
# `notebooks/results/05_mangonet_grid.csv` as soon as it ends (`protocol.run_grid`), so
# a stopped run resumes where it stopped. This page reads that file.

# %% tags=["nbval-ignore-output"]
if params.grid:
    for title, (b, X, F) in SETS.items():
        # one fit per method; the fits of a split share its data, so the MangoNet rows share one InsAtten
        fits = [(name, {}, lambda method=method: method) for name, method in method_set(title, F, params.grid_m).items()]
        run_grid(b, fits, GRID_FILE, n_splits=params.grid_splits, seed=params.seed, features=X,
                 evaluator=metrics.evaluate_mangonet, redo=params.grid_redo,
                 columns={"device": str(DEVICE), "threads": params.threads, "width": params.width,
                          "epochs": SGD.epochs, "lr": SGD.lr})

# %%
GRID = {}  # set title -> its rows of the grid file (these photos, this base seed)
if GRID_FILE.is_file() and REAL and not Q:
    grid_df = pd.read_csv(GRID_FILE)
    for title, (b, _, _) in SETS.items():
        rows = grid_df[(grid_df["set"] == b.title) & (grid_df["images"] == len(b)) & (grid_df["seed"] == params.seed)]
        if len(rows):
            GRID[title] = rows


def mangonet_sizes(title):
    """The neighbourhood sizes of the plain MangoNet-m rows of a set's grid rows, ascending."""
    return sorted(int(k.rsplit("-m", 1)[1]) for k in GRID[title]["method"].unique() if k.startswith("MangoNet-m") and "," not in k)


def grid_order(title):
    """The grid's methods of a set in the order of the live tables, MangoNet at each m the file has."""
    return [k for k in method_set(title, SETS[title][2], mangonet_sizes(title)) if k in set(GRID[title]["method"])]


if not GRID:
    display(Markdown("**The five-split grid has not been run for these photos** (`grid=True` writes it): this "
                     "section's tables and figure are left out, and the claims rest on the live split alone."))
for title, rows in GRID.items():
    splits_run = sorted(rows["split"].unique())
    display(Markdown(
        f"**{title}, {len(splits_run)} splits** (grid file `{GRID_FILE.name}`: {len(rows)} rows, run on "
        f"{', '.join(sorted(rows['device'].astype(str).unique()))} with {', '.join(map(str, sorted(rows['threads'].unique())))} "
        f"thread(s), InsAtten width {', '.join(map(str, sorted(rows['width'].unique())))}). "
        + describe_splits(SETS[title][0], len(splits_run), seed=params.seed)
        + "; at most 3 labels per image above 0.5"))
    display(records_table(GRID[title], COLUMNS, grid_order(title)))

# %% [markdown]
# Over five splits the means move by 0.01 to 0.03 mAP$_C$ from split to split: more than
# most of the gaps the paper's claims rest on. Split 0 of the live tables is a typical
# split of MIRFlickr (most methods within 0.01 of their five-split means) and one of
# COCO-person's easier ones (every method 0.003 to 0.032 above its mean). The order
# holds:
#
# * On MIRFlickr, CNN Voting leads (0.773 ± 0.012), then MangoNet-m15 (0.767) and
#   Multi-CNN (0.765). MangoNet-m3 (0.756 ± 0.023) is level with NGCN (0.757) and above
#   NCNN (0.741).
# * On COCO-person, CNN Voting leads again (0.454 ± 0.016), then MangoNet-m15 (0.445),
#   Meta+Logistic (0.440) and MangoNet-m7 (0.438). MangoNet-m3 (0.422) is below
#   Multi-CNN (0.434) and TagProp (0.435).
#
# MangoNet's $\mathrm{mAP}_C$ against the neighbourhood size, and its gain over m = 3 on
# each split (the splits are paired: every method saw the same images, so the per-split
# gains show what the spread of the means hides):

# %%
if GRID:
    fig, axes = plt.subplots(len(GRID), 2, figsize=(10.4, 3.9 * len(GRID)), squeeze=False)
    for (ax, ax_gain), (title, rows) in zip(axes, GRID.items()):
        ms = mangonet_sizes(title)
        per_split = rows.pivot(index="split", columns="method", values="mAP_C")
        mango = per_split[[f"MangoNet-m{m_}" for m_ in ms]].to_numpy()
        ax.errorbar(ms, mango.mean(0), yerr=mango.std(0, ddof=1), marker="o", capsize=3, color="C0", label="MangoNet")
        for (name, style), colour in zip((("NCNN", ":"), ("Multi-CNN", "--"), ("CNN Voting", "-.")), ("C1", "C2", "C3")):
            ax.axhline(per_split[name].mean(), ls=style, color=colour,
                       label=name + (f" (m = {params.ablation_m})" if name != "Multi-CNN" else ""))
        seconds = rows.groupby("method")["s"].mean()  # the graph stage's fit, InsAtten's shared fit aside
        ax.set_xticks(ms, [f"{m_}\n({seconds[f'MangoNet-m{m_}']:.0f} s)" for m_ in ms])
        ax.set_xlabel("m, metadata neighbours of MangoNet (mean seconds of a fit)")
        ax.set_ylabel(f"mAP$_C$, mean ± std over {len(per_split)} splits")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
        gains = mango - mango[:, [0]]
        for k, g_ in zip(per_split.index, gains):
            ax_gain.plot(ms, g_, marker=".", lw=0.8, alpha=0.6, label=f"split {k}")
        ax_gain.plot(ms, gains.mean(0), marker="o", lw=2, color="black", label="mean")
        ax_gain.axhline(0, color="grey", lw=1)
        ax_gain.set_xticks(ms)
        ax_gain.set_xlabel("m, metadata neighbours of MangoNet")
        ax_gain.set_ylabel(f"mAP$_C$ gain over m = {ms[0]}")
        ax_gain.set_title(f"{title}: paired gains", fontsize=10)
        ax_gain.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    plt.show()

# %% [markdown]
# A larger neighbourhood helps on both sets, more than in the paper (+0.002 to +0.004),
# but on MIRFlickr not on every split:
#
# * **MIRFlickr:** m = 7 adds 0.007 ± 0.006 to m = 3 and m = 15 adds 0.010 ± 0.012; on
#   split 3 both are below m = 3.
# * **COCO-person:** m = 7 adds 0.016 ± 0.005 and m = 15 adds 0.023 ± 0.012, on every
#   split. From 7 to 15 the gain (+0.007) is within the spread.
#
# The graph stage's cost grows with the nodes, each through the 1280 × 1280 weight $W$.
# Its fit took about 8 s at m = 3, 17 to 18 s at m = 7 and 35 s at m = 15 (one thread,
# with another run on the second core).
#
# ## Claims check
#
# The paper's claims against our tables. A gap is the first method's metric minus the
# second's, per split. On the live split there is no split-to-split spread, so a claim is
# confirmed or refuted only when its gap clears a noise floor of 0.005; otherwise it is
# *not resolved*. Over the grid's five splits (the same photos; split sizes in the
# tables of the previous section) a claim is confirmed when every split's gap has the
# claimed sign, refuted when every split's has the other, and not resolved when the
# splits disagree. Where the two columns disagree, the five splits decide.

# %%
def best_other(means):
    """The best row of a table of means that is not a MangoNet variant (mAP_C)."""
    return means.drop(index=[k for k in means.index if k.startswith("MangoNet") or k == "Upper bound"])["mAP_C"].idxmax()


def live_and_grid(title, a, b_, metric="mAP_C"):
    """The gap of ``a`` over ``b_`` on the live split and over the grid's splits (None where one of them did not run);
    ``b_`` None: the best row other than MangoNet's, in each source."""
    live, res = None, RESULTS_BY_SET[title]
    if a in res.metrics:
        other = b_ or best_other(res.means())
        live = (claims.paired_gap(res, a, other, metric), other)
    five = None
    if title in GRID and a in set(GRID[title]["method"]):
        other = b_ or best_other(GRID[title].groupby("method")[["mAP_C"]].mean())
        five = (claims.records_gap(GRID[title], {"method": a}, {"method": other}, metric), other)
    return live, five


M3 = f"MangoNet-m{params.ablation_m}"
checks = []
for title, tab, abl in ((MAIN, 2, 5), ("COCO-person", 3, 6)):
    if title not in RESULTS_BY_SET:
        continue
    P, A = paper_table(tab), paper_table(abl)

    def paper_gap(a, b_, metric="mAP_C", table=P):
        return f"{table.loc[a, metric] - table.loc[b_, metric]:+.3f} ({table.loc[a, metric]:.3f} vs {table.loc[b_, metric]:.3f})"

    larger = sorted({m_ for m_ in [*params.m_values, *params.grid_m] if m_ > params.ablation_m})
    checks += [
        (title, "co-attention + GCN beats NCNN (mAP_C)", paper_gap("MangoNet-m3", "NCNN"), M3, "NCNN", "mAP_C"),
        (title, "co-attention + GCN beats NCNN (OF1)", paper_gap("MangoNet-m3", "NCNN", "OF1"), M3, "NCNN", "OF1"),
        (title, "co-attention beats holistic nodes (MangoNet vs NGCN, mAP_C)",
         paper_gap("MangoNet (m = 3)", "NGCN", table=A), M3, "NGCN", "mAP_C"),
        (title, "the global feature matters (MangoNet vs w/o GF, mAP_C)",
         paper_gap("MangoNet (m = 3)", "MangoNet w/o GF", table=A), M3, "MangoNet w/o GF", "mAP_C"),
        (title, "the graph beats InsAtten alone (mAP_C)", paper_gap("MangoNet (m = 3)", "InsAtten", table=A),
         M3, "InsAtten", "mAP_C"),
        *[(title, f"a larger m helps (m = {m_} vs {params.ablation_m}, mAP_C)",
           paper_gap(f"MangoNet-m{m_}", "MangoNet-m3") if f"MangoNet-m{m_}" in P.index else "-",
           f"MangoNet-m{m_}", M3, "mAP_C") for m_ in larger],
        *[(title, f"MangoNet{'' if m_ == params.ablation_m else f' (m = {m_})'} beats every baseline (mAP_C)",
           f"best other: {P.drop(index=[k for k in P.index if 'Mango' in k])['mAP_C'].idxmax()}", f"MangoNet-m{m_}", None,
           "mAP_C") for m_ in [params.ablation_m, *larger[-1:]]],
        (title, "MangoNet beats TagProp by a large margin (mAP_C)", paper_gap("MangoNet-m3", "TagProp"), M3, "TagProp", "mAP_C"),
        (title, "CNN Voting beats KNN (metadata neighbours help voting, mAP_C)", paper_gap("CNN Voting", "KNN"),
         "CNN Voting", "KNN", "mAP_C"),
        (title, "vision beats metadata alone (Multi-CNN vs Meta+Logistic, mAP_C)", paper_gap("Multi-CNN", "Meta+Logistic"),
         "Multi-CNN", "Meta+Logistic", "mAP_C"),
    ]
N_GRID = max((rows["split"].nunique() for rows in GRID.values()), default=0)
rows = []
for s_, c, p, a, b_, metric in checks:
    live, five = live_and_grid(s_, a, b_, metric)
    vs = lambda g_: f" (vs {g_[1]})" if b_ is None else ""  # noqa: E731
    rows.append({"set": s_, "claim": c, "paper": p,
                 "live split": ((str(live[0]) if live[0].differences.size > 1 else f"{live[0].mean:+.3f}") + vs(live)
                                if live else "not run live"),
                 "verdict (live)": claims.verdict(live[0], tolerance=NOISE if params.splits == 1 else 0.0) if live else "-",
                 f"{N_GRID} splits": f"{five[0]}{vs(five)}" if five else "-",
                 f"verdict ({N_GRID} splits)": claims.verdict(five[0]) if five else "-"})
rows += [{"set": t, "claim": "most labels lie above y = x against NCNN (Figure 5)", "paper": "the majority (Fig. 5)",
          "live split": f"{a} of {n} labels", "verdict (live)": "confirmed" if a > n / 2 else "refuted",
          f"{N_GRID} splits": "-", f"verdict ({N_GRID} splits)": "-"}
         for t, (a, n) in above.items()]
claims_df = pd.DataFrame(rows).set_index(["set", "claim"])
if not GRID:
    claims_df = claims_df.drop(columns=[f"{N_GRID} splits", f"verdict ({N_GRID} splits)"])
display(Markdown(("**SYNTHETIC DATA.** " if any(r.bench.synthetic for r in RESULTS_BY_SET.values()) else "")
                 + " ".join(r.caption() + "." for r in RESULTS_BY_SET.values())))
claims_df

# %% [markdown]
# In short, over five splits of each set:
#
# * **Confirmed on both sets:**
#   * the global feature matters (+0.169 and +0.085);
#   * the graph beats InsAtten alone (+0.132 and +0.193);
#   * MangoNet beats NCNN on OF1 (+0.025 and +0.097);
#   * CNN Voting beats KNN (+0.047 and +0.065).
# * **Confirmed on COCO-person, not resolved on MIRFlickr:**
#   * MangoNet beats NCNN on mAP$_C$: +0.032 ± 0.010 on COCO-person; +0.015 ± 0.015 on
#     MIRFlickr, where two splits of five are level;
#   * a larger neighbourhood helps: +0.016 (m = 7) and +0.023 (m = 15) on COCO-person;
#     +0.007 and +0.010 on MIRFlickr, where split 3 goes the other way. On split 0 alone
#     both sets confirmed it.
# * **Not resolved on either set:** that co-attention beats holistic nodes (−0.000 on
#   both). With probabilities the co-attention *is* an average pool, and with logits it
#   is worse (−0.050 and −0.078).
# * **Refuted on COCO-person:**
#   * MangoNet-m3 beats every baseline: CNN Voting is ahead on every split (−0.032).
#     MangoNet-m15 closes the gap to −0.010 ± 0.014, not resolved; on MIRFlickr both are
#     not resolved (−0.016 and −0.006 against CNN Voting).
#   * MangoNet beats TagProp by a large margin: it is *below* TagProp on every split
#     (−0.013; the paper: +0.055). On MIRFlickr the gap is +0.004 ± 0.021, not resolved.
# * Most labels lie above $y = x$ against NCNN on both sets (split 0, Figure 5).
#
# Vision beats metadata alone on MIRFlickr (+0.138), but not on COCO-person, where the
# caption words make Meta+Logistic as good as Multi-CNN (−0.005 ± 0.023). Word2vec
# neighbourhoods change nothing there: +0.000 for MangoNet and −0.006 for NCNN over the
# five splits (the second table of the grid).
#
# The paper's gains over its baselines are one to three points, and they come with a
# ResNet-101 fine-tuned stage by stage. On a frozen backbone MangoNet still beats NCNN
# (on every split of COCO-person), but not CNN Voting, the simplest use of the same
# neighbours. The component the paper credits, the co-attention, cannot work as the
# equations are written: probabilities make it uniform and logits make it one-hot. What
# does help is the neighbourhood itself: more neighbours, most on the set whose metadata
# nearly name the labels. The paper-scale parameters (all photos, width 512, a GPU) are the next test,
# with end-to-end fine-tuning still to be implemented.
#
# ## What the run cost
#
# Wall-clock seconds of each method's fit on split 0 (the graph stage only; InsAtten's
# fit is shared by the MangoNet variants of a split and counted in its own row), the
# epoch it kept, and each set's total. One CPU thread on the machine that built this
# page.

# %% tags=["nbval-ignore-output"]
cost_rows = {}
for title, res in RESULTS_BY_SET.items():
    for k, inf in res.info.items():
        if inf and "epoch" in inf[0]:
            cost_rows[(title, k)] = {"kept epoch": inf[0]["epoch"], "s/epoch": inf[0].get("s/epoch", np.nan),
                                     "s": inf[0].get("s", np.nan)}
display(pd.DataFrame(cost_rows).T)
pd.Series(SECONDS, name="seconds").round(1).to_frame()
