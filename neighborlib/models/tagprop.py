"""TagProp: a nearest-neighbour tagger whose neighbour weights are trained (rank-based variant).

Guillaumin, Mensink, Verbeek and Schmid, "TagProp: Discriminative metric learning in
nearest neighbor models for image auto-annotation", ICCV 2009. An image ``i`` takes the
labels of its ``K`` nearest training images ``j``, weighted by ``π_ij``:

    p(y_iw = 1) = Σ_j π_ij p(y_iw = 1 | j),   p(y_iw = 1 | j) = 1 - ε if y_jw = 1, else ε,

the paper's weighted nearest-neighbour model (Section 2, ε = 1e-5), with its
**rank-based** weights,

    π_ij = γ_k  when j is the k-th nearest neighbour of i,   γ_k ≥ 0,  Σ_k γ_k = 1,

so the prediction is ``p = ε + (1 - 2ε) x_iw`` with ``x_iw = Σ_k γ_k y_{j_k w}``.
**σTagProp** (the paper's word-specific logistic discriminant models, Section 2)
modulates the same neighbour prediction per label,

    p(y_iw = 1) = σ(α_w x_iw + β_w),

which lets a rare label reach a high probability when few of its neighbours carry it (the
paper's "boost the recall of rare words"). The ε-smoothing is an affine map of ``x`` and so
is absorbed by ``α_w, β_w`` here.

Both are fitted by maximising the log-likelihood of the training labels, each training
image predicted from its neighbours among the *other* training images,

    L = Σ_i Σ_w [y_iw log p_iw + (1 - y_iw) log(1 - p_iw)],

(the paper's objective with all cost weights ``c_iw = 1``). The paper alternates between
``γ`` and the ``(α_w, β_w)``; :class:`TagProp` instead optimises all parameters **jointly**
by full-batch L-BFGS (strong-Wolfe line search) in float64, with ``γ = softmax(θ)`` over
``K`` free parameters ``θ``: one deterministic solver, as for
:class:`~neighborlib.models.MultiLabelLogistic`, and no inner loop to tune. For the plain
model ``L`` is concave in ``γ`` (a sum of logs of functions linear in ``γ``), and every
stationary point in ``θ`` is a maximum on the simplex, so the fit heads for the global
maximum; for σTagProp it finds a local one, from a deterministic start (uniform ``γ``,
``α = 0``, ``β`` the smoothed log-odds of each label's training rate). On CPU a fit is
bit-for-bit repeatable on the same machine and thread count. (Starting σTagProp from the
plain model's ``γ`` instead was tried and is worse: the ranks the plain model zeroes
saturate the softmax, and the fit stalled at a local optimum with 2.6 times the objective
on a simulated problem of a protocol split's size, Q = 4,600 images, K = 200, L = 14.)
"""
from __future__ import annotations

import numpy as np
import torch

from ..device import resolve_device
from .linear import lbfgs_minimise, smoothed_log_odds

__all__ = ["TagProp"]


def _binary(a, name: str, ndim: int) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    if a.dtype != bool and not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must hold binary labels (0 or 1)")
    return a


class TagProp:
    """Rank-based TagProp (``sigmoid=False``) or σTagProp (``sigmoid=True``), see the module docstring.

    Args:
        sigmoid: the word-specific logistic model ``σ(α_w x_iw + β_w)``; ``False``: the plain
            model ``p = ε + (1 - 2ε) x_iw``.
        eps: the plain model's ``ε`` (``0 < ε < 1/2``; the paper's 1e-5).
        l2: weight of ``(l2 / 2) Σ_w (α_w² + β_w²)`` added to the per-image mean negative
            log-likelihood (σTagProp only; ``0`` for none). It only keeps ``α_w, β_w``
            finite where a label is constant or perfectly separated in training (the
            maximum-likelihood ``β_w`` of a label without positives is ``-∞``); ``γ`` lies on
            the simplex and is not penalised.
        max_iter: L-BFGS iterations at most.
        tol: stop when the largest gradient entry of the objective (per-image mean negative
            log-likelihood, plus the penalty) is below this. On a simulated problem of
            the size of a protocol split (Q = 4,600, K = 200, L = 14) the σ fit's objective at
            ``1e-6`` is within 3.2e-7 (relative 2e-6) of its value at ``1e-7``, in 387 rather
            than 613 iterations; the leading ``γ_k`` agree to four decimals and ``α_w`` to 0.01.
        device: where the fit runs (``"cpu"``, ``"cuda"``).

    Attributes (after :meth:`fit`):
        gamma: ``(K,)`` rank weights ``γ_k`` (nearest first), non-negative, summing to one.
        alpha, beta: ``(L,)`` the σ model's ``α_w, β_w`` (``None`` for the plain model).
        n_iter_: L-BFGS iterations taken.
        objective_: the minimised objective at the end of the fit.
    """

    def __init__(
        self,
        sigmoid: bool = True,
        eps: float = 1e-5,
        l2: float = 1e-5,
        max_iter: int = 1000,
        tol: float = 1e-6,
        device: str | torch.device = "cpu",
    ):
        if not 0 < eps < 0.5:
            raise ValueError(f"eps must lie in (0, 1/2), got {eps}")
        if l2 < 0:
            raise ValueError(f"l2 must be non-negative, got {l2}")
        self.sigmoid = bool(sigmoid)
        self.eps = float(eps)
        self.l2 = float(l2)
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.device = resolve_device(device)
        self.gamma: np.ndarray | None = None
        self.alpha: np.ndarray | None = None
        self.beta: np.ndarray | None = None
        self.n_iter_ = 0
        self.objective_ = float("nan")

    # ------------------------------------------------------------------ the model

    def _design(self, neighbour_labels) -> torch.Tensor:
        """``(Q, K, L)`` neighbour labels as a float64 ``(Q, L, K)`` tensor (``x = A @ γ``)."""
        a = _binary(neighbour_labels, "neighbour_labels", 3)
        if a.shape[1] == 0:
            raise ValueError(f"neighbour_labels must have K >= 1 neighbours, got shape {a.shape}")
        A = np.ascontiguousarray(a.transpose(0, 2, 1), dtype=np.float64)
        return torch.as_tensor(A, device=self.device)

    def _nll(self, A: torch.Tensor, Y: torch.Tensor, gamma, alpha, beta) -> torch.Tensor:
        """``(Q, L)`` negative log-likelihoods ``-log p(y_iw)`` of targets ``Y`` under the model."""
        x = A @ gamma  # (Q, L): x_iw = Σ_k γ_k y_{j_k w}
        if self.sigmoid:
            z = alpha * x + beta  # log-odds σ⁻¹(p_iw)
            return torch.nn.functional.softplus(z) - Y * z
        e = self.eps
        log_p = torch.log(e + (1 - 2 * e) * x)
        log_q = torch.log(e + (1 - 2 * e) * (1 - x))  # log(1 - p), without cancelling at x ≈ 1
        return -(Y * log_p + (1 - Y) * log_q)

    def _fitted(self) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        if self.gamma is None or (self.sigmoid and (self.alpha is None or self.beta is None)):
            raise RuntimeError("TagProp is not fitted")

        def t(v: np.ndarray | None) -> torch.Tensor | None:
            return None if v is None else torch.as_tensor(np.asarray(v, np.float64), device=self.device)

        return t(self.gamma), t(self.alpha) if self.sigmoid else None, t(self.beta) if self.sigmoid else None

    def _check_K(self, A: torch.Tensor) -> None:
        if self.gamma is not None and A.shape[2] != len(self.gamma):
            raise ValueError(f"the model was fitted with K = {len(self.gamma)} neighbours, got {A.shape[2]}")

    # ------------------------------------------------------------------ fitting and scoring

    def fit(self, neighbour_labels: np.ndarray, targets: np.ndarray) -> "TagProp":
        """Maximise the training log-likelihood.

        Args:
            neighbour_labels: ``(Q, K, L)`` binary labels of each training image's ``K`` nearest
                training neighbours, nearest first (the image itself excluded).
            targets: ``(Q, L)`` binary labels of the training images.

        The neighbour labels are held as one float64 tensor of ``8 Q K L`` bytes (103 MB for
        Q = 4,600, K = 200, L = 14); each L-BFGS step costs a few passes over it.
        """
        A = self._design(neighbour_labels)
        y = _binary(targets, "targets", 2)
        n, n_labels, K = A.shape
        if y.shape != (n, n_labels):
            raise ValueError(f"targets must have shape (Q, L) = {(n, n_labels)}, got {y.shape}")
        Y = torch.as_tensor(y, dtype=torch.float64, device=self.device)
        theta = torch.zeros(K, dtype=torch.float64, device=self.device, requires_grad=True)  # uniform γ
        params = [theta]
        alpha = beta = None
        if self.sigmoid:  # start at α = 0 and the smoothed log-odds of each label: the prior alone
            alpha = torch.zeros(n_labels, dtype=torch.float64, device=self.device, requires_grad=True)
            beta = torch.tensor(smoothed_log_odds(y), dtype=torch.float64, device=self.device)
            beta.requires_grad_(True)
            params += [alpha, beta]
        def objective() -> torch.Tensor:
            loss = self._nll(A, Y, torch.softmax(theta, 0), alpha, beta).sum() / n
            if self.sigmoid and self.l2 > 0:
                loss = loss + 0.5 * self.l2 * ((alpha * alpha).sum() + (beta * beta).sum())
            return loss

        self.n_iter_ = lbfgs_minimise(params, objective, self.max_iter, self.tol, 1e-14)
        with torch.no_grad():
            self.objective_ = float(objective())
            self.gamma = torch.softmax(theta, 0).detach().cpu().numpy().copy()
            if self.sigmoid:
                self.alpha = alpha.detach().cpu().numpy().copy()
                self.beta = beta.detach().cpu().numpy().copy()
        return self

    def predict(self, neighbour_labels: np.ndarray) -> np.ndarray:
        """``(Q', L)`` probabilities ``p(y_iw = 1)`` from ``(Q', K, L)`` binary neighbour labels
        (nearest first, the ``K`` of the fit)."""
        gamma, alpha, beta = self._fitted()
        A = self._design(neighbour_labels)
        self._check_K(A)
        with torch.no_grad():
            x = A @ gamma
            p = torch.sigmoid(alpha * x + beta) if self.sigmoid else self.eps + (1 - 2 * self.eps) * x
        return p.cpu().numpy()

    def log_likelihood(self, neighbour_labels: np.ndarray, targets: np.ndarray) -> float:
        """The paper's log-likelihood ``L`` per image, ``(1/Q) Σ_i Σ_w log p(y_iw)``, at the current
        ``gamma`` (and ``alpha``, ``beta``); no penalty. Shapes as in :meth:`fit`."""
        gamma, alpha, beta = self._fitted()
        A = self._design(neighbour_labels)
        self._check_K(A)
        y = _binary(targets, "targets", 2)
        if y.shape != A.shape[:2]:
            raise ValueError(f"targets must have shape (Q, L) = {tuple(A.shape[:2])}, got {y.shape}")
        Y = torch.as_tensor(y, dtype=torch.float64, device=self.device)
        with torch.no_grad():
            return -float(self._nll(A, Y, gamma, alpha, beta).sum()) / A.shape[0]
