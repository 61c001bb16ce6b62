"""Metadata maps π: what a joint model is fed, and what its neighbourhoods are built on.

The semantic-maps paper (Tesan, Coscia and Ballan, Section III-A) represents an image's
metadata ``o ∈ {0, 1}^τ`` in one of three ways:

* ``π = id`` - the binary tag vector itself (Eq. 4); neighbourhoods by Jaccard (Eq. 5);
* ``π = ρ(o; β)`` - the sum of the word vectors of the tags present (Eq. 6), with ``β``
  word2vec or WordNet embeddings; neighbourhoods by cosine distance (Eq. 7).

A map is built per protocol split (the vocabulary is the split's training vocabulary) by a
*map function* ``SplitData -> MetadataMap`` (:func:`identity`, :func:`embedded`), cached
on the split. The neighbourhood source that builds on a map is
:func:`neighborlib.neighbourhoods.by_map`.

**Scale.** ρ is divided by one number, the root mean square of its training rows' entries,
so that the network sees inputs of unit average variance (He initialisation assumes it),
while zero rows stay zero and cosine distances are unchanged. **Out of vocabulary.** A tag
without a vector adds nothing to ρ; an image all of whose tags miss gets ``ρ = 0``: it is
fed the zero vector (no metadata signal) and, having zero norm, is *isolated* for cosine
neighbourhoods (its neighbours are filler at distance 1, as for images without tags; see
:class:`~neighborlib.neighbours.NeighbourTable`). :attr:`MetadataMap.report` counts them.

**Vocabulary shift** (:func:`shifted`): training and validation rows encoded with one tag
vocabulary, test rows with another, both of the same size; for ``id`` the columns then
mean different tags at test time, for ρ both land in the same embedding space.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp
from gensim.models import KeyedVectors

from .embeddings import OOVReport, embed_metadata
from .protocol import SplitData

__all__ = ["MapFn", "MetadataMap", "embedded", "identity", "rms_scale", "shifted"]


@dataclass(frozen=True, eq=False)
class MetadataMap:
    """π of every image of a split.

    Attributes:
        name: ``"id"`` or the embedding's name (``"w2v"``, ``"wnet"``).
        values: ``(N, e)`` map of every image: binary CSR (``id``) or float32 ρ / ``scale``.
        metric: the neighbourhood distance on it: ``"jaccard"`` (``id``) or ``"cosine"``.
        scale: what ρ was divided by (1 for ``id``).
        report: the embedding's out-of-vocabulary report on this split's metadata (``None`` for ``id``).
    """

    name: str
    values: sp.csr_matrix | np.ndarray
    metric: str
    scale: float = 1.0
    report: OOVReport | None = None

    @property
    def dim(self) -> int:
        """``e``, the width of π."""
        return int(self.values.shape[1])


MapFn = Callable[[SplitData], MetadataMap]


def rms_scale(X: np.ndarray) -> float:
    """``sqrt(mean(X²))`` over every entry (1.0 for an all-zero ``X``)."""
    s = float(np.sqrt(np.mean(np.square(X, dtype=np.float64)))) if X.size else 0.0
    return s if s > 0 else 1.0


def _embedding(Z: sp.csr_matrix, vocabulary, vectors: KeyedVectors, name: str,
               train: np.ndarray) -> MetadataMap:
    rho, report = embed_metadata(Z, vocabulary, vectors)
    scale = rms_scale(rho[train])
    return MetadataMap(name, (rho / np.float32(scale)).astype(np.float32), "cosine", scale, report)


def identity() -> MapFn:
    """``π = id``: the split's binary metadata ``data.Z`` (``(N, τ)``), Jaccard neighbourhoods."""

    def fn(data: SplitData) -> MetadataMap:
        return MetadataMap("id", data.Z, "jaccard")

    fn.__name__ = "identity"
    return fn


def embedded(name: str, vectors: KeyedVectors) -> MapFn:
    """``π = ρ(o; β)`` (Eq. 6) with ``β = vectors``, on the split's vocabulary; cached on the
    split under ``name`` (use one name per set of vectors)."""

    def fn(data: SplitData) -> MetadataMap:
        return data.cached(("metadata_map", name),
                           lambda: _embedding(data.Z, data.vocabulary, vectors, name, data.train))

    fn.__name__ = f"embedded({name!r})"
    return fn


def shifted(name: str, vectors: KeyedVectors | None, overlap: float = 0.0, n_top: int = 10_000) -> MapFn:
    """The map under a vocabulary shift: the two vocabularies of
    :func:`neighborlib.neighbourhoods.overlap_vocabularies` (``n_top // 2`` tags each, sharing
    a fraction ``overlap``), the training one for the training and validation rows, the test
    one for the test rows. ``vectors = None`` gives ``π = id`` (binary vectors of the two
    vocabularies, column ``j`` meaning different tags); otherwise ρ of each vocabulary's tags,
    scaled by the training rows' RMS, and the OOV report of the test vocabulary."""
    from .neighbourhoods import overlap_vocabularies

    def build(data: SplitData) -> MetadataMap:
        tokens = data.bench.dataset.tokens("tags")
        train_vocab, test_vocab = overlap_vocabularies(data, overlap, n_top)
        Z_train, Z_test = train_vocab.encode(tokens).tocsr(), test_vocab.encode(tokens).tocsr()
        test_rows = np.zeros(Z_train.shape[0], dtype=bool)
        test_rows[data.test] = True
        if vectors is None:
            rows = sp.diags(test_rows.astype(np.float32))
            Z = (sp.diags((~test_rows).astype(np.float32)) @ Z_train + rows @ Z_test).tocsr()
            Z.eliminate_zeros()
            return MetadataMap("id", Z, "jaccard")
        train_map = _embedding(Z_train, train_vocab, vectors, name, data.train)
        rho_test, report = embed_metadata(Z_test, test_vocab, vectors)
        values = train_map.values.copy()
        values[test_rows] = rho_test[test_rows] / np.float32(train_map.scale)
        return MetadataMap(name, values, "cosine", train_map.scale, report)

    def fn(data: SplitData) -> MetadataMap:
        return data.cached(("metadata_map", "shifted", name, overlap, n_top), lambda: build(data))

    fn.__name__ = f"shifted({name!r}, {overlap})"
    return fn

