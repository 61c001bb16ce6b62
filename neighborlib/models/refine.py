"""Tag-refinement and annotation baselines of the weakly-supervised annotation paper.

The AAAI paper's section "Baselines and Compared Methods" compares against the
following methods, most of them as surveyed by Li et al. (2016), "Socializing the
semantic gap" (ACM Computing Surveys 49(1)):

- :func:`random_guess` - RandomGuess (Li et al. 2016): uniform random tag scores,
  averaged over 80 runs;
- :func:`user_tags` - UserTags (Li et al. 2016): the user tags themselves;
- :func:`tag_cooccur` - TagCooccur (Sigurbjörnsson & van Zwol, WWW 2008):
  co-occurrence voting with stability, descriptiveness and rank promotion;
- :func:`tag_vote` - TagVote (Li, Snoek & Worring, IEEE TMM 2009): neighbour votes
  minus the prior;
- :func:`cca_knn` - CCA (Murthy, Maji & Manmatha, ICMR 2015): kNN tag transfer in
  a regularised CCA space scaled as in Gong et al. (IJCV 2014);
- :func:`rpca` - RPCA (Zhu, Yan & Ma, ACM MM 2010): the low-rank part of robust PCA
  of the tag matrix, by the inexact augmented Lagrange multiplier method of
  Lin, Chen & Ma (2010).

Shapes: ``N`` pool (training) images, ``Q`` query images, ``C`` tags, ``d`` feature
dimensions. Tag matrices are binary ``(N, C)`` numpy arrays or scipy sparse
matrices; features are real ``(N, d)`` arrays. Every function returns float64
numpy scores, higher = more relevant, and keeps no state between calls.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..neighbours import cosine_neighbours

__all__ = ["cca_knn", "random_guess", "rpca", "tag_cooccur", "tag_vote", "user_tags"]


# ----------------------------------------------------------------------------- input handling


def _first_bad(mask: np.ndarray) -> tuple[int, int]:
    r, c = np.argwhere(mask)[0]
    return int(r), int(c)


def _sparse_row(X: sp.csr_matrix, position: int) -> int:
    """Row of the ``position``-th stored entry of a CSR matrix."""
    return int(np.searchsorted(X.indptr, position, side="right") - 1)


def _tags(G: Any, name: str) -> sp.csr_matrix:
    """``G`` as a float64 CSR matrix after checking it is 2-D, finite and binary."""
    if sp.issparse(G):
        X = sp.csr_matrix(G, dtype=np.float64, copy=True)
        if X.ndim != 2:
            raise ValueError(f"{name} must be a 2-D tag matrix, got shape {X.shape}")
        X.sum_duplicates()
        X.eliminate_zeros()
        bad = ~np.isfinite(X.data) | (X.data != 1.0)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            r, c = _sparse_row(X, pos), int(X.indices[pos])
            raise ValueError(f"{name} must be a binary tag matrix; row {r}, column {c} holds {X.data[pos]}")
        X.sort_indices()
        return X
    arr = np.asarray(G)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D tag matrix, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers (0/1), got dtype {arr.dtype}")
    bad = (arr != 0) & (arr != 1)  # NaN compares unequal to both
    if bad.any():
        r, c = _first_bad(bad)
        raise ValueError(f"{name} must be a binary tag matrix; row {r}, column {c} holds {arr[r, c]}")
    return sp.csr_matrix(arr, dtype=np.float64)


def _features(X: Any, name: str) -> np.ndarray:
    """``X`` as a dense float64 ``(n, d)`` array; NaN or inf is refused, naming its row."""
    arr = X.toarray() if sp.issparse(X) else np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n, d), got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be real, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr)
    if not finite.all():
        r, c = _first_bad(~finite)
        raise ValueError(f"{name} has NaN or inf at row {r} (column {c}: {arr[r, c]})")
    return arr


def _count(name: str, value: Any) -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not ok or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _positive(name: str, value: Any) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def _vote(indices: np.ndarray, weights: np.ndarray, G: sp.csr_matrix) -> np.ndarray:
    """``Σ_j weights[q, j] · G[indices[q, j]]`` for every query ``q``: ``(Q, C)`` float64.

    One sparse product: a repeated neighbour counts once per occurrence.
    """
    Q, k = indices.shape
    A = sp.csr_matrix(
        (weights.ravel(), indices.ravel(), np.arange(0, Q * k + 1, k, dtype=np.int64)),
        shape=(Q, G.shape[0]),
    )
    return np.asarray((A @ G).toarray(), dtype=np.float64)


# ----------------------------------------------------------------------------- the baselines


def random_guess(n_images: int, n_tags: int, repeats: int = 80, *, rng: np.random.Generator) -> np.ndarray:
    """RandomGuess (Li et al. 2016): the mean of ``repeats`` uniform random tag scorings.

    Each run draws every score i.i.d. from ``U[0, 1)``; the paper runs it eighty times
    and evaluates the averaged scores. The mean of ``R`` draws has expectation 1/2 and
    standard deviation ``sqrt(1 / (12 R))``. Runs are drawn one after another from
    ``rng`` (memory ``O(n_images · n_tags)``), so equal generators give equal scores.

    Args:
        n_images: number of images ``N``.
        n_tags: vocabulary size ``C``.
        repeats: number of runs ``R``.
        rng: the generator, e.g. ``neighborlib.seeding.stream(seed, "sampling")``.

    Returns:
        ``(N, C)`` float64 scores in ``[0, 1)``.
    """
    n_images, n_tags = _count("n_images", n_images), _count("n_tags", n_tags)
    repeats = _count("repeats", repeats)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (seeding.stream), got {type(rng).__name__}")
    total = np.zeros((n_images, n_tags))
    for _ in range(repeats):
        total += rng.random((n_images, n_tags))
    return total / repeats


def user_tags(G: Any) -> np.ndarray:
    """UserTags (Li et al. 2016): the user-provided tags as relevance scores.

    Args:
        G: ``(N, C)`` binary user tags (dense or scipy sparse).

    Returns:
        ``(N, C)`` float64 copy of ``G`` (1 for a user tag, 0 otherwise).
    """
    return _tags(G, "G").toarray()


def tag_cooccur(
    G_query: Any,
    G_pool: Any,
    m: int = 25,
    ks: float = 9.0,
    kd: float = 11.0,
    kr: float = 4.0,
) -> np.ndarray:
    """TagCooccur (Sigurbjörnsson & van Zwol, WWW 2008): co-occurrence voting with promotion.

    From the pool, ``|u|`` is the number of images tagged ``u`` and ``|u ∩ c|`` the
    number tagged both; the asymmetric co-occurrence is ``P(c|u) = |u ∩ c| / |u|``.
    The candidates of a tag ``u`` are the tags ``c ≠ u`` with ``P(c|u) > 0``, ranked
    by ``P(c|u)`` descending, ties by column index ascending; ``r`` is the 1-based rank.
    For an image with user tags ``U``:

        score(c) = Σ_{u∈U} vote(u, c) · stability(u) · descriptive(c) · rank(u, c)

    with ``vote(u, c) = 1`` when ``c`` is among the top ``m`` candidates of ``u`` (0
    otherwise) and the promotions (natural logarithms)

        stability(u)   = ks / (ks + |ks - log|u||)
        descriptive(c) = kd / (kd + |kd - log|c||)
        rank(u, c)     = kr / (kr + r - 1).

    Each factor is at most 1, so a sum over ``U`` is at most ``|U| ≤ C - 1`` for a tag
    outside ``U`` and ``|U| - 1`` for one in it. User tags are kept on top: every tag in
    ``U`` gets ``C + score(c)``, which exceeds any non-user tag's score. The bonus ``C``
    is a constant, so user tags also rank first across images, and among themselves
    they keep the order of their co-occurrence support. An image without user tags
    scores 0 everywhere; a user tag absent from the pool casts no votes. The
    co-occurrence table is dense: ``O(C²)`` memory.

    Args:
        G_query: ``(Q, C)`` binary user tags of the images to refine.
        G_pool: ``(N, C)`` binary tags whose co-occurrence statistics are used.
        m: number of candidates each user tag votes for.
        ks, kd, kr: the damping constants of the promotions (the paper's tuned values).

    Returns:
        ``(Q, C)`` float64 scores.
    """
    Gq, Gp = _tags(G_query, "G_query"), _tags(G_pool, "G_pool")
    if Gq.shape[1] != Gp.shape[1]:
        raise ValueError(f"G_query has {Gq.shape[1]} tags (columns) but G_pool has {Gp.shape[1]}")
    m = _count("m", m)
    ks, kd, kr = _positive("ks", ks), _positive("kd", kd), _positive("kr", kr)
    C = Gp.shape[1]
    co = np.asarray((Gp.T @ Gp).toarray())  # (C, C): |u ∩ c|, diagonal |u|
    freq = np.diag(co).copy()
    present = freq > 0
    P = np.zeros_like(co)
    P[present] = co[present] / freq[present, None]
    np.fill_diagonal(P, 0.0)  # c ≠ u
    log_freq = np.log(np.where(present, freq, 1.0))
    stability = np.where(present, ks / (ks + np.abs(ks - log_freq)), 0.0)
    descriptive = np.where(present, kd / (kd + np.abs(kd - log_freq)), 0.0)

    top = min(m, C)
    order = np.argsort(-P, axis=1, kind="stable")[:, :top]  # (C, top): ties by column index
    voted = np.take_along_axis(P, order, axis=1) > 0  # positives sort first, so position = r - 1
    rank = kr / (kr + np.arange(top, dtype=np.float64))
    W = np.zeros((C, C))  # W[u, c] = vote · stability(u) · descriptive(c) · rank(u, c)
    np.put_along_axis(W, order, voted * stability[:, None] * descriptive[order] * rank, axis=1)
    scores = np.asarray(Gq @ W, dtype=np.float64)
    return scores + float(C) * Gq.toarray()


def tag_vote(neighbour_indices: np.ndarray, G_pool: Any, prior: np.ndarray | None = None) -> np.ndarray:
    """TagVote (Li, Snoek & Worring, IEEE TMM 2009): neighbour votes minus the prior.

    For an image with ``k`` visual neighbours ``N_k`` in the pool,

        tagVote(t) = |{j ∈ N_k : j tagged t}| - k · P(t),

    ``P(t) = |t| / N`` the tag's frequency in the pool unless ``prior`` is given, so a
    tag scores above 0 when its neighbours carry it more often than random images do.
    A neighbour listed twice votes twice.

    Args:
        neighbour_indices: ``(Q, k)`` rows of ``G_pool`` (e.g. ``cosine_neighbours(...).indices``).
        G_pool: ``(N, C)`` binary tags of the pool.
        prior: optional ``(C,)`` tag prior ``P(t)``.

    Returns:
        ``(Q, C)`` float64 scores in ``[-k, k]`` for priors in ``[0, 1]``.
    """
    G = _tags(G_pool, "G_pool")
    idx = np.asarray(neighbour_indices)
    if idx.ndim != 2 or idx.shape[1] == 0:
        raise ValueError(f"neighbour_indices must have shape (Q, k) with k >= 1, got {idx.shape}")
    if idx.dtype.kind not in "iu":
        raise ValueError(f"neighbour_indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= G.shape[0]):
        bad = (idx < 0) | (idx >= G.shape[0])
        r, c = _first_bad(bad)
        raise ValueError(f"neighbour_indices row {r} holds {idx[r, c]}, outside the pool's {G.shape[0]} rows")
    if prior is None:
        p = np.asarray(G.sum(axis=0)).ravel() / G.shape[0]
    else:
        p = np.asarray(prior, dtype=np.float64)
        if p.shape != (G.shape[1],):
            raise ValueError(f"prior must have shape ({G.shape[1]},), got {p.shape}")
        if not np.isfinite(p).all():
            raise ValueError(f"prior has NaN or inf at tag {int(np.flatnonzero(~np.isfinite(p))[0])}")
    k = idx.shape[1]
    return _vote(idx.astype(np.int64), np.ones(idx.shape), G) - k * p


def _inv_sqrt(S: np.ndarray) -> np.ndarray:
    """``S^{-1/2}`` of a symmetric positive definite matrix by its eigendecomposition."""
    w, V = np.linalg.eigh(S)
    return (V / np.sqrt(w)) @ V.T


def _ridge(S: np.ndarray, reg: float, what: str) -> np.ndarray:
    scale = np.trace(S) / S.shape[0]
    if scale <= 0:
        raise ValueError(f"the {what} of the training images have no variance; CCA is undefined")
    return S + reg * scale * np.eye(S.shape[0])


def cca_knn(
    X_train: Any,
    G_train: Any,
    X_query: Any,
    dim: int = 128,
    reg: float = 1e-3,
    k: int = 50,
    power: float = 4.0,
) -> np.ndarray:
    """CCA-KNN (Murthy, Maji & Manmatha, ICMR 2015): kNN tag transfer in a scaled CCA space.

    1. Standardise the visual features by the training mean and standard deviation
       (constant features become 0) and centre the training tag vectors.
    2. Regularised linear CCA: with covariances ``Cxx`` (d, d), ``Cyy`` (C, C), ``Cxy``
       (divisor ``N - 1``) and ridges ``Cxx + reg · tr(Cxx)/d · I``,
       ``Cyy + reg · tr(Cyy)/C · I``, the SVD ``Cxx^{-1/2} Cxy Cyy^{-1/2} = U diag(ρ) Vᵀ``
       gives the canonical correlations ``ρ`` and the visual projection
       ``Wx = Cxx^{-1/2} U``.
    3. Keep ``D = min(dim, d, C, rank)`` directions (rank: singular values above
       ``ρ_1 · max(d, C) · eps``) and embed ``x ↦ (xᵀ Wx)_j · ρ_j^power`` - the
       eigenvalue scaling of Gong et al. (IJCV 2014), ``power = 4`` there.
    4. Score a query's tags by its ``k`` most cosine-similar training images
       (:func:`~neighborlib.neighbours.cosine_neighbours`, ties by index): the vote
       ``Σ_j w_j g_j`` with ``w_j = max(cos_j, 0) / Σ_l max(cos_l, 0)``; a query
       with no positive similarity scores 0.

    Only visual features are projected, so queries need no tags.

    Args:
        X_train: ``(N, d)`` training features.
        G_train: ``(N, C)`` binary training tags.
        X_query: ``(Q, d)`` query features.
        dim: number of canonical dimensions kept (capped as above).
        reg: relative ridge on both covariances.
        k: number of neighbours (at most ``N``).
        power: exponent of the correlation scaling.

    Returns:
        ``(Q, C)`` float64 scores in ``[0, 1]``.
    """
    Xt, Xq = _features(X_train, "X_train"), _features(X_query, "X_query")
    G = _tags(G_train, "G_train")
    N, d = Xt.shape
    if G.shape[0] != N:
        raise ValueError(f"X_train has {N} rows but G_train has {G.shape[0]}")
    if Xq.shape[1] != d:
        raise ValueError(f"X_query has {Xq.shape[1]} columns but X_train has {d}")
    if N < 2:
        raise ValueError(f"CCA needs at least 2 training images, got {N}")
    dim, k = _count("dim", dim), _count("k", k)
    if k > N:
        raise ValueError(f"k = {k} neighbours requested but there are only {N} training images")
    reg = float(reg)
    if not (math.isfinite(reg) and reg >= 0):
        raise ValueError(f"reg must be a non-negative finite number, got {reg!r}")
    power = float(power)
    if not math.isfinite(power):
        raise ValueError(f"power must be finite, got {power!r}")

    mean = Xt.mean(axis=0)
    std = Xt.std(axis=0, ddof=1)
    std[std == 0] = 1.0
    Xs = (Xt - mean) / std
    Y = G.toarray()
    Y -= Y.mean(axis=0)
    Cxx = _ridge(Xs.T @ Xs / (N - 1), reg, "visual features")
    Cyy = _ridge(Y.T @ Y / (N - 1), reg, "tags")
    Cxy = Xs.T @ Y / (N - 1)
    Kx = _inv_sqrt(Cxx)
    U, rho, _ = np.linalg.svd(Kx @ Cxy @ _inv_sqrt(Cyy), full_matrices=False)
    rank = int(np.sum(rho > rho[0] * max(d, G.shape[1]) * np.finfo(np.float64).eps)) if rho[0] > 0 else 0
    if rank == 0:
        raise ValueError("the training features and tags have no canonical correlation")
    D = min(dim, rank)  # rank <= min(d, C) already
    Wx = (Kx @ U[:, :D]) * rho[:D] ** power
    table = cosine_neighbours(((Xq - mean) / std) @ Wx, Xs @ Wx, M=k, exclude_self=False)
    w = np.maximum(table.similarities, 0.0)
    total = w.sum(axis=1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    return _vote(table.indices, w, G)


def _soft(X: np.ndarray, t: float) -> np.ndarray:
    """Entrywise soft threshold ``sign(x) · max(|x| - t, 0)``."""
    return np.sign(X) * np.maximum(np.abs(X) - t, 0.0)


def _svt(M: np.ndarray, root_w: np.ndarray, tau: float) -> np.ndarray:
    """Singular value threshold of the row-weighted matrix ``diag(√w) M``, mapped back to ``M``'s rows.

    ``SVT_τ(A) = U diag(max(σ - τ, 0)) Vᵀ``. For ``A = diag(√w) M`` (unique rows of a
    matrix, each ``w`` times) the rows of ``SVT_τ`` of the full matrix are those of
    ``M P`` with ``P = V_k diag(1 - τ/σ_k) V_kᵀ`` over ``σ_k > τ`` (since ``A V = U diag(σ)``).
    ``σ²`` and ``V`` come from the eigendecomposition of the smaller Gram matrix
    (``AᵀA`` or ``AAᵀ``): one ``(n, C)`` product instead of a full SVD, 5-10x faster on
    tall matrices. Eigenvalues carry an absolute error ``~ eps σ_1²``; the ALM keeps
    ``τ >= 1/μ̄ ≈ 8e-8 σ_1(G)``, well above the ``sqrt(eps) σ_1 ≈ 1.5e-8 σ_1`` limit
    under which singular values are not resolved.
    """
    A = M * root_w[:, None]
    if A.shape[0] >= A.shape[1]:
        ev, V = np.linalg.eigh(A.T @ A)
        keep = ev > tau * tau
        Vk, shrink = V[:, keep], 1.0 - tau / np.sqrt(ev[keep])
        if 2 * Vk.shape[1] < M.shape[1]:  # low rank: two thin products
            return ((M @ Vk) * shrink) @ Vk.T
        return M @ ((Vk * shrink) @ Vk.T)
    ev, U = np.linalg.eigh(A @ A.T)
    keep = ev > tau * tau
    Uk = U[:, keep]
    return ((Uk * (1.0 - tau / np.sqrt(ev[keep]))) @ (Uk.T @ A)) / root_w[:, None]


def rpca(
    G: Any,
    lam: float | None = None,
    tol: float = 1e-7,
    max_iter: int = 500,
) -> tuple[np.ndarray, np.ndarray]:
    """Robust PCA by principal component pursuit, inexact ALM (Lin, Chen & Ma 2010, Alg. 5).

    Solves ``min ||L||_* + lam ||S||_1`` subject to ``G = L + S``, the decomposition
    Zhu, Yan & Ma (2010) use for tag refinement (their full model adds content and tag
    consistency terms; the compared baseline is this core): ``L`` the refined tag
    scores, ``S`` the sparse tagging errors. With ``||·||_2`` the spectral norm, the
    iteration of the authors' ``inexact_alm_rpca``:

        Y = G / max(||G||_2, ||G||_∞ / lam),  μ = 1.25 / ||G||_2,  μ̄ = 10⁷ μ,  ρ = 1.5
        repeat:
            S = shrink_{lam/μ}(G - L + Y/μ)                 (entrywise soft threshold)
            L = SVT_{1/μ}(G - S + Y/μ)                      (singular value threshold)
            Y = Y + μ (G - L - S),  μ = min(ρ μ, μ̄)
        until ||G - L - S||_F / ||G||_F < tol.

    Two exact economies make a 25,000 x 444 tag matrix take seconds: every step maps
    equal rows of ``G`` to equal rows, so the iteration runs on the unique rows
    weighted by their counts (a binary tag matrix has many repeats, e.g. untagged
    images); and the singular value threshold comes from the eigendecomposition of the
    small Gram matrix (see :func:`_svt`). A warning is issued if ``max_iter`` is reached.

    Note that ``L = 0, S = G`` is optimal whenever ``lam ||G||_2 <= 1`` (``Y = lam G``
    certifies it), which the default ``lam`` gives for typical sparse tag matrices: tune
    ``lam`` for refinement.

    Args:
        G: ``(N, C)`` real matrix (dense or scipy sparse), e.g. binary user tags.
        lam: weight of the sparse part; default ``1 / sqrt(max(N, C))``.
        tol: relative residual at which to stop.
        max_iter: iteration limit.

    Returns:
        ``(L, S)``, both ``(N, C)`` float64 with ``L + S ≈ G``.
    """
    D_full = _features(G, "G")
    N, C = D_full.shape
    lam = 1.0 / math.sqrt(max(N, C)) if lam is None else _positive("lam", lam)
    tol, max_iter = _positive("tol", tol), _count("max_iter", max_iter)
    if not np.any(D_full):
        return np.zeros_like(D_full), np.zeros_like(D_full)
    rows = np.ascontiguousarray(D_full).view(np.dtype((np.void, 8 * C))).ravel()  # a row as one key
    _, first, inverse, counts = np.unique(rows, return_index=True, return_inverse=True, return_counts=True)
    D, inverse = D_full[first], inverse.reshape(-1)
    w = counts.astype(np.float64)
    root_w = np.sqrt(w)

    def fro(X: np.ndarray) -> float:
        return float(np.sqrt(np.sum(w @ (X * X))))

    norm_fro = fro(D)
    A = D * root_w[:, None]
    norm_two = float(np.sqrt(np.linalg.eigvalsh(A.T @ A if N >= C else A @ A.T)[-1]))  # σ_1(G)
    Y = D / max(norm_two, np.abs(D).max() / lam)
    mu = 1.25 / norm_two
    mu_bar, rho = mu * 1e7, 1.5
    L = np.zeros_like(D)
    for _ in range(max_iter):
        DY = D + Y / mu
        S = _soft(DY - L, lam / mu)
        L = _svt(DY - S, root_w, 1.0 / mu)
        Z = D - L - S
        Y += mu * Z
        mu = min(mu * rho, mu_bar)
        residual = fro(Z) / norm_fro
        if residual < tol:
            break
    else:
        warnings.warn(
            f"rpca did not reach tol={tol} in {max_iter} iterations (relative residual {residual:.2e})",
            RuntimeWarning,
            stacklevel=2,
        )
    return L[inverse], S[inverse]
