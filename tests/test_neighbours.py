"""Exact Jaccard / cosine neighbour tables and neighbourhood sampling (neighborlib.neighbours)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from neighborlib.data import random_splits
from neighborlib.neighbours import (
    NeighbourTable,
    cosine_neighbours,
    jaccard_neighbours,
    sample_neighbourhoods,
    split_neighbours,
)

BACKENDS = ["scipy", "torch"]  # "torch" on device="cpu" runs the GPU code path here


# ----------------------------------------------------------------------------- references


def brute_jaccard(A, B=None, M=5, exclude_self=True):
    """Dense numpy Jaccard + stable sort by (distance, index); empty/empty -> similarity 0."""
    self_mode = B is None
    A = np.asarray(A != 0, dtype=np.int64)
    B = A if self_mode else np.asarray(B != 0, dtype=np.int64)
    inter = A @ B.T
    union = A.sum(1)[:, None] + B.sum(1)[None, :] - inter
    sim = np.where(union > 0, inter.astype(np.float64) / np.maximum(union, 1), 0.0)
    dist = 1.0 - sim
    if self_mode and exclude_self:
        np.fill_diagonal(dist, np.inf)
    cols = np.arange(B.shape[0])
    idx = np.stack([np.lexsort((cols, row))[:M] for row in dist])
    return idx, np.take_along_axis(dist, idx, axis=1)


def brute_cosine(X, Y=None, M=5, exclude_self=True):
    self_mode = Y is None
    Y = X if self_mode else Y
    nx, ny = np.linalg.norm(X, axis=1), np.linalg.norm(Y, axis=1)
    cos = (X @ Y.T) / np.where(nx == 0, 1, nx)[:, None] / np.where(ny == 0, 1, ny)[None, :]
    dist = np.clip(1.0 - cos, 0.0, 2.0)
    if self_mode and exclude_self:
        np.fill_diagonal(dist, np.inf)
    cols = np.arange(Y.shape[0])
    idx = np.stack([np.lexsort((cols, row))[:M] for row in dist])
    return idx, np.take_along_axis(dist, idx, axis=1)


def random_binary(rng, n, tau, density, n_empty=3, n_dup=4):
    """Binary rows with per-row densities around ``density``, some empty and some duplicated rows."""
    p = np.clip(density * rng.uniform(0.2, 2.0, size=(n, 1)), 0, 1)
    A = (rng.random((n, tau)) < p).astype(np.float32)
    A[rng.choice(n, n_empty, replace=False)] = 0
    src = rng.choice(n, n_dup, replace=False)
    A[rng.choice(n, n_dup, replace=False)] = A[src]
    A[n - 1] = A[n - 2]  # an adjacent duplicate pair: ties at distance 0
    return A


# ----------------------------------------------------------------------------- Jaccard, exact


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("density", [0.02, 0.08, 0.25, 0.6])
def test_jaccard_self_matches_brute_force(density, backend):
    rng = np.random.default_rng(int(density * 1000))
    A = random_binary(rng, 150, 30, density)
    M = 9
    t = jaccard_neighbours(sp.csr_matrix(A), None, M, backend=backend)
    ref_idx, ref_dist = brute_jaccard(A, None, M)
    np.testing.assert_array_equal(t.indices, ref_idx)
    np.testing.assert_array_equal(t.distances, ref_dist)
    np.testing.assert_array_equal(t.isolated, A.sum(1) == 0)
    assert t.indices.dtype == np.int64 and t.distances.dtype == np.float64 and t.isolated.dtype == bool
    assert t.metric == "jaccard" and t.M == M and len(t) == 150
    # self never a neighbour; rows sorted by (distance, index)
    assert not (t.indices == np.arange(150)[:, None]).any()
    d, i = t.distances, t.indices
    assert ((d[:, 1:] > d[:, :-1]) | ((d[:, 1:] == d[:, :-1]) & (i[:, 1:] > i[:, :-1]))).all()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("density", [0.03, 0.3])
def test_jaccard_queries_vs_candidates(density, backend):
    rng = np.random.default_rng(7)
    A = random_binary(rng, 60, 25, density)
    B = random_binary(rng, 90, 25, density)
    B[:5] = A[:5]  # exact matches across the two sets
    t = jaccard_neighbours(sp.csr_matrix(A), sp.csr_matrix(B), 12, backend=backend)
    ref_idx, ref_dist = brute_jaccard(A, B, 12)
    np.testing.assert_array_equal(t.indices, ref_idx)
    np.testing.assert_array_equal(t.distances, ref_dist)
    assert (t.distances[:5, 0] == np.where(A[:5].sum(1) > 0, 0.0, 1.0)).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_jaccard_block_sizes_identical(backend):
    rng = np.random.default_rng(3)
    A = sp.csr_matrix(random_binary(rng, 120, 40, 0.1))
    tables = [jaccard_neighbours(A, None, 8, block_size=b, backend=backend) for b in (None, 1, 7, 500)]
    ref_idx, ref_dist = brute_jaccard(A.toarray(), None, 8)
    for t in tables:
        np.testing.assert_array_equal(t.indices, ref_idx)
        np.testing.assert_array_equal(t.distances, ref_dist)


def test_jaccard_threads_and_adaptive_blocks_identical(monkeypatch):
    import neighborlib.neighbours as nb

    rng = np.random.default_rng(11)
    A = sp.csr_matrix(random_binary(rng, 300, 50, 0.08))
    ref_idx, ref_dist = brute_jaccard(A.toarray(), None, 10)
    monkeypatch.setattr(nb, "DEFAULT_MAX_BLOCK_ENTRIES", 500)  # forces many adaptive blocks
    for n_jobs in (1, 2, 3):
        t = jaccard_neighbours(A, None, 10, n_jobs=n_jobs)
        np.testing.assert_array_equal(t.indices, ref_idx)
        np.testing.assert_array_equal(t.distances, ref_dist)


def test_jaccard_ties_take_lowest_indices():
    # query {0}; every candidate is {0, 1}: all at distance 1/2, so the first M indices win
    cands = np.zeros((30, 4))
    cands[:, :2] = 1
    cands[3] = [0, 0, 1, 1]  # disjoint: distance 1, must drop out
    t = jaccard_neighbours(np.array([[1, 0, 0, 0]]), cands, M=6)
    np.testing.assert_array_equal(t.indices[0], [0, 1, 2, 4, 5, 6])
    np.testing.assert_array_equal(t.distances[0], np.full(6, 0.5))
    # distances 1/4 (cand 1), 3/5 (cand 3), 3/4 (cand 2), 1 (cand 0, empty)
    q = np.array([[1, 1, 1, 0, 0, 0]])
    c = np.array([[0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 0, 1], [1, 1, 0, 0, 1, 1]])
    t = jaccard_neighbours(q, c, M=4)
    np.testing.assert_array_equal(t.indices[0], [1, 3, 2, 0])
    # equal ratios from different integers tie exactly: 2/4 (cand 0) and 1/2 (cand 2)
    q2 = np.array([[1, 1, 0, 0, 0, 0]])
    c2 = np.array([[1, 1, 1, 1, 0, 0], [1, 0, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]])
    t = jaccard_neighbours(q2, c2, M=4)
    np.testing.assert_array_equal(t.indices[0], [0, 2, 1, 3])
    assert t.distances[0, 0] == t.distances[0, 1] == 0.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_rows_are_isolated_and_take_lowest_indices(backend):
    A = np.zeros((10, 5))
    A[[1, 4, 6], 0] = 1
    A[4, 1] = 1
    t = jaccard_neighbours(A, None, M=4, backend=backend)
    assert t.isolated.tolist() == [i not in (1, 4, 6) for i in range(10)]
    np.testing.assert_array_equal(t.indices[0], [1, 2, 3, 4])  # self (0) excluded
    np.testing.assert_array_equal(t.indices[2], [0, 1, 3, 4])
    np.testing.assert_array_equal(t.distances[0], np.ones(4))
    # a tagged image: its overlaps first, then the lowest-index images at distance 1
    np.testing.assert_array_equal(t.indices[1], [6, 4, 0, 2])
    np.testing.assert_array_equal(t.distances[1], [0.0, 0.5, 1.0, 1.0])
    # two empty images are not identical: distance 1, not 0
    assert (t.distances[t.isolated] == 1.0).all()


def test_exclude_self_false_keeps_self():
    rng = np.random.default_rng(5)
    A = random_binary(rng, 40, 20, 0.15)
    t = jaccard_neighbours(A, None, 6, exclude_self=False)
    ref_idx, ref_dist = brute_jaccard(A, None, 6, exclude_self=False)
    np.testing.assert_array_equal(t.indices, ref_idx)
    np.testing.assert_array_equal(t.distances, ref_dist)
    tagged = A.sum(1) > 0
    assert (t.distances[tagged, 0] == 0).all()
    assert all(i in t.indices[i] for i in np.flatnonzero(tagged))


def test_values_are_binarised_and_explicit_zeros_ignored():
    rng = np.random.default_rng(9)
    A = random_binary(rng, 50, 15, 0.2)
    W = sp.csr_matrix(A * rng.integers(1, 5, size=A.shape))  # counts instead of 0/1
    indptr = W.indptr.copy()
    indptr[-1] += 1  # an explicit zero stored in the last row
    W = sp.csr_matrix((np.append(W.data, 0.0), np.append(W.indices, 0), indptr), shape=W.shape)
    assert W.nnz == np.count_nonzero(A) + 1
    t = jaccard_neighbours(W, None, 5)
    np.testing.assert_array_equal(t.indices, brute_jaccard(A, None, 5)[0])


def test_agrees_with_sklearn_on_rows_with_metadata():
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(21)
    A = random_binary(rng, 120, 30, 0.1) > 0
    M = 7
    nn = NearestNeighbors(n_neighbors=M + 1, metric="jaccard", algorithm="brute").fit(A)
    sk_dist, sk_idx = nn.kneighbors(A)
    t = jaccard_neighbours(sp.csr_matrix(A), None, M)
    checked = 0
    for q in np.flatnonzero(A.sum(1) > 0):
        keep = sk_idx[q] != q
        d_sk, i_sk = sk_dist[q][keep][:M], sk_idx[q][keep][:M]
        np.testing.assert_allclose(t.distances[q], d_sk, rtol=0, atol=1e-12)
        below = t.distances[q] < t.distances[q, -1] - 1e-12
        assert set(t.indices[q][below]) == set(i_sk[d_sk < t.distances[q, -1] - 1e-12])
        checked += 1
    assert checked > 100


def test_too_few_candidates_raise():
    A = np.eye(6)
    with pytest.raises(ValueError, match="M=6"):
        jaccard_neighbours(A, None, M=6)  # only 5 others
    assert jaccard_neighbours(A, None, M=5).indices.shape == (6, 5)
    assert jaccard_neighbours(A, None, M=6, exclude_self=False).indices.shape == (6, 6)
    with pytest.raises(ValueError, match="only 4 candidates"):
        jaccard_neighbours(A, A[:4], M=5)
    with pytest.raises(ValueError):
        jaccard_neighbours(A, None, M=0)
    with pytest.raises(ValueError):
        cosine_neighbours(np.ones((3, 2)), None, M=3)
    with pytest.raises(ValueError, match="columns"):
        jaccard_neighbours(A, np.eye(7), M=2)


def test_progress_bar_counts_the_queries_and_changes_nothing(capsys):
    rng = np.random.default_rng(4)
    A = sp.csr_matrix((rng.random((30, 12)) < 0.3).astype(float))
    quiet = jaccard_neighbours(A, None, 3, block_size=4)
    shown = jaccard_neighbours(A, None, 3, progress=True, block_size=4)
    np.testing.assert_array_equal(shown.indices, quiet.indices)
    np.testing.assert_array_equal(shown.distances, quiet.distances)
    err = capsys.readouterr().err
    assert "30/30" in err, err[-300:]  # the bar reached every query


def test_table_is_read_only():
    t = jaccard_neighbours(np.eye(5), None, 2)
    with pytest.raises(ValueError):
        t.indices[0, 0] = 3
    assert "jaccard" in repr(t)
    np.testing.assert_array_equal(t.similarities, 1 - t.distances)


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device: the torch code path is tested on CPU above"
)
def test_cuda_matches_cpu():
    rng = np.random.default_rng(2)
    A = sp.csr_matrix(random_binary(rng, 400, 60, 0.08))
    cpu = jaccard_neighbours(A, None, 10)
    gpu = jaccard_neighbours(A, None, 10, device="cuda", block_size=37)
    np.testing.assert_array_equal(gpu.indices, cpu.indices)
    np.testing.assert_array_equal(gpu.distances, cpu.distances)
    X = rng.normal(size=(200, 16))
    c_cpu, c_gpu = cosine_neighbours(X, None, 5), cosine_neighbours(X, None, 5, device="cuda")
    np.testing.assert_array_equal(c_gpu.indices, c_cpu.indices)
    np.testing.assert_allclose(c_gpu.distances, c_cpu.distances, atol=1e-12)


# ----------------------------------------------------------------------------- cosine


@pytest.mark.parametrize("backend", BACKENDS)
def test_cosine_matches_brute_force_with_zero_rows(backend):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 12))
    X[[3, 40]] = 0
    Y = rng.normal(size=(50, 12))
    Y[7] = 0
    for args, kw in (((X, None), {}), ((X, Y), {})):
        ref_idx, ref_dist = brute_cosine(*args, M=8)
        for bs in (None, 1, 7, 1000):
            t = cosine_neighbours(*args, M=8, block_size=bs, backend=backend, **kw)
            np.testing.assert_array_equal(t.indices, ref_idx)
            np.testing.assert_allclose(t.distances, ref_dist, rtol=0, atol=1e-12)
            np.testing.assert_array_equal(t.isolated, np.linalg.norm(X, axis=1) == 0)
            assert t.metric == "cosine"
    t = cosine_neighbours(X, None, M=8, backend=backend)
    np.testing.assert_array_equal(t.indices[3], [0, 1, 2, 4, 5, 6, 7, 8])  # zero row: lowest indices
    np.testing.assert_array_equal(t.distances[3], np.ones(8))
    # positive multiples are at distance ~0, never negative (clipped)
    X2 = np.vstack([X[:10], 3 * X[:10]])
    t = cosine_neighbours(X2, None, M=1, backend=backend)
    tagged = [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert (t.distances[tagged] >= 0).all() and (t.distances[tagged] < 1e-12).all()
    np.testing.assert_array_equal(t.indices[tagged, 0], np.arange(10, 20)[tagged])


def test_cosine_rejects_nan():
    X = np.ones((5, 3))
    X[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cosine_neighbours(X, None, M=2)


@pytest.mark.parametrize("sparse", [False, True])
def test_jaccard_rejects_nan_dense_or_sparse(sparse):
    """A NaN is not a tag: dense input used to count it as one (NaN != 0), sparse raised."""
    Z = np.zeros((4, 5))
    Z[0, :2] = Z[1, 1:3] = Z[3, 4] = 1
    Z[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"queries has non-finite entries \(first at row 2, column 3"):
        jaccard_neighbours(sp.csr_matrix(Z) if sparse else Z, None, M=2)


# ----------------------------------------------------------------------------- split protocol


@pytest.mark.parametrize("metric", ["jaccard", "cosine"])
def test_split_neighbours_protocol(metric):
    rng = np.random.default_rng(8)
    A = random_binary(rng, 200, 30, 0.1)
    Z = sp.csr_matrix(A) if metric == "jaccard" else A.astype(np.float64)
    split = random_splits(200, n_splits=1, seed=1)[0]
    tables = split_neighbours(Z, split, M=6, metric=metric)
    assert set(tables) == {"train", "val", "test"}
    brute = brute_jaccard if metric == "jaccard" else brute_cosine
    for part in ("train", "val", "test"):
        index = getattr(split, part)
        t = tables[part]
        assert t.indices.shape == (len(index), 6)
        assert np.isin(t.indices, index).all()  # neighbours from the same part, global indices
        assert not (t.indices == index[:, None]).any()
        ref_idx, ref_dist = brute(A[index].astype(np.float64), None, M=6)
        np.testing.assert_array_equal(t.indices, index[ref_idx])
        np.testing.assert_allclose(t.distances, ref_dist, atol=1e-12)


def test_split_neighbours_small_part_and_empty_part():
    Z = sp.csr_matrix(np.eye(30))
    small = type("S", (), {"train": np.arange(20), "val": np.arange(20, 23), "test": np.arange(23, 30)})
    with pytest.raises(ValueError, match="val part"):
        split_neighbours(Z, small, M=4)
    no_val = type("S", (), {"train": np.arange(20), "val": np.arange(0), "test": np.arange(20, 30)})
    tables = split_neighbours(Z, no_val, M=4)
    assert tables["val"].indices.shape == (0, 4)
    with pytest.raises(ValueError, match="metric"):
        split_neighbours(Z, no_val, M=4, metric="euclidean")


# ----------------------------------------------------------------------------- sampling


def test_sample_neighbourhoods_shapes_subsets_and_determinism():
    rng = np.random.default_rng(0)
    A = random_binary(rng, 100, 20, 0.2)
    table = jaccard_neighbours(A, None, M=12)
    s = sample_neighbourhoods(table, m=5, K=10, rng=42)
    assert s.shape == (100, 10, 5) and s.dtype == np.int64
    for q in range(100):
        for k in range(10):
            assert set(s[q, k]) <= set(table.indices[q])
            assert len(set(s[q, k])) == 5  # no repeats within a subset
    np.testing.assert_array_equal(s, sample_neighbourhoods(table.indices, 5, 10, 42))
    np.testing.assert_array_equal(s, sample_neighbourhoods(table, 5, 10, np.random.default_rng(42)))
    assert not np.array_equal(s, sample_neighbourhoods(table, 5, 10, 43))
    one = sample_neighbourhoods(table, 5, 1, 7)
    assert one.shape == (100, 1, 5)
    everything = sample_neighbourhoods(table, 12, 2, 0)
    np.testing.assert_array_equal(np.sort(everything, -1), np.sort(np.stack([table.indices] * 2, 1), -1))
    # within a subset, neighbours keep the table's order (nearest first)
    for q in range(100):
        rank = {int(i): p for p, i in enumerate(table.indices[q])}
        r = [rank[int(i)] for i in s[q, 0]]
        assert r == sorted(r)


def test_sample_neighbourhoods_uniform():
    M, m, K = 10, 3, 24000
    idx = np.arange(100, 100 + M)[None, :]
    s = sample_neighbourhoods(idx, m, K, rng=123)[0]
    counts = np.bincount(s.ravel() - 100, minlength=M)
    expected = K * m / M
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 30.0, (chi2, counts)  # 9 dof: P(chi2 > 30) ~ 4e-4
    subsets = {c: 0 for c in itertools.combinations(range(100, 100 + M), m)}
    for row in s:
        subsets[tuple(sorted(row))] += 1
    exp_sub = K / len(subsets)
    chi2_sub = sum((c - exp_sub) ** 2 / exp_sub for c in subsets.values())
    assert chi2_sub < 119 + 5 * np.sqrt(2 * 119), chi2_sub  # 119 dof, ~5 sigma
    # a biased sampler (always the nearest m) must fail this
    biased = np.bincount(np.tile(np.arange(m), K), minlength=M)
    assert ((biased - expected) ** 2 / expected).sum() > 30.0


def test_sample_neighbourhoods_validation():
    idx = np.zeros((4, 6), dtype=np.int64)
    for m in (0, 7):
        with pytest.raises(ValueError):
            sample_neighbourhoods(idx, m, 2, 0)
    with pytest.raises(ValueError):
        sample_neighbourhoods(idx, 2, 0, 0)
    with pytest.raises(ValueError):
        sample_neighbourhoods(np.zeros(6), 2, 1, 0)


def test_neighbour_table_validates_shapes():
    with pytest.raises(ValueError):
        NeighbourTable(np.zeros((3, 4)), np.zeros((3, 4)), np.zeros(2, bool), "jaccard", 4)
    with pytest.raises(ValueError):
        NeighbourTable(np.zeros((3, 4)), np.zeros((3, 5)), np.zeros(3, bool), "jaccard", 4)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3", None])
def test_counts_must_be_positive_integers(bad):
    Z = sp.csr_matrix(np.eye(4))
    with pytest.raises(ValueError, match=r"M must be a positive integer, got"):
        jaccard_neighbours(Z, None, M=bad)
    with pytest.raises(ValueError, match=r"block_size must be a positive integer or None, got"):
        jaccard_neighbours(Z, None, M=1, block_size=bad if bad is not None else 0)
    assert jaccard_neighbours(Z, None, M=2.0).indices.shape == (4, 2)  # an integral float is a count
