"""One-vs-all L2 logistic regression on dense features, all labels in one torch problem.

The LTN paper's **visual-only** baseline ("CNN + logistic") is a linear classifier per
label on frozen CNN features. Fitting 24-80 separate scikit-learn models on 15k x 1280
features is slow on two cores, so :class:`MultiLabelLogistic` minimises the *same*
objective as ``sklearn.linear_model.LogisticRegression(C=C)`` for every label at once,

    min_{W, b}  sum_j [ ½ ||w_j||² + C sum_i log(1 + exp(-s_ij (w_jᵀ x_i + b_j))) ],

with ``s_ij = 2 y_ij - 1`` and unpenalised intercepts, by full-batch L-BFGS in torch
(the labels are independent, so the joint minimiser is each label's own minimiser;
the tests check it against scikit-learn). The features are standardised with the
training mean and standard deviation first (``standardise=True``), which the
objective then sees. Everything runs on ``device``; on CPU a fit is bit-for-bit
repeatable on the same machine and thread count.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..device import resolve_device

__all__ = ["MultiLabelLogistic", "lbfgs_minimise", "smoothed_log_odds"]


def smoothed_log_odds(Y: np.ndarray) -> np.ndarray:
    """``(L,)`` log-odds of each label's rate in ``Y`` ``(N, L)``, smoothed as ``(n_pos + 1) / (N + 2)``:
    the best intercepts when nothing else is known (the start of the logistic fits)."""
    rate = (Y.sum(axis=0) + 1.0) / (Y.shape[0] + 2.0)
    return np.log(rate / (1 - rate))


def lbfgs_minimise(
    params: list[torch.Tensor], objective, max_iter: int, tol: float, tolerance_change: float
) -> int:
    """Minimise ``objective()`` (a scalar tensor of ``params``) by full-batch L-BFGS with a
    strong-Wolfe line search (history 20, step 1), in place; return the iterations it ran."""
    opt = torch.optim.LBFGS(
        params, lr=1, max_iter=max_iter, tolerance_grad=tol, tolerance_change=tolerance_change,
        history_size=20, line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    opt.step(closure)
    return int(opt.state[opt._params[0]].get("n_iter", 0))


class MultiLabelLogistic:
    """L2-regularised one-vs-all logistic regression, fitted jointly by L-BFGS.

    Args:
        C: inverse regularisation strength (scikit-learn's convention).
        standardise: centre and scale the features with the training statistics.
        max_iter: L-BFGS iterations at most.
        tol: stop when the largest gradient entry of the (N-scaled) objective is below this.
        device: where the fit runs (``"cpu"``, ``"cuda"``).
        dtype: ``torch.float64`` (default; matches scikit-learn closely) or ``torch.float32``.

    Attributes (after :meth:`fit`):
        coef_: ``(L, C_in)`` weights (in the standardised space when ``standardise``).
        intercept_: ``(L,)``.
        n_iter_: L-BFGS iterations taken.
    """

    def __init__(
        self,
        C: float = 1.0,
        standardise: bool = True,
        max_iter: int = 500,
        tol: float = 1e-6,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float64,
    ):
        if not C > 0:
            raise ValueError(f"C must be positive, got {C}")
        self.C = float(C)
        self.standardise = standardise
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.device = resolve_device(device)
        self.dtype = dtype
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None
        self.n_iter_ = 0
        self._mean: np.ndarray | None = None
        self._scale: np.ndarray | None = None

    def _prepare(self, X: np.ndarray) -> torch.Tensor:
        X = np.asarray(X, dtype=np.float64)
        if not np.isfinite(X).all():
            bad = np.argwhere(~np.isfinite(X))[0]
            raise ValueError(f"features contain NaN or inf (row {bad[0]}, column {bad[1]})")
        if self._mean is not None:
            X = (X - self._mean) / self._scale
        return torch.as_tensor(X, dtype=self.dtype, device=self.device)

    def fit(
        self, X: np.ndarray, Y: np.ndarray, init: "MultiLabelLogistic | None" = None
    ) -> "MultiLabelLogistic":
        """Fit on ``X`` ``(N, D)`` features and ``Y`` ``(N, L)`` binary labels.

        ``init``: a fitted model on the same data to start from (warm start along a C path).
        """
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y)
        if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
            raise ValueError(f"X must be (N, D) and Y (N, L) with the same N, got {X.shape} and {Y.shape}")
        if self.standardise:
            self._mean = X.mean(axis=0)
            scale = X.std(axis=0)
            self._scale = np.where(scale > 0, scale, 1.0)
        x = self._prepare(X)
        s = torch.as_tensor(2.0 * Y - 1.0, dtype=self.dtype, device=self.device)  # (N, L) in {-1, 1}
        n, d = x.shape
        n_labels = Y.shape[1]
        W = torch.zeros(d, n_labels, dtype=self.dtype, device=self.device)
        b = torch.zeros(n_labels, dtype=self.dtype, device=self.device)
        if init is not None and init.coef_ is not None:
            W = torch.as_tensor(init.coef_.T.copy(), dtype=self.dtype, device=self.device)
            b = torch.as_tensor(init.intercept_.copy(), dtype=self.dtype, device=self.device)
        else:  # start at the log-odds of each label's rate (smoothed): the optimum of b alone
            b = torch.as_tensor(smoothed_log_odds(Y), dtype=self.dtype, device=self.device)
        W.requires_grad_(True)
        b.requires_grad_(True)
        scale = 1.0 / (self.C * n)  # the objective / (C N): same minimiser, O(1) gradients

        def objective() -> torch.Tensor:
            margin = s * (x @ W + b)
            return torch.nn.functional.softplus(-margin).sum() / n + 0.5 * scale * (W * W).sum()

        self.n_iter_ = lbfgs_minimise([W, b], objective, self.max_iter, self.tol, 1e-12)
        self.coef_ = W.detach().T.cpu().numpy().copy()
        self.intercept_ = b.detach().cpu().numpy().copy()
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Log-odds ``w_jᵀ x + b_j``, shape ``(N, L)``."""
        if self.coef_ is None or self.intercept_ is None:
            raise RuntimeError("MultiLabelLogistic is not fitted")
        x = self._prepare(X)
        with torch.no_grad():
            W = torch.as_tensor(self.coef_.T, dtype=self.dtype, device=self.device)
            b = torch.as_tensor(self.intercept_, dtype=self.dtype, device=self.device)
            return (x @ W + b).cpu().numpy()

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``σ(w_jᵀ x + b_j)``, shape ``(N, L)``."""
        return 1.0 / (1.0 + np.exp(-self.decision_function(X)))

    @classmethod
    def select_C(
        cls,
        X_train: np.ndarray,
        Y_train: np.ndarray,
        X_val: np.ndarray,
        Y_val: np.ndarray,
        grid: Sequence[float] = (3e-4, 1e-3, 3e-3),
        extend: int = 0,
        **kwargs,
    ) -> tuple["MultiLabelLogistic", dict[float, float]]:
        """Fit every ``C`` of ``grid`` (ascending, warm-started) and keep the best by validation mAP.

        Args:
            grid: candidate ``C`` values (sorted here).
            extend: steps past an end of the grid that holds the best ``C``
                (:func:`~neighborlib.models.selection.select_on_grid`), so that a grid does
                not silently clip the optimum.
            **kwargs: passed to the constructor (``tol``, ``device`` ...).

        Returns:
            ``(best fitted model, {C: validation per-label mAP})``; ties go to the smaller ``C``.
        """
        from .selection import select_fitted

        return select_fitted(
            lambda C, start: cls(C=C, **kwargs).fit(X_train, Y_train, init=start), X_val, Y_val, grid, extend
        )
