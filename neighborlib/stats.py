"""Dataset statistics and how much metadata neighbours share labels.

* :func:`dataset_statistics` - the LTN paper's Table 1 (labels and tags per image,
  images per label and per tag; mean and median).
* :func:`label_neighbour_curve` - the LTN paper's Figure 6: for each label ``j``
  and rank ``k``, the probability that an image's ``k``-th nearest metadata
  neighbour has label ``j`` given that the image has it,
  ``P(y_{n_k(i), j} = 1 | y_{i j} = 1)``, to be read against the base rate
  ``P(y_j = 1)``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["dataset_statistics", "label_neighbour_curve", "base_rates"]


def _mean_median(counts: np.ndarray) -> tuple[float, float]:
    if counts.size == 0:
        return float("nan"), float("nan")
    return float(np.mean(counts)), float(np.median(counts))


def dataset_statistics(labels: np.ndarray, metadata: sp.spmatrix | None, name: str = "") -> pd.Series:
    """LTN Table 1 statistics for one dataset.

    Args:
        labels: ``(N, L)`` binary label matrix.
        metadata: ``(N, τ)`` binary metadata matrix (e.g. :meth:`Vocabulary.encode`),
            or ``None`` for a labels-only dataset (the tag rows are then NaN).
        name: the Series name (a column of the book's table).

    Returns:
        A Series: images, labels, vocabulary size τ, images with no tag, and the
        mean / median of labels per image, tags per image, images per label and
        images per tag (tags: within the vocabulary; images per tag counts only
        tags used at least once).
    """
    labels = np.asarray(labels)
    nan = float("nan")
    if metadata is None:
        tags_per_image = images_per_tag = np.zeros(0)
        vocabulary_size, untagged = nan, nan
    else:
        z = sp.csr_matrix(metadata)
        if z.shape[0] != labels.shape[0]:
            raise ValueError(f"labels has {labels.shape[0]} rows but metadata has {z.shape[0]}")
        z = (z > 0).astype(np.int64)
        tags_per_image = np.asarray(z.sum(axis=1)).ravel()
        images_per_tag = np.asarray(z.sum(axis=0)).ravel()
        images_per_tag = images_per_tag[images_per_tag > 0]
        vocabulary_size, untagged = z.shape[1], int((tags_per_image == 0).sum())
    rows = {
        "images": labels.shape[0],
        "labels": labels.shape[1],
        "tag vocabulary (τ)": vocabulary_size,
        "images without tags": untagged,
    }
    for what, counts in (
        ("labels per image", labels.sum(axis=1)),
        ("tags per image", tags_per_image),
        ("images per label", labels.sum(axis=0)),
        ("images per tag", images_per_tag),
    ):
        mean, median = _mean_median(np.asarray(counts, dtype=np.float64))
        rows[f"{what} (mean)"] = mean
        rows[f"{what} (median)"] = median
    return pd.Series(rows, name=name, dtype=object)


def base_rates(labels: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``(L,)`` fraction of images (optionally within ``mask``) carrying each label."""
    labels = np.asarray(labels, dtype=np.float64)
    if mask is not None:
        labels = labels[np.asarray(mask, dtype=bool)]
    return labels.mean(axis=0)


def label_neighbour_curve(
    neighbour_indices: np.ndarray,
    labels: np.ndarray,
    query_index: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """LTN Figure 6: label agreement of the ``k``-th metadata neighbour.

    Args:
        neighbour_indices: ``(Q, K)`` indices into ``labels`` of each query's
            neighbours, nearest first (e.g. ``NeighbourTable.indices``).
        labels: ``(N, L)`` binary labels.
        query_index: ``(Q,)`` index into ``labels`` of each query (default: ``0..Q-1``).
        mask: which entries to count: ``(Q,)`` bool per query (e.g. ``~table.isolated`` to
            leave out images without metadata), or ``(Q, K)`` bool per neighbour entry (e.g.
            ``table.distances < 1`` to leave out "neighbours" that share no tag: fillers at
            distance 1, the lowest-index candidates, for queries with few overlapping images).

    Returns:
        ``(L, K)`` array ``C[j, k-1] = P(y_{n_k(i), j} = 1 | y_{i j} = 1)`` over the counted
        entries of rank ``k``; NaN for a label no counted entry of that rank carries.
    """
    nbr = np.asarray(neighbour_indices, dtype=np.int64)
    y = np.asarray(labels, dtype=np.float64)
    q = np.arange(nbr.shape[0]) if query_index is None else np.asarray(query_index, dtype=np.int64)
    if q.shape[0] != nbr.shape[0]:
        raise ValueError(f"query_index has {q.shape[0]} entries for {nbr.shape[0]} neighbour rows")
    if mask is None:
        weight = np.ones(nbr.shape)
    else:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape == (nbr.shape[0],):
            weight = np.repeat(mask[:, None], nbr.shape[1], axis=1).astype(np.float64)
        elif mask.shape == nbr.shape:
            weight = mask.astype(np.float64)
        else:
            raise ValueError(f"mask must have shape ({nbr.shape[0]},) or {nbr.shape}, got {mask.shape}")
    yq = y[q]  # (Q, L)
    positives = np.einsum("ql,qk->lk", yq, weight)  # counted queries with label j at rank k
    # hits[j, k] = sum_i w_ik y[q_i, j] y[n_k(i), j]
    hits = np.einsum("ql,qk,qkl->lk", yq, weight, y[nbr])
    with np.errstate(invalid="ignore", divide="ignore"):
        return hits / positives
