"""Where a neighbourhood model's neighbours come from, part by part.

A *source* maps one protocol split and a max rank ``M`` to the three neighbour tables a
model uses: ``{"train": ..., "val": ..., "test": ...}``, each holding the ``M`` nearest
images of every image of that part **within the same part** (global indices; a test
image never sees a training image's metadata, LTN Section 3). Each source below is one
of the LTN paper's experiments:

* :func:`metadata` - Jaccard neighbours by the benchmark's own metadata (the main model);
* :func:`visual` - cosine neighbours by the CNN features ("visual neighbors", Table 3;
  the paper uses Euclidean distance, which on L2-normalised features gives the same order);
* :func:`metadata_kinds` - train (and validate) with one kind of metadata, test with
  another (Table 4: tags, groups, sets);
* :func:`vocabulary_overlap` - train and test tag vocabularies drawn from the most
  frequent training tags with a given overlap (Figure 8);
* :func:`by_map` - neighbours on a metadata map π of :mod:`neighborlib.maps` (the
  semantic-maps paper's ``n``: Jaccard for ``id``, cosine for ρ, Eq. 5 and 7).

Validation neighbours are always built like the training ones: model selection sees
only what training sees. Every table is cached on the split (:meth:`SplitData.cached`).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse as sp

from .data import Vocabulary
from .neighbours import NeighbourTable, split_neighbours
from .protocol import SplitData
from .seeding import stream

__all__ = [
    "Source", "by_map", "isolated_fraction", "kind_metadata", "metadata", "metadata_kinds", "overlap_vocabularies", "visual",
    "vocabulary_overlap",
]

Tables = dict[str, NeighbourTable]
Source = Callable[[SplitData, int], Tables]


def metadata(data: SplitData, M: int) -> Tables:
    """Jaccard neighbours by the benchmark's metadata in the split's vocabulary (τ tokens)."""
    return data.metadata_neighbours(M)


def visual(data: SplitData, M: int) -> Tables:
    """Cosine neighbours by the visual features, within each part."""
    if data.features is None:
        raise ValueError("visual neighbours need the run's features (pass features= to run_protocol)")
    return data.cached(("visual_neighbours", M), lambda: split_neighbours(data.features, data.split, M=M, metric="cosine"))


def by_map(map_fn) -> Source:
    """Neighbours by a metadata map (``map_fn``: a :mod:`neighborlib.maps` map function),
    with the map's metric, within each part; ``maps.identity()`` gives :func:`metadata`'s tables."""

    def source(data: SplitData, M: int) -> Tables:
        pi = map_fn(data)
        if pi.name == "id" and pi.values is data.Z:
            return metadata(data, M)
        return data.cached(("map_neighbours", map_fn.__name__, M),
                           lambda: split_neighbours(pi.values, data.split, M=M, metric=pi.metric))

    source.__name__ = f"by_map({map_fn.__name__})"
    return source


def kind_metadata(data: SplitData, kind: str) -> sp.csr_matrix:
    """``(N, |T|)`` binary metadata of one kind, vocabulary fitted on the training part:
    the τ most frequent for tags, every value for groups and sets (LTN Section 3.1)."""
    def encode() -> sp.csr_matrix:
        tokens = data.bench.dataset.tokens(kind)
        size = data.bench.tau if kind == "tags" else None
        return Vocabulary.top_frequent(tokens, size, index=data.train).encode(tokens)

    return data.cached(("kind_metadata", kind), encode)


def _kind_tables(data: SplitData, kind: str, M: int) -> Tables:
    return data.cached(("kind_neighbours", kind, M),
                       lambda: split_neighbours(kind_metadata(data, kind), data.split, M=M))


def metadata_kinds(train_kind: str, test_kind: str) -> Source:
    """Neighbours by ``train_kind`` for training and validation, by ``test_kind`` at test time.

    Images lacking a kind are *isolated* for it (their neighbours are filler at distance 1,
    :class:`~neighborlib.neighbours.NeighbourTable`); use a benchmark whose images carry
    every kind compared (the chapter's synthetic set does).
    """

    def source(data: SplitData, M: int) -> Tables:
        train = _kind_tables(data, train_kind, M)
        return {"train": train["train"], "val": train["val"], "test": _kind_tables(data, test_kind, M)["test"]}

    source.__name__ = f"metadata_kinds({train_kind!r}, {test_kind!r})"
    return source


def overlap_vocabularies(
    data: SplitData, overlap: float, n_top: int = 10_000
) -> tuple[Vocabulary, Vocabulary]:
    """The Figure 8 vocabularies: two halves of the ``n_top`` most frequent training tags.

    The ``n_top`` tags are shuffled (stream ``"vocabulary"``, keyed by the split) and cut in
    halves of ``h = n_top // 2``; the training vocabulary is the first half, the test
    vocabulary the first ``round(overlap h)`` tags of it followed by ``h - round(overlap h)``
    tags of the second half. Overlap 1 gives one vocabulary; 0 gives disjoint ones.
    """
    if not 0.0 <= overlap <= 1.0:
        raise ValueError(f"overlap must be in [0, 1], got {overlap}")
    tokens = data.bench.dataset.tokens("tags")
    top = Vocabulary.top_frequent(tokens, n_top, index=data.train).tokens
    half = len(top) // 2
    order = stream(data.seed, "vocabulary", data.split.index).permutation(len(top))
    shuffled = [top[i] for i in order]
    shared = int(round(overlap * half))
    return Vocabulary(tuple(shuffled[:half])), Vocabulary(tuple(shuffled[:shared] + shuffled[half:2 * half - shared]))


def vocabulary_overlap(overlap: float, n_top: int = 10_000) -> Source:
    """Training (and validation) neighbours by the training vocabulary, test neighbours by
    the test vocabulary of :func:`overlap_vocabularies`. An image with no tag in a vocabulary
    is isolated in it (filler neighbours); :func:`isolated_fraction` reports how many."""

    def source(data: SplitData, M: int) -> Tables:
        def tables() -> Tables:
            tokens = data.bench.dataset.tokens("tags")
            train_vocab, test_vocab = overlap_vocabularies(data, overlap, n_top)
            train = split_neighbours(train_vocab.encode(tokens), data.split, M=M)
            test = split_neighbours(test_vocab.encode(tokens), data.split, M=M)
            return {"train": train["train"], "val": train["val"], "test": test["test"]}

        return data.cached(("vocabulary_overlap", overlap, n_top, M), tables)

    source.__name__ = f"vocabulary_overlap({overlap})"
    return source


def isolated_fraction(tables: Tables) -> dict[str, float]:
    """Per part, the fraction of images without metadata in the source's vocabulary."""
    return {part: float(np.mean(t.isolated)) if len(t) else 0.0 for part, t in tables.items()}
