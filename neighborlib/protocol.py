"""The one evaluation protocol every chapter runs (LTN paper, Section 4).

A chapter names a **benchmark set** and passes its methods; this module does the rest::

    bench = load_benchmark("mirflickr")                       # the 25,000 photos, 24 labels
    X = benchmark_features(bench)                             # cached, extracted once by `make`
    result = run_protocol(bench, {"Tag-only": methods.tag_only(), ...}, features=X)
    result.table()                                            # mean ± std over 5 seeded splits

The protocol, as Johnson et al. (2015) state it:

1. drop images without any metadata and images without any label;
2. split the rest at random into train / val / test in the paper's proportions
   (110K / 40K / 40,253 of 190,253: :data:`LTN_FRACTIONS`), 5 seeded splits
   (:func:`neighborlib.data.random_splits`, stream ``"splits"``); the weak-supervision
   chapter splits every image in its paper's proportions instead (``fractions=``
   :data:`WEAK_FRACTIONS`, ``every_image=True``);
3. per split, fit the vocabulary (the τ most frequent tokens) on the **training** part
   only - caption words of COCO too - and drop from every part the images none of whose
   tokens is in it (they have no metadata in the vocabulary);
4. neighbours of training images come from the training part, those of validation
   (test) images from the validation (test) part (:meth:`SplitData.metadata_neighbours`);
5. every method chooses its hyperparameters on the split's own validation part, never
   on a test set; it returns scores for the test part, which :func:`neighborlib.metrics.evaluate`
   scores.

Zero-shot labels (chapter 7, :func:`run_zero_shot`) split the *labels* as well: each of
:func:`label_splits`' folds holds out a fifth of them, and a method trains and chooses on
:func:`seen_view`, the split with the seen label columns only, then ranks every label.

A *method* is any callable ``method(data: SplitData) -> scores`` returning ``(n_test, L)``
scores for ``data.test``, or ``(scores, info)`` with a dict of what it chose (recorded per
split in :attr:`ProtocolResult.info`).

Benchmark sets (:data:`BENCHMARKS`), the same in every chapter:

* ``"mirflickr"`` - MIRFlickr-25K, all 25,000 photos, user tags, the 24 potential labels;
* ``"mirflickr-r1"`` - the same images with the 14 ``_r1`` ("relevant") labels;
* ``"coco-person"`` - MS-COCO val2017's 2,693 photos (every image with a person), caption
  words as metadata, the 79 labels other than the constant ``person``;
* ``"coco-captions"`` - all 4,952 labelled val2017 images, caption words, 80 labels, no
  photos (for metadata-only methods);
* ``"synthetic"`` - the synthetic social-image world (tags, groups, sets), for kinds of
  metadata that exist nowhere else, and as the fallback without a data root;
* ``"synthetic-kinds"`` - the synthetic world's images that carry all three kinds of
  metadata (:data:`SYNTHETIC_KINDS`), for experiments that switch kinds (LTN Table 4).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import metrics as _metrics
from .atomic import atomic_write
from .data import SocialImageDataset, Split, Vocabulary, load_dataset, random_splits
from .neighbours import NeighbourTable, split_neighbours
from .seeding import stream

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "LTN_FRACTIONS",
    "LabelSplit",
    "SYNTHETIC_KINDS",
    "WEAK_FRACTIONS",
    "ProtocolResult",
    "SplitData",
    "ZeroShotResult",
    "benchmark_features",
    "benchmark_maps",
    "describe_splits",
    "label_splits",
    "load_benchmark",
    "merge_records",
    "records_table",
    "on_reseeded",
    "on_training_subset",
    "protocol_splits",
    "reseeded",
    "run_grid",
    "run_protocol",
    "run_zero_shot",
    "seeded_subset",
    "seen_view",
    "split_data",
    "training_subset",
]

#: The LTN paper's train / val / test proportions: 110K / 40K / 40,253 of 190,253 images.
LTN_FRACTIONS: tuple[float, float, float] = (110_000 / 190_253, 40_000 / 190_253, 40_253 / 190_253)

#: benchmark name -> (title, one line on what it is)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "mirflickr": ("MIRFlickr", "MIRFlickr-25K, all 25,000 photos, user tags, 24 potential labels"),
    "mirflickr-r1": ("MIRFlickr (r1)", "MIRFlickr-25K, all 25,000 photos, user tags, 14 relevant (_r1) labels"),
    "coco-person": ("COCO-person", "MS-COCO val2017 photos with a person, caption words, 79 labels (no 'person')"),
    "coco-captions": ("COCO captions", "MS-COCO val2017 labelled images, caption words, 80 labels, no photos"),
    "synthetic": ("Synthetic", "the SYNTHETIC social-image world (tags, groups, sets)"),
    "synthetic-kinds": ("Synthetic (all kinds)", "the SYNTHETIC world's images that carry tags, groups and sets"),
}

#: The weak-supervision paper's split: "one-fifth data for training and the rest for test"
#: (5,000 of MIRFlickr's 25,000). The protocol needs a validation part for its choices, so a
#: tenth of the images is taken from what the paper tests on: train 1/5, val 1/10, test 7/10.
WEAK_FRACTIONS: tuple[float, float, float] = (0.2, 0.1, 0.7)

#: The ``"synthetic-kinds"`` set: images generated, and the photo size they are rendered at.
#: Of 12,000 generated images (seed 0) 2,085 carry all three kinds of metadata.
SYNTHETIC_KINDS = {"n_images": 12_000, "image_size": 96}

Scores = np.ndarray
Method = Callable[["SplitData"], Union[Scores, tuple[Scores, Mapping[str, Any]]]]


@dataclass(frozen=True, eq=False)
class Benchmark:
    """A named benchmark set: the images, the metadata kind(s) and the vocabulary size.

    Attributes:
        key: the key of :data:`BENCHMARKS` (``"mirflickr"`` ...).
        title: the name tables print (``"MIRFlickr"``, ``"COCO-person"`` ...).
        dataset: exactly the benchmark's images and label columns.
        kinds: metadata kinds that form an image's tokens (several are prefixed by kind).
        tau: vocabulary size τ (``None``: every training token).
        synthetic: generated data (tables say so).
    """

    key: str
    title: str
    dataset: SocialImageDataset
    kinds: tuple[str, ...]
    tau: int | None
    synthetic: bool = False

    def __len__(self) -> int:
        return len(self.dataset)

    @cached_property
    def tokens(self) -> list[tuple[str, ...]]:
        """Per-image tokens of :attr:`kinds` (``"groups:g12"``-style prefixes when several)."""
        return self.dataset.combined_tokens(self.kinds)

    def subset(self, index: np.ndarray | Sequence[int]) -> "Benchmark":
        """The same benchmark on the images at ``index`` (e.g. a seeded subset for quick runs)."""
        return replace(self, dataset=self.dataset.subset(index))

    def describe(self) -> str:
        """One line for a table caption: set, image count, labels, metadata, τ."""
        ds = self.dataset
        tau = "all" if self.tau is None else f"{self.tau:,}"
        flag = "SYNTHETIC DATA - " if self.synthetic else ""
        photos = f", {int(ds.has_photo.sum()):,} with photos" if ds.has_images else ", no photos"
        return (
            f"{flag}{self.title}: {len(ds):,} images{photos}, {ds.n_labels} labels, "
            f"metadata {'+'.join(self.kinds)} (τ = {tau})"
        )

    def __repr__(self) -> str:
        return f"Benchmark({self.describe()})"


def load_benchmark(
    name: str,
    data_root: str | os.PathLike | None = None,
    *,
    tau: int | None = None,
    kinds: Sequence[str] | None = None,
    seed: int = 0,
    n_images: int = 5000,
    render: bool = True,
    image_size: int = 96,
) -> Benchmark:
    """One of the standard benchmark sets of :data:`BENCHMARKS`.

    Args:
        name: ``"mirflickr"``, ``"mirflickr-r1"``, ``"coco-person"``, ``"coco-captions"``,
            ``"synthetic"`` or ``"synthetic-kinds"`` (which ignores ``kinds``, ``n_images`` and
            ``image_size``: see :data:`SYNTHETIC_KINDS`).
        data_root: overrides ``NEIGHBORLIB_DATA`` (real sets only).
        tau: vocabulary size; default 5,000 for tags (the LTN paper's τ) and every
            training word for captions (the COCO loader keeps all words, the protocol
            fits the vocabulary on each training part).
        kinds: metadata kinds (synthetic world: any of tags, groups, sets; default tags).
        seed, n_images, render, image_size: the synthetic world's (photos are rendered
            when ``render``).

    Raises:
        ValueError: unknown name. FileNotFoundError: the real set is not under the data root.
    """
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {list(BENCHMARKS)}")
    title = BENCHMARKS[name][0]
    if name in ("mirflickr", "mirflickr-r1"):
        ds = load_dataset("mirflickr25k", data_root, label_set="potential" if name == "mirflickr" else "relevant")
        return Benchmark(name, title, ds, ("tags",), 5000 if tau is None else tau)
    if name in ("coco-person", "coco-captions"):
        ds = load_dataset("coco", data_root, split="val2017", tau=None)
        if name == "coco-person":
            ds = ds.with_photos()
            ds = ds.with_labels([n for n in ds.label_names if n != "person"])
        else:
            ds = ds.subset(np.flatnonzero(ds.labels.sum(axis=1) > 0))
        return Benchmark(name, title, ds, ("captions",), tau)
    if name == "synthetic-kinds":
        ds = load_dataset("synthetic", seed=seed, render=render, **SYNTHETIC_KINDS)
        every = ds.has_metadata("tags") & ds.has_metadata("groups") & ds.has_metadata("sets")
        return Benchmark(name, title, ds.subset(np.flatnonzero(every)), ("tags", "groups", "sets"),
                         5000 if tau is None else tau, synthetic=True)
    ds = load_dataset("synthetic", n_images=n_images, seed=seed, render=render, image_size=image_size)
    return Benchmark(name, title, ds, tuple(kinds or ("tags",)), 5000 if tau is None else tau, synthetic=True)


def benchmark_features(bench: Benchmark, **kwargs: Any) -> np.ndarray:
    """Cached visual features of every image of ``bench`` (all must have a photo).

    The cache entry is shared by every chapter and by ``make features``, which extracts
    it once per run: the resolution defaults to the one ``make features`` uses,
    :data:`neighborlib.extract.CPU_RESOLUTION` (160 px), so a chapter that passes nothing
    reads the entries already there. Keyword arguments go to
    :func:`neighborlib.features.cached_features` (``backbone``, ``resolution``, ``device``,
    ``spatial``, ``progress`` ...). For the maps prefer :func:`benchmark_maps`.

    Returns:
        float32 ``(N, 1280)`` (float16 ``(N, 1280, h, w)`` maps with ``spatial=True``).
    """
    from .extract import CPU_RESOLUTION
    from .features import dataset_features

    kwargs.setdefault("resolution", CPU_RESOLUTION)
    return dataset_features(bench.dataset, **kwargs)


def benchmark_maps(bench: Benchmark, **kwargs: Any) -> np.ndarray:
    """Cached final feature maps of every image of ``bench`` (all must have a photo).

    The spatial entry that ``make features`` writes for :data:`neighborlib.extract.MAPS_BENCHMARKS`
    in the same forward pass as the pooled features of :func:`benchmark_features`; the
    resolution defaults to :data:`neighborlib.extract.CPU_RESOLUTION` (160 px) likewise. It is
    read through :func:`neighborlib.features.dataset_features_and_maps`, so where the maps are
    not there yet the missing chunks of both entries are computed in one pass (never one
    pass for the maps and another for the pooled features). Keyword arguments go to
    :func:`neighborlib.features.cached_features_and_maps` (``backbone``, ``resolution``,
    ``device``, ``progress`` ...; no ``spatial``).

    Returns:
        float16 ``(N, 1280, h, w)`` with ``h = w = ceil(resolution / 32)``: 5 x 5 at 160 px,
        64,000 bytes per image - 1.6 GB for MIRFlickr's 25,000 images (25,000 x 1280 x 5 x 5
        x 2 bytes), 172 MB for COCO-person's 2,693. The pooled features (float32
        ``(N, 1280)``, 128 MB for MIRFlickr) are loaded alongside and dropped.
    """
    from .extract import CPU_RESOLUTION
    from .features import dataset_features_and_maps

    kwargs.setdefault("resolution", CPU_RESOLUTION)
    return dataset_features_and_maps(bench.dataset, **kwargs)[1]


def seeded_subset(n_total: int, n: int | None, seed: int = 0) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``n`` of ``n_total`` images (stream ``"subset"``).

    The chapters' studies run on such subsets of a benchmark (``bench.subset(index)``, with
    ``features[index]``): the same seed gives the same photos in every chapter (the LTN
    studies' 8,000 MIRFlickr photos, for one). ``n = None`` or ``n >= n_total``: every image.
    """
    if n is None or n >= n_total:
        return np.arange(n_total)
    if n < 1:
        raise ValueError(f"a subset needs at least one image, got n = {n}")
    return np.sort(stream(seed, "subset").choice(n_total, n, replace=False))


# ----------------------------------------------------------------------------- splits


def protocol_splits(
    bench: Benchmark,
    n_splits: int = 5,
    seed: int = 0,
    *,
    fractions: tuple[float, float, float] = LTN_FRACTIONS,
    every_image: bool = False,
) -> list[Split]:
    """Steps 1-2 of the protocol: seeded splits of the images that have metadata and labels.

    ``fractions``: the (train, val, test) proportions (default LTN's; the weak-supervision
    chapter passes :data:`WEAK_FRACTIONS`). ``every_image``: split every image, with or
    without tags and labels - step 1 is skipped here and step 3's dropping in
    :func:`run_protocol` (the weak-supervision paper counts all N = 25,000 MIRFlickr images;
    an image without labels is then a negative for every label).
    """
    ds = bench.dataset
    eligible = None if every_image else (ds.labels.sum(axis=1) > 0) & np.fromiter(
        (len(t) > 0 for t in bench.tokens), dtype=bool, count=len(ds)
    )
    return random_splits(len(ds), n_splits, seed=seed, fractions=fractions, eligible=eligible)


@dataclass(frozen=True, eq=False)
class SplitData:
    """Everything a method may use for one split (indices are rows of ``bench.dataset``).

    Attributes:
        bench: the benchmark set.
        split: train / val / test after step 3 (images without in-vocabulary metadata dropped).
        vocabulary: the τ most frequent tokens of the training part.
        Z: ``(N, τ)`` binary metadata of *every* image, encoded with :attr:`vocabulary`.
        features: ``(N, C)`` visual features of every image, or ``None``.
        seed: the protocol's base seed (methods draw from ``neighborlib.seeding`` streams
            keyed by ``(seed, split.index)``).
    """

    bench: Benchmark
    split: Split
    vocabulary: Vocabulary
    Z: sp.csr_matrix
    features: np.ndarray | None
    seed: int
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def labels(self) -> np.ndarray:
        """``(N, L)`` labels of every image."""
        return self.bench.dataset.labels

    @property
    def train(self) -> np.ndarray:
        return self.split.train

    @property
    def val(self) -> np.ndarray:
        return self.split.val

    @property
    def test(self) -> np.ndarray:
        return self.split.test

    def X(self, part: str) -> np.ndarray:
        """Visual features of one part (``"train"``, ``"val"``, ``"test"``)."""
        if self.features is None:
            raise ValueError(f"{self.bench.title}: this run has no visual features (pass features= to run_protocol)")
        return self.features[getattr(self.split, part)]

    def Y(self, part: str) -> np.ndarray:
        """Labels of one part."""
        return self.labels[getattr(self.split, part)]

    def cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per split and ``key``, shared by every method of a run (a visual
        model two methods build on, neighbour tables). Keys are tuples led by a name."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def metadata_neighbours(self, M: int, metric: str = "jaccard") -> dict[str, NeighbourTable]:
        """Step 4: Jaccard neighbours of each part within the same part (global indices), cached."""
        return self.cached(("metadata_neighbours", M, metric),
                           lambda: split_neighbours(self.Z, self.split, M=M, metric=metric))


def split_data(
    bench: Benchmark,
    index: int = 0,
    *,
    n_splits: int = 5,
    seed: int = 0,
    features: np.ndarray | None = None,
    fractions: tuple[float, float, float] = LTN_FRACTIONS,
    every_image: bool = False,
) -> SplitData:
    """Split ``index`` of :func:`run_protocol`'s splits, as its methods see it (for figures
    that look inside one split: its neighbour tables, its test images)."""
    splits = protocol_splits(bench, n_splits, seed, fractions=fractions, every_image=every_image)
    if not 0 <= index < len(splits):
        raise ValueError(f"split index {index} outside 0..{len(splits) - 1}")
    return _split_data(bench, splits[index], features, seed, every_image)


def _split_data(
    bench: Benchmark, split: Split, features: np.ndarray | None, seed: int, every_image: bool = False
) -> SplitData:
    vocab = Vocabulary.top_frequent(bench.tokens, bench.tau, index=split.train)
    Z = vocab.encode(bench.tokens).tocsr()
    in_vocab = np.ones(Z.shape[0], dtype=bool) if every_image else np.diff(Z.indptr) > 0
    kept = replace(
        split,
        train=split.train[in_vocab[split.train]],
        val=split.val[in_vocab[split.val]],
        test=split.test[in_vocab[split.test]],
    )
    return SplitData(bench, kept, vocab, Z, features, seed)


# ----------------------------------------------------------------------------- running


@dataclass(frozen=True, eq=False)
class ProtocolResult:
    """Per-split metrics of every method on one benchmark.

    Attributes:
        bench: the benchmark set.
        splits: the splits as evaluated (after step 3).
        metrics: method -> one :func:`neighborlib.metrics.evaluate` dict per split.
        info: method -> one dict per split of what the method chose on validation.
        scores: method -> per split ``(n_test, L)`` test scores (kept when ``keep_scores``).
    """

    bench: Benchmark
    splits: list[Split]
    metrics: dict[str, list[dict[str, float]]]
    info: dict[str, list[dict[str, Any]]]
    scores: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def table(self, columns: Sequence[str] | None = None, digits: int = 3) -> pd.DataFrame:
        """Methods x metrics, each cell ``"mean ± std"`` over the splits."""
        rows = {m: _metrics.format_mean_std(_metrics.summarise(r), digits) for m, r in self.metrics.items()}
        df = pd.DataFrame(rows).T
        if columns is not None:
            df = df[list(columns)]
        df.index.name = "method"
        return df

    def means(self) -> pd.DataFrame:
        """Methods x metrics, the mean over the splits (floats)."""
        return pd.DataFrame({m: _metrics.summarise(r)["mean"] for m, r in self.metrics.items()}).T

    def records(self, **columns: Any) -> pd.DataFrame:
        """One row per (method, split): ``method``, ``split``, every metric and the method's
        scalar choices (``epoch``, ``s/epoch``, ...; fitted objects are left out), plus the
        constant ``columns`` given (e.g. ``m=3, M=6``) - a long table to save and to plot."""
        return pd.DataFrame([_record(columns, name, k, metrics, self.info[name][k])
                             for name, per_split in self.metrics.items() for k, metrics in enumerate(per_split)])

    def per_label_ap(self, method: str) -> np.ndarray:
        """``(L,)`` AP of each label for ``method``, the mean over the splits (needs ``keep_scores``)."""
        if method not in self.scores:
            raise KeyError(f"no scores kept for {method!r}: run the protocol with keep_scores=True")
        labels = self.bench.dataset.labels
        return np.mean([_metrics.average_precision_per_label(s, labels[split.test])
                        for s, split in zip(self.scores[method], self.splits)], axis=0)

    def caption(self) -> str:
        """The line every table states: set, image count and split sizes."""
        return _caption(self.bench, self.splits)


def _caption(bench: Benchmark, splits: Sequence[Split]) -> str:
    sizes = [(len(s.train), len(s.val), len(s.test)) for s in splits]
    if len(set(sizes)) == 1:
        part = "train {:,} / val {:,} / test {:,}".format(*sizes[0])
    else:
        lo, hi = np.min(sizes, axis=0), np.max(sizes, axis=0)
        part = " / ".join(f"{n} {a:,}-{b:,}" for n, a, b in zip(("train", "val", "test"), lo, hi))
    return f"{bench.describe()}; mean ± std over {len(splits)} seeded splits ({part} images)"


def describe_splits(
    bench: Benchmark,
    n_splits: int = 5,
    *,
    seed: int = 0,
    fractions: tuple[float, float, float] = LTN_FRACTIONS,
    every_image: bool = False,
) -> str:
    """The caption of a :func:`run_protocol` run of ``bench`` (set, image count, split sizes
    after step 3) without running it: for tables read back from a grid file."""
    splits = protocol_splits(bench, n_splits, seed, fractions=fractions, every_image=every_image)
    return _caption(bench, [_split_data(bench, s, None, seed, every_image).split for s in splits])


def _record(columns: Mapping[str, Any], name: str, split: int, metrics: Mapping[str, float],
            info: Mapping[str, Any]) -> dict[str, Any]:
    """One row of a long table: ``columns``, the method, the split, its metrics and its scalar choices."""
    scalars = {key: v for key, v in info.items() if isinstance(v, (int, float, str, np.number))}
    return {**columns, "method": name, "split": split, **metrics, **scalars}


class _Collector:
    """The bookkeeping a protocol run does for every fit: unpack ``scores`` or ``(scores, info)``,
    check the scores' shape, score them, keep metrics, info and (``keep_scores``) the scores per
    method, and advance a tqdm bar over ``total`` fits (``progress``)."""

    def __init__(self, names: Sequence[str], keep_scores: bool, progress: bool, total: int, desc: str, kind: str):
        self.metrics: dict[str, list] = {n: [] for n in names}
        self.info: dict[str, list] = {n: [] for n in names}
        self.scores: dict[str, list] = {n: [] for n in names} if keep_scores else {}
        self.kind = kind
        self.bar = None
        if progress:
            from tqdm import tqdm  # text bars: tqdm.auto warns without ipywidgets (and names its path)

            self.bar = tqdm(total=total, desc=desc, unit="fit")

    def add(self, name: str, out: Any, y_test: np.ndarray, score: Callable[[np.ndarray], dict[str, float]]) -> None:
        scores, info = out if isinstance(out, tuple) else (out, {})
        scores = np.asarray(scores)
        if scores.shape != y_test.shape:
            raise ValueError(f"{self.kind} {name!r} returned scores {scores.shape}; expected {y_test.shape}")
        self.metrics[name].append(score(scores))
        self.info[name].append(dict(info))
        if name in self.scores:
            self.scores[name].append(scores)
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_protocol(
    bench: Benchmark,
    methods: Mapping[str, Method],
    *,
    n_splits: int = 5,
    seed: int = 0,
    features: np.ndarray | None = None,
    ks: Sequence[int] = (3, 5),
    upper_bound: bool = True,
    keep_scores: bool = False,
    progress: bool = True,
    evaluator: Callable[[np.ndarray, np.ndarray], dict[str, float]] | None = None,
    fractions: tuple[float, float, float] = LTN_FRACTIONS,
    every_image: bool = False,
) -> ProtocolResult:
    """Run every method on the same seeded splits of ``bench`` and score it on each test part.

    Args:
        bench: a :class:`Benchmark`.
        methods: name -> method (see the module docstring).
        n_splits, seed: the splits (the papers use 5).
        features: ``(N, C)`` visual features aligned with ``bench.dataset`` (or ``None``).
        ks: top-k cut-offs of the P/R/F1 metrics.
        upper_bound: add the "Upper bound" row (scores = the true labels).
        keep_scores: keep every method's test scores in the result.
        progress: a tqdm bar over splits x methods.
        evaluator: ``(scores, targets) -> metrics`` of one split; default
            :func:`neighborlib.metrics.evaluate` with ``ks`` (MangoNet's chapter passes
            :func:`neighborlib.metrics.evaluate_mangonet`).
        fractions, every_image: the splits' proportions and whether step 1 (and step 3's
            dropping of images without in-vocabulary metadata) is skipped: see
            :func:`protocol_splits` (the weak-supervision chapter: :data:`WEAK_FRACTIONS`, all images).
    """
    if features is not None and len(features) != len(bench):
        raise ValueError(f"features has {len(features)} rows for the {len(bench)} images of {bench.title}")
    score = evaluator or (lambda s, t: _metrics.evaluate(s, t, ks=ks))
    splits = protocol_splits(bench, n_splits, seed, fractions=fractions, every_image=every_image)
    names = list(methods) + (["Upper bound"] if upper_bound else [])
    evaluated: list[Split] = []
    runs = _Collector(names, keep_scores, progress, len(splits) * len(methods), f"{bench.title} protocol", "method")
    try:
        for split in splits:
            data = _split_data(bench, split, features, seed, every_image)
            evaluated.append(data.split)
            y_test = data.Y("test")
            for name, method in methods.items():
                runs.add(name, method(data), y_test, lambda s: score(s, y_test))
            if upper_bound:
                runs.metrics["Upper bound"].append(score(y_test.astype(float), y_test))
                runs.info["Upper bound"].append({})
    finally:
        runs.close()
    return ProtocolResult(bench, evaluated, runs.metrics, runs.info, runs.scores)


def records_table(records: pd.DataFrame, columns: Sequence[str], methods: Sequence[str] | None = None,
                  digits: int = 3) -> pd.DataFrame:
    """Methods x ``columns`` of a long table (:meth:`ProtocolResult.records`, a grid file),
    each cell ``"mean ± std"`` over the method's rows (its splits), as :meth:`ProtocolResult.table`
    formats a run; rows in the order of ``methods`` (default: their first appearance)."""
    names = list(methods) if methods is not None else list(dict.fromkeys(records["method"]))
    missing = [m for m in names if not (records["method"] == m).any()]
    if missing:
        raise KeyError(f"no rows for method(s) {missing}")
    rows = {m: _metrics.format_mean_std(_metrics.summarise(records.loc[records["method"] == m, list(columns)].to_dict("records")),
                                        digits) for m in names}
    df = pd.DataFrame(rows).T
    df.index.name = "method"
    return df


def merge_records(path: str | os.PathLike, records: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Add ``records`` (:meth:`ProtocolResult.records` rows) to the long table at ``path``.

    Rows of the file that share their ``keys`` (e.g. set, images, method, m, M, split) with a
    new row are replaced, every other row is kept, so a grid can be run in pieces, in
    parallel into separate files or resumed after an interruption, and merged. The file is
    written atomically: an interrupted write leaves the previous table. Returns the merged
    table, sorted by ``keys``.

    Raises:
        ValueError: a key column is missing from ``records`` or from the file, or two new
            rows share their keys.
    """
    keys = list(keys)
    missing = [k for k in keys if k not in records.columns]
    if missing:
        raise ValueError(f"records lack the key column(s) {missing}")
    if records.duplicated(keys).any():
        first = records[records.duplicated(keys)].iloc[0]
        raise ValueError(f"two new rows share the keys {dict(first[keys])}")
    path = Path(path)
    merged = records
    if path.is_file():
        old = pd.read_csv(path)
        missing = [k for k in keys if k not in old.columns]
        if missing:
            raise ValueError(f"{path}: no key column(s) {missing} in the existing table")
        new_keys = pd.MultiIndex.from_frame(records[keys].astype(str))
        kept = old[~pd.MultiIndex.from_frame(old[keys].astype(str)).isin(new_keys)]
        merged = pd.concat([kept, records], ignore_index=True)
    merged = merged.sort_values(keys, kind="stable").reset_index(drop=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(merged.to_csv(index=False).encode("utf-8")))
    return merged


def run_grid(
    bench: Benchmark,
    fits: Sequence[tuple[str, Mapping[str, Any], Callable[[], Method]]],
    path: str | os.PathLike,
    *,
    n_splits: int = 5,
    seed: int = 0,
    features: np.ndarray | None = None,
    columns: Mapping[str, Any] | None = None,
    redo: bool = False,
    progress: bool = True,
    evaluator: Callable[[np.ndarray, np.ndarray], dict[str, float]] | None = None,
    fractions: tuple[float, float, float] = LTN_FRACTIONS,
    every_image: bool = False,
) -> pd.DataFrame:
    """A grid of protocol fits, each (fit, split) added to the long table at ``path`` as soon as it ends.

    The splits are :func:`run_protocol`'s. Within a split, the fits that share a setting share
    one :class:`SplitData` (its cache: neighbour tables, a visual model several methods build
    on), as the methods of one :func:`run_protocol` call do; so a fit's row equals that of a
    protocol run of the fits with its setting.

    Args:
        fits: ``(method name, setting, make)``: the setting's columns (e.g. ``{"m": 3, "M": 6}``;
            ``{}`` for none) and a function making the method; a name may recur with other settings.
        path: the grid file (:func:`merge_records`, keyed by ``set``, ``images``, ``seed``, the
            method, the setting's columns and the split).
        n_splits, seed, features, evaluator, fractions, every_image: as for :func:`run_protocol`.
        columns: constant columns of every row (device, epochs, ...).
        redo: run the (fit, split) pairs the file already has; by default they are skipped, so
            an interrupted grid resumes where it stopped and a grid can be run in pieces (a
            fit's seeds depend on its split and ``seed`` only, not on what ran before it).
        progress: a tqdm bar over the (fit, split) pairs to run.

    Returns:
        The file's whole table after the last fit.

    Raises:
        ValueError: the file exists without one of the key columns (a file of another layout).
    """
    path = Path(path)
    table = pd.read_csv(path) if path.is_file() else pd.DataFrame()
    constant = {"set": bench.title, "images": len(bench), "seed": int(seed), **(columns or {})}
    key_columns = ["set", "images", "seed", "method", *dict.fromkeys(k for _, setting, _ in fits for k in setting), "split"]
    if path.is_file():
        missing = [k for k in key_columns if k not in table.columns]
        if missing:
            raise ValueError(f"{path}: no key column(s) {missing}; it is not a grid file of this layout")

    def done(name: str, setting: Mapping[str, Any], k: int) -> bool:
        keys = {"set": bench.title, "images": len(bench), "seed": int(seed), "method": name, **setting, "split": k}
        if redo or not set(keys) <= set(table.columns):
            return False
        return bool(np.logical_and.reduce([(table[c] == v).to_numpy() for c, v in keys.items()]).any())

    todo = [[(name, dict(setting), make) for name, setting, make in fits if not done(name, setting, k)]
            for k in range(n_splits)]
    score = evaluator or _metrics.evaluate
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=sum(map(len, todo)), desc=f"{bench.title} grid", unit="fit")
    try:
        for split, pending in zip(protocol_splits(bench, n_splits, seed, fractions=fractions, every_image=every_image), todo):
            groups: dict[tuple, list] = {}
            for fit in pending:  # fits of one setting share a split's data, as in one protocol run
                groups.setdefault(tuple(sorted(fit[1].items(), key=str)), []).append(fit)
            for group in groups.values():
                data = _split_data(bench, split, features, seed, every_image)
                y_test = data.Y("test")
                for name, setting, make in group:
                    runs = _Collector([name], False, False, 1, "", "method")
                    runs.add(name, make()(data), y_test, lambda s: score(s, y_test))
                    row = _record({**constant, **setting}, name, split.index, runs.metrics[name][0], runs.info[name][0])
                    table = merge_records(path, pd.DataFrame([row]), [k for k in key_columns if k in row])
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return table


def training_subset(data: SplitData, fraction: float, key: int = 0) -> SplitData:
    """``data`` with a seeded ``fraction`` of its training part (validation and test unchanged):
    the training-set-size studies. The draw is the ``"fraction"`` stream keyed by the split,
    ``round(1000 fraction)`` and ``key``; smaller fractions are not nested in larger ones."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    n = max(1, int(round(fraction * len(data.train))))
    rng = stream(data.seed, "fraction", data.split.index, int(round(1000 * fraction)), key)
    train = np.sort(rng.choice(data.train, n, replace=False)) if n < len(data.train) else data.train
    return SplitData(data.bench, replace(data.split, train=train), data.vocabulary, data.Z, data.features, data.seed)


def reseeded(data: SplitData, seed: int) -> SplitData:
    """``data`` (the same split, a fresh cache) with another base ``seed`` for the methods' own
    streams (initialisation, batch order, sampled negatives): the spread a method shows over
    seeds on one split, its noise floor."""
    return SplitData(data.bench, data.split, data.vocabulary, data.Z, data.features, int(seed))


def on_training_subset(method: Method, fraction: float) -> Method:
    """``method`` trained on :func:`training_subset` ``(data, fraction)``: a training-size study's method."""
    return lambda data: method(training_subset(data, fraction))


def on_reseeded(method: Method, offset: int) -> Method:
    """``method`` run on :func:`reseeded` ``(data, data.seed + offset)``: one more seed of a
    seed study on the same split."""
    return lambda data: method(reseeded(data, data.seed + offset))


# ----------------------------------------------------------------------------- zero-shot labels


@dataclass(frozen=True)
class LabelSplit:
    """Fold ``index`` of :func:`label_splits`: label columns ``seen`` (trained on) and ``unseen``
    (held out: never a training target, never in a validation score), both sorted."""

    index: int
    seen: np.ndarray
    unseen: np.ndarray


def label_splits(n_labels: int, n_splits: int = 5, seed: int = 0) -> list[LabelSplit]:
    """The labels in ``n_splits`` random folds (stream ``"label-splits"``): fold ``s`` holds out
    fold ``s`` (a fifth of the labels for 5 folds; sizes differ by at most one), so every label
    is unseen in exactly one split."""
    if not 2 <= n_splits <= n_labels:
        raise ValueError(f"need 2 <= n_splits <= n_labels, got {n_splits} folds of {n_labels} labels")
    order = stream(seed, "label-splits").permutation(n_labels)
    folds = np.array_split(order, n_splits)
    return [LabelSplit(s, np.sort(np.concatenate([f for t, f in enumerate(folds) if t != s])), np.sort(fold))
            for s, fold in enumerate(folds)]


def seen_view(data: SplitData, labels: LabelSplit) -> SplitData:
    """``data`` as a zero-shot method may see it: the same images, only the ``seen`` label
    columns (``data.labels``, ``Y(part)`` and the benchmark's label names), a fresh cache."""
    ds = data.bench.dataset
    seen_names = [ds.label_names[j] for j in labels.seen]
    bench = replace(data.bench, dataset=ds.with_labels(seen_names))
    return SplitData(bench, data.split, data.vocabulary, data.Z, data.features, data.seed)


ZeroShotMethod = Callable[[SplitData, LabelSplit], np.ndarray]


@dataclass(frozen=True, eq=False)
class ZeroShotResult(ProtocolResult):
    """:class:`ProtocolResult` of :func:`run_zero_shot`: one row per *label split* of one image split.

    ``metrics`` and ``scores`` run over :attr:`label_splits` (``splits`` repeats the image
    split); scores are ``(n_test, L)`` over every label."""

    label_splits: list[LabelSplit] = field(default_factory=list)

    def per_label_ap(self, method: str) -> pd.DataFrame:  # type: ignore[override]
        """One row per label: its AP when unseen (its held-out fold) and, over the other folds,
        its mean AP when seen (needs ``keep_scores``)."""
        if method not in self.scores:
            raise KeyError(f"no scores kept for {method!r}: run with keep_scores=True")
        labels = self.bench.dataset.labels
        names = self.bench.dataset.label_names
        unseen = np.full(len(names), np.nan)
        seen: list[list[float]] = [[] for _ in names]
        for scores, split, ls in zip(self.scores[method], self.splits, self.label_splits):
            ap = _metrics.average_precision_per_label(scores, labels[split.test])
            unseen[ls.unseen] = ap[ls.unseen]
            for j in ls.seen:
                seen[j].append(ap[j])
        return pd.DataFrame({"AP unseen": unseen, "AP seen": [np.mean(v) if v else np.nan for v in seen]},
                            index=pd.Index(names, name="label"))

    def caption(self) -> str:
        s = self.splits[0]
        held = sorted({len(ls.unseen) for ls in self.label_splits})
        return (f"{self.bench.describe()}; image split {s.index} (train {len(s.train):,} / val {len(s.val):,} / "
                f"test {len(s.test):,} images); mean ± std over {len(self.label_splits)} label splits, "
                f"{' or '.join(map(str, held))} of {self.bench.dataset.n_labels} labels held out in each")


def run_zero_shot(
    bench: Benchmark,
    methods: Mapping[str, ZeroShotMethod],
    *,
    label_folds: int = 5,
    split_index: int = 0,
    n_splits: int = 5,
    seed: int = 0,
    features: np.ndarray | None = None,
    k: int = 3,
    keep_scores: bool = True,
    progress: bool = True,
    fractions: tuple[float, float, float] = LTN_FRACTIONS,
) -> ZeroShotResult:
    """Zero-shot labels: every method on image split ``split_index`` once per label fold.

    A method is ``method(seen: SplitData, labels: LabelSplit) -> (n_test, L)`` scores of
    **every** label for ``seen.test``: it trains and chooses on ``seen`` (:func:`seen_view`,
    the seen columns only) and ranks the unseen labels by what it knows of them (their word
    vectors). :func:`neighborlib.metrics.evaluate_zero_shot` scores each fold.
    """
    if features is not None and len(features) != len(bench):
        raise ValueError(f"features has {len(features)} rows for the {len(bench)} images of {bench.title}")
    splits = protocol_splits(bench, n_splits, seed, fractions=fractions)
    if not 0 <= split_index < len(splits):
        raise ValueError(f"split index {split_index} outside 0..{len(splits) - 1}")
    data = _split_data(bench, splits[split_index], features, seed)
    folds = label_splits(bench.dataset.n_labels, label_folds, seed)
    y_test = data.Y("test")
    runs = _Collector(list(methods), keep_scores, progress, len(folds) * len(methods), f"{bench.title} zero-shot",
                      "zero-shot method")
    try:
        for fold in folds:
            seen = seen_view(data, fold)
            for name, method in methods.items():
                runs.add(name, method(seen, fold), y_test,
                         lambda s: _metrics.evaluate_zero_shot(s, y_test, fold.unseen, k=k))
    finally:
        runs.close()
    return ZeroShotResult(bench, [data.split] * len(folds), runs.metrics, runs.info, runs.scores, label_splits=folds)
