"""Baselines that need no network.

:class:`TagLogistic` is the LTN paper's "tag-only" baseline: one-vs-all logistic
regression on the binary metadata vector ``z ∈ {0, 1}^τ`` of an image (no pixels).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

__all__ = ["TagLogistic", "knn_vote"]


def knn_vote(neighbour_indices: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The LTN paper's kNN voting baselines: a label's score is the fraction of neighbours carrying it.

    With neighbours found by CNN features this is "CNN kNN voting"; with metadata
    neighbours, "neighbourhood voting".

    Args:
        neighbour_indices: ``(Q, k)`` indices into ``labels`` (e.g. training images).
        labels: ``(N, L)`` binary labels of the candidates.

    Returns:
        ``(Q, L)`` float64 scores in ``[0, 1]``.
    """
    idx = np.asarray(neighbour_indices, dtype=np.int64)
    if idx.ndim != 2 or idx.shape[1] == 0:
        raise ValueError(f"neighbour_indices must have shape (Q, k) with k >= 1, got {idx.shape}")
    return np.asarray(labels, dtype=np.float64)[idx].mean(axis=1)


class TagLogistic:
    """One-vs-all L2-regularised logistic regression on binary metadata.

    Each label ``j`` gets ``p(y_j = 1 | z) = σ(w_jᵀ z + b_j)`` fitted by liblinear,
    which is single-threaded and deterministic, so scores are bit-for-bit
    reproducible on CPU. A label with a single class in the training set gets a
    constant score: the log-odds of its Laplace-smoothed training rate ``(n_pos + 1) / (N + 2)``.

    Args:
        C: inverse regularisation strength (scikit-learn's convention).
        seed: liblinear's random state.
    """

    def __init__(self, C: float = 1.0, seed: int = 0):
        self.C = C
        self.seed = seed
        self.coef_: np.ndarray | None = None  # (L, τ)
        self.intercept_: np.ndarray | None = None  # (L,)

    def fit(self, Z: sp.spmatrix, Y: np.ndarray) -> "TagLogistic":
        """Fit on ``Z`` ``(N, τ)`` binary metadata and ``Y`` ``(N, L)`` binary labels."""
        Z = sp.csr_matrix(Z, dtype=np.float64)
        Y = np.asarray(Y)
        if Z.shape[0] != Y.shape[0]:
            raise ValueError(f"Z has {Z.shape[0]} rows but Y has {Y.shape[0]}")
        n_labels = Y.shape[1]
        coef = np.zeros((n_labels, Z.shape[1]))
        intercept = np.zeros(n_labels)
        for j in range(n_labels):
            y = Y[:, j]
            positives = int(y.sum())
            if positives in (0, len(y)):
                smoothed = (positives + 1) / (len(y) + 2)  # Laplace: never exactly 0 or 1
                intercept[j] = np.log(smoothed / (1 - smoothed))
                continue
            clf = LogisticRegression(C=self.C, solver="liblinear", random_state=self.seed, max_iter=1000)
            clf.fit(Z, y)
            coef[j] = clf.coef_[0]
            intercept[j] = clf.intercept_[0]
        self.coef_, self.intercept_ = coef, intercept
        return self

    def decision_function(self, Z: sp.spmatrix) -> np.ndarray:
        """Log-odds ``w_jᵀ z + b_j``, shape ``(N, L)``."""
        if self.coef_ is None or self.intercept_ is None:
            raise RuntimeError("TagLogistic is not fitted")
        Z = sp.csr_matrix(Z, dtype=np.float64)
        return np.asarray(Z @ self.coef_.T) + self.intercept_

    def predict_proba(self, Z: sp.spmatrix) -> np.ndarray:
        """``σ(w_jᵀ z + b_j)``, shape ``(N, L)``."""
        return 1.0 / (1.0 + np.exp(-self.decision_function(Z)))

    @classmethod
    def select_C(
        cls,
        Z_train: sp.spmatrix,
        Y_train: np.ndarray,
        Z_val: sp.spmatrix,
        Y_val: np.ndarray,
        grid: Sequence[float] = (0.1, 1.0, 10.0),
        extend: int = 0,
        seed: int = 0,
    ) -> tuple["TagLogistic", dict[float, float]]:
        """Pick ``C`` from ``grid`` by per-label mAP on the validation set.

        ``extend``: steps past an end of the grid that holds the best ``C``
        (:func:`~neighborlib.models.selection.select_on_grid`).

        Returns:
            ``(best fitted model, {C: validation mAP})``; ties go to the smaller ``C``.
        """
        from .selection import select_fitted

        # liblinear starts from zero: no warm start from the neighbouring C
        return select_fitted(lambda C, start: cls(C=C, seed=seed).fit(Z_train, Y_train), Z_val, Y_val, grid, extend)
