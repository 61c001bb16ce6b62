"""Tag-refinement baselines: hand computations, planted recoveries and a textbook RPCA reference."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import average_precision_score

from neighborlib.models.refine import cca_knn, random_guess, rpca, tag_cooccur, tag_vote, user_tags
from neighborlib.seeding import stream

# ----------------------------------------------------------------------------- RandomGuess and UserTags


def test_random_guess_is_seeded_bounded_and_averages_80_runs():
    a = random_guess(3000, 4, rng=stream(0, "sampling"))
    b = random_guess(3000, 4, rng=stream(0, "sampling"))
    c = random_guess(3000, 4, rng=stream(1, "sampling"))
    assert a.shape == (3000, 4) and a.dtype == np.float64
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() >= 0.0 and a.max() <= 1.0
    # the mean of 80 U[0, 1) draws: mean 1/2, std sqrt(1/12/80) = 0.0323 (a single draw: 0.289)
    np.testing.assert_allclose(a.mean(axis=0), 0.5, atol=0.003)
    np.testing.assert_allclose(a.std(axis=0), np.sqrt(1 / 12 / 80), rtol=0.06)
    one = random_guess(3000, 4, repeats=1, rng=stream(0, "sampling"))
    np.testing.assert_allclose(one.std(axis=0), np.sqrt(1 / 12), rtol=0.06)
    with pytest.raises(ValueError, match="Generator"):
        random_guess(3, 4, rng=0)


def test_user_tags_is_the_identity():
    G = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 1]])
    for given in (G, G.astype(bool), G.astype(np.float32), sp.csr_matrix(G)):
        out = user_tags(given)
        assert out.dtype == np.float64 and np.array_equal(out, G)
    out = user_tags(G)
    out[0, 0] = 5
    assert G[0, 0] == 1  # a copy
    with pytest.raises(ValueError, match="binary.*row 2, column 1"):
        user_tags(np.array([[1, 0], [0, 1], [0, 2]]))
    with pytest.raises(ValueError, match="row 1"):
        user_tags(sp.csr_matrix(np.array([[1.0, 0.0], [np.nan, 1.0]])))


# ----------------------------------------------------------------------------- TagCooccur

#            a  b  c  d
POOL = np.array(
    [
        [1, 1, 0, 0],
        [1, 1, 1, 0],
        [1, 0, 1, 0],
        [1, 0, 0, 0],
        [0, 1, 0, 1],
        [0, 0, 0, 1],
    ]
)
QUERY = np.array([[1, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [0, 0, 1, 0]])


def test_tag_cooccur_hand_example():
    """m = 2, ks = 2, kd = 3, kr = 4 on the six-image pool above, worked by hand.

    |a| = 4, |b| = 3, |c| = 2, |d| = 2; |a∩b| = 2, |a∩c| = 2, |b∩c| = 1, |b∩d| = 1, else 0.
    P(.|a): b 2/4, c 2/4 (tie: b ranks first), d 0.      P(.|b): a 2/3, c 1/3, d 1/3 (c before d).
    P(.|c): a 2/2, b 1/2, d 0.                          P(.|d): b 1/2, a 0, c 0.
    stability(n) = 2/(2 + |2 - ln n|): n=2 .6048047, n=3 .6893253, n=4 .7651971
    descriptive(n) = 3/(3 + |3 - ln n|): n=2 .5653068, n=3 .6120716, n=4 .6502365
    rank: r=1 -> 1, r=2 -> 4/5; user tags get + C = 4.
    """
    got = tag_cooccur(QUERY, POOL, m=2, ks=2.0, kd=3.0, kr=4.0)
    expected = np.array(
        [
            # {a}: b = st(4) de(3) · 1, c = st(4) de(2) · 4/5, a = 4 (own), d = 0 (never with a)
            [4.0, 0.4683553850, 0.3460569052, 0.0],
            # {b, d}: a = st(3) de(4) · 1 (from b), c = st(3) de(2) · 4/5 (from b),
            # b = 4 + st(2) de(3) · 1 (from d), d = 4 + 0 (rank 3 among b's candidates > m)
            [0.4482245095, 4.3701837298, 0.3117442322, 4.0],
            [0.0, 0.0, 0.0, 0.0],  # no user tags
            # {c}: a = st(2) de(4) · 1, b = st(2) de(3) · 4/5, c = 4
            [0.3932660916, 0.2961469839, 4.0, 0.0],
        ]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    # m = 1: only the top candidate of each user tag votes
    one = tag_cooccur(QUERY, sp.csr_matrix(POOL), m=1, ks=2.0, kd=3.0, kr=4.0)
    np.testing.assert_allclose(one[0], [4.0, 0.4683553850, 0.0, 0.0], rtol=1e-9)
    np.testing.assert_allclose(one[1], [0.4482245095, 4.3701837298, 0.0, 4.0], rtol=1e-9)


def test_tag_cooccur_keeps_user_tags_on_top():
    rng = np.random.default_rng(3)
    pool = (rng.random((300, 30)) < 0.15).astype(np.int8)
    query = (rng.random((40, 30)) < 0.1).astype(np.int8)
    scores = tag_cooccur(query, pool)
    own = query.astype(bool)
    assert scores[own].min() > scores[~own].max()  # also across images
    assert np.all(scores[query.sum(axis=1) == 0] == 0)
    assert scores.min() >= 0


# ----------------------------------------------------------------------------- TagVote


def test_tag_vote_hand_example():
    pool = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])  # priors 3/5, 2/5, 2/5
    nbrs = np.array([[0, 1, 3], [2, 4, 2]])  # k = 3; image 2 listed twice votes twice
    # counts [3, 1, 1] and [0, 2, 1], minus 3 · [0.6, 0.4, 0.4]
    np.testing.assert_allclose(tag_vote(nbrs, pool), [[1.2, -0.2, -0.2], [-1.8, 0.8, -0.2]], atol=1e-12)
    np.testing.assert_allclose(
        tag_vote(nbrs, sp.csr_matrix(pool), prior=np.array([0.5, 0.5, 0.0])),
        [[1.5, -0.5, 1.0], [-1.5, 0.5, 1.0]],
        atol=1e-12,
    )
    with pytest.raises(ValueError, match="row 1 holds 5"):
        tag_vote(np.array([[0, 1], [5, 1]]), pool)
    with pytest.raises(ValueError, match=r"prior must have shape \(3,\)"):
        tag_vote(nbrs, pool, prior=np.ones(4))


# ----------------------------------------------------------------------------- CCA-KNN


def _cca_toy(seed: int):
    """Four clusters in 4 informative dimensions, 40 tag-irrelevant noise dimensions, then every
    feature scaled (0.5 to 20) and offset by 100; 30 training and 8 query points a cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(4, 4))
    scales = rng.uniform(0.5, 20.0, size=44)

    def draw(per_cluster):
        which = np.repeat(np.arange(4), per_cluster)
        informative = centres[which] + rng.normal(scale=0.3, size=(len(which), 4))
        X = np.hstack([informative, rng.normal(size=(len(which), 40))])
        return X * scales + 100.0, which

    return (*draw(30), *draw(8))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cca_knn_recovers_cluster_tags_exactly(seed):
    """Tags are a deterministic function of the cluster: in the CCA space every held-out point's
    10 neighbours share its cluster, so scores equal its tags and every ranking is perfect (AP = 1),
    while cosine kNN on the standardised raw features (drowned by the noise dimensions) is not."""
    from neighborlib.neighbours import cosine_neighbours

    tags_of = np.array([[1, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0], [0, 0, 0, 0, 1, 1]])
    X_train, c_train, X_query, c_query = _cca_toy(seed)
    G_train, truth = tags_of[c_train], tags_of[c_query]
    scores = cca_knn(X_train, G_train, X_query, k=10)
    assert scores.shape == truth.shape and scores.dtype == np.float64
    np.testing.assert_allclose(scores, truth, atol=1e-12)
    for t in range(truth.shape[1]):
        assert average_precision_score(truth[:, t], scores[:, t]) == 1.0
    for q in range(len(truth)):
        assert average_precision_score(truth[q], scores[q]) == 1.0
    mean, std = X_train.mean(axis=0), X_train.std(axis=0, ddof=1)
    raw = cosine_neighbours((X_query - mean) / std, (X_train - mean) / std, M=10, exclude_self=False)
    raw_scores = G_train[raw.indices].mean(axis=1)
    assert min(average_precision_score(truth[:, t], raw_scores[:, t]) for t in range(6)) < 0.9


def test_cca_knn_bad_inputs():
    rng = np.random.default_rng(0)
    X, G = rng.normal(size=(20, 5)), (rng.random((20, 3)) < 0.5).astype(int)
    Xq = rng.normal(size=(4, 5))
    Xq[3, 2] = np.nan
    with pytest.raises(ValueError, match="X_query has NaN or inf at row 3"):
        cca_knn(X, G, Xq, k=5)
    with pytest.raises(ValueError, match="X_train has 20 rows but G_train has 19"):
        cca_knn(X, G[:19], X[:2], k=5)
    with pytest.raises(ValueError, match="X_query has 4 columns but X_train has 5"):
        cca_knn(X, G, X[:2, :4], k=5)
    with pytest.raises(ValueError, match="only 20 training images"):
        cca_knn(X, G, X[:2], k=21)
    with pytest.raises(ValueError, match="G_train must be a binary tag matrix; row 0"):
        cca_knn(X, G * 3, X[:2], k=5)


# ----------------------------------------------------------------------------- RPCA


def _rpca_reference(D: np.ndarray, lam: float, tol: float = 1e-7, max_iter: int = 500):
    """Lin, Chen & Ma's inexact_alm_rpca line by line, with a full economy SVD per step."""
    norm_two = np.linalg.norm(D, 2)
    Y = D / max(norm_two, np.abs(D).max() / lam)
    mu, rho = 1.25 / norm_two, 1.5
    mu_bar = mu * 1e7
    A = np.zeros_like(D)
    for _ in range(max_iter):
        T = D - A + Y / mu
        E = np.maximum(T - lam / mu, 0) + np.minimum(T + lam / mu, 0)
        U, s, Vt = np.linalg.svd(D - E + Y / mu, full_matrices=False)
        k = int(np.sum(s > 1 / mu))
        A = U[:, :k] @ np.diag(s[:k] - 1 / mu) @ Vt[:k]
        Z = D - A - E
        Y = Y + mu * Z
        mu = min(mu * rho, mu_bar)
        if np.linalg.norm(Z) / np.linalg.norm(D) < tol:
            break
    return A, E


def test_rpca_recovers_planted_low_rank_plus_sparse():
    rng = np.random.default_rng(0)
    L0 = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 60))  # rank 3
    S0 = np.zeros((200, 60))
    mask = rng.random(S0.shape) < 0.05
    S0[mask] = rng.uniform(-10, 10, size=mask.sum())
    L, S = rpca(L0 + S0)
    assert L.dtype == S.dtype == np.float64
    assert np.linalg.norm(L - L0) / np.linalg.norm(L0) < 1e-4
    assert np.linalg.norm(S - S0) / np.linalg.norm(S0) < 1e-4


@pytest.mark.parametrize("shape", [(300, 40), (40, 90)])
def test_rpca_matches_the_textbook_iteration_on_tags_with_repeated_rows(shape):
    """The row deduplication and Gram-matrix thresholding change nothing but the cost."""
    rng = np.random.default_rng(1)
    n, C = shape
    topics = rng.random((4, C)) < 0.2
    G = (topics[rng.integers(4, size=n)] & (rng.random((n, C)) < 0.7)).astype(float)
    G[n // 2 :] = G[: n - n // 2]  # half the rows repeat
    lam = 3.0 / np.linalg.norm(G, 2)  # large enough for a non-trivial L (lam ||G||_2 > 1)
    L, S = rpca(sp.csr_matrix(G), lam=lam)
    L_ref, S_ref = _rpca_reference(G, lam)
    assert np.linalg.matrix_rank(L_ref) >= 2
    np.testing.assert_allclose(L, L_ref, atol=1e-9 * np.abs(L_ref).max())
    np.testing.assert_allclose(S, S_ref, atol=1e-9 * np.abs(S_ref).max())
    np.testing.assert_allclose(L + S, G, atol=1e-6)


def test_rpca_default_lambda_on_sparse_tags_gives_zero_low_rank_part():
    """lam ||G||_2 <= 1 certifies L = 0, S = G (the dual Y = lam G)."""
    G = (np.random.default_rng(2).random((400, 30)) < 0.05).astype(float)
    assert np.linalg.norm(G, 2) / np.sqrt(400) <= 1
    L, S = rpca(G)
    assert np.all(L == 0) and np.array_equal(S, G)


def test_rpca_warnings_and_errors():
    rng = np.random.default_rng(0)
    D = rng.normal(size=(30, 3)) @ rng.normal(size=(3, 20)) + (rng.random((30, 20)) < 0.1)
    with pytest.warns(RuntimeWarning, match="did not reach tol"):
        rpca(D, max_iter=2)
    D[4, 7] = np.nan
    with pytest.raises(ValueError, match="G has NaN or inf at row 4"):
        rpca(D)
    L, S = rpca(np.zeros((3, 2)))
    assert not L.any() and not S.any()
