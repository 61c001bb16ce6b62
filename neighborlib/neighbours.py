"""Exact metadata neighbourhoods: top-M Jaccard (and cosine) neighbours, and their sampling.

The LTN model (Johnson, Ballan and Fei-Fei, "Love Thy Neighbors", ICCV 2015)
finds the neighbours of an image *non-parametrically* from its user metadata: a
binary tag vector ``z ∈ {0, 1}^τ``. Two images are close when their tag sets
overlap, measured by the Jaccard distance

    d(a, b) = 1 - |a ∩ b| / |a ∪ b|,

and the model looks at ``m`` neighbours sampled from the ``M`` nearest
(Section 3 of the paper). This module computes the exact ``M`` nearest
neighbours (:func:`jaccard_neighbours`, and :func:`cosine_neighbours` for dense
embedded metadata), applies the paper's split protocol (:func:`split_neighbours`)
and draws the random neighbourhoods (:func:`sample_neighbourhoods`).

Conventions (shared by every function here)
-------------------------------------------
* **Order and ties.** Neighbours are sorted by ``(distance ascending, candidate
  index ascending)``. This is a total order, so the table is fully
  deterministic: among candidates at equal distance the lowest indices win,
  also at the ``M``-th place. Jaccard similarities are ratios of small integers
  computed as ``float64(|a∩b|) / float64(|a∪b|)``; IEEE division is correctly
  rounded, so equal ratios (``1/2`` and ``3/6``) give bit-identical distances
  and ties are exact, on every backend.
* **Empty metadata.** An image without metadata (an empty row; a zero-norm row
  for cosine) has Jaccard ``0/0``. We define its similarity to *everything* as
  ``0`` (distance ``1``; two empty images are **not** identical). An empty
  query's neighbours are therefore the lowest-index candidates, all at distance
  ``1``; such queries are flagged in :attr:`NeighbourTable.isolated` so callers
  can drop them or handle them otherwise. Empty candidates are never closer than
  distance ``1`` to anything. (scikit-learn/SciPy's ``jaccard`` instead puts two
  all-zero vectors at distance ``0``.)
* **Self.** With ``candidates=None`` the queries are matched against themselves
  and, with ``exclude_self=True`` (the default), an image is never its own
  neighbour - even when it is empty or has duplicates (its duplicates are still
  neighbours at distance ``0``).
* **Too few candidates.** Asking for more neighbours than there are candidates
  (``C - 1`` when self is excluded) raises :class:`ValueError`.

Backends
--------
``backend="numpy"`` (the CPU default; ``"scipy"`` is an alias, since the sparse products
are scipy's and the selection is numpy's) multiplies row blocks of the sparse
matrices (``Z_q[block] @ Z_c.T``, so the work is proportional to the number of
*co-occurring* tag pairs, not to ``Q x C``) and selects the top ``M`` per row
directly on the sparse product's entries, never densifying a block.
``backend="torch"`` (the default when ``device`` is CUDA) uses dense block
matrix products and a stable sort on the device; it gives identical Jaccard
results and runs on ``device="cpu"`` too, which is how it is tested without a GPU.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import scipy.sparse as sp

from .device import device_type, resolve_device

__all__ = [
    "NeighbourTable",
    "cosine_neighbours",
    "jaccard_neighbours",
    "sample_neighbourhoods",
    "split_neighbours",
]

#: Default work budget of one CPU Jaccard block: at most this many (query, candidate)
#: pairs with a shared tag (entries of the block's sparse product), unless a single
#: query row alone has more. About 40 bytes of working memory per entry.
DEFAULT_MAX_BLOCK_ENTRIES = 1 << 19
#: Default size of one dense block (rows x candidates) for the torch backend and for
#: cosine: about 32 bytes of working memory per element (distances + sort buffers).
DEFAULT_MAX_DENSE_ELEMENTS = 1 << 24


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True, eq=False)
class NeighbourTable:
    """The ``M`` nearest candidates of each of ``Q`` queries.

    Attributes:
        indices: ``(Q, M)`` int64 candidate indices, row ``q`` sorted by
            ``(distance ascending, index ascending)`` - see the module docstring.
            Indices count rows of the candidate matrix (for :func:`split_neighbours`:
            global dataset indices).
        distances: ``(Q, M)`` float64 distances matching ``indices`` (``1 - similarity``).
        isolated: ``(Q,)`` bool, ``True`` for queries without metadata (empty row /
            zero norm). Their neighbours are merely the lowest-index candidates at
            distance 1; drop or special-case them as the application needs.
        metric: ``"jaccard"`` or ``"cosine"``.
        M: number of neighbours per query.
    """

    indices: np.ndarray
    distances: np.ndarray
    isolated: np.ndarray
    metric: str
    M: int

    def __post_init__(self) -> None:
        idx = np.asarray(self.indices, dtype=np.int64)
        dist = np.asarray(self.distances, dtype=np.float64)
        iso = np.asarray(self.isolated, dtype=bool)
        if idx.ndim != 2 or idx.shape[1] != self.M:
            raise ValueError(f"indices must have shape (Q, M={self.M}), got {idx.shape}")
        if dist.shape != idx.shape:
            raise ValueError(f"distances shape {dist.shape} differs from indices shape {idx.shape}")
        if iso.shape != (idx.shape[0],):
            raise ValueError(f"isolated must have shape ({idx.shape[0]},), got {iso.shape}")
        for name, arr in (("indices", idx), ("distances", dist), ("isolated", iso)):
            arr = arr.copy()  # own, read-only arrays: never freeze an array the caller writes to
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return self.indices.shape[0]

    def __repr__(self) -> str:
        return (
            f"NeighbourTable({self.metric}, Q={len(self)}, M={self.M}, "
            f"isolated={int(self.isolated.sum())})"
        )

    @property
    def similarities(self) -> np.ndarray:
        """``1 - distances`` (Jaccard or cosine similarity)."""
        return 1.0 - self.distances

    def mapped(self, index: np.ndarray) -> "NeighbourTable":
        """The same table with candidate indices mapped through ``index`` (local -> global)."""
        index = np.asarray(index, dtype=np.int64)
        return dataclasses.replace(self, indices=index[self.indices])


# ----------------------------------------------------------------------------- input handling


def _as_binary_csr(X: Any, name: str) -> sp.csr_matrix:
    """Canonical binary CSR (float32 ones, sorted unique indices) of the nonzero pattern of ``X``."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, copy=True)
        X.sum_duplicates()
        X.eliminate_zeros()
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValueError(f"{name} must be a 2-D matrix, got shape {arr.shape}")
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():  # NaN != 0 would count as a tag
            r, c = np.argwhere(~np.isfinite(arr))[0]
            raise ValueError(f"{name} has non-finite entries (first at row {r}, column {c}: {arr[r, c]})")
        X = sp.csr_matrix(arr != 0)
    if X.data.size and not np.isfinite(X.data).all():
        bad = int(np.flatnonzero(~np.isfinite(X.data))[0])
        r = int(np.searchsorted(X.indptr, bad, side="right") - 1)
        raise ValueError(f"{name} has non-finite entries (first at row {r}, column {int(X.indices[bad])})")
    X.sort_indices()
    return sp.csr_matrix(
        (np.ones(X.nnz, dtype=np.float32), X.indices.astype(np.int32, copy=False), X.indptr.astype(np.int64)),
        shape=X.shape,
    )


def _as_dense(X: Any, name: str) -> np.ndarray:
    arr = X.toarray() if sp.issparse(X) else np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has NaN or infinite entries")
    return arr


def _positive_int(name: str, value: Any, upper: int | None = None, note: str = "") -> int:
    """``value`` as an int in ``[1, upper]`` (bools, fractions and non-numbers refused)."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not ok and isinstance(value, (float, np.floating)) and float(value).is_integer():
        ok = True
    if not ok or value < 1 or (upper is not None and value > upper):
        what = f"an integer in [1, {upper}]" if upper is not None else "a positive integer"
        raise ValueError(f"{name} must be {what}{note}, got {value!r}")
    return int(value)


def _check_M(M: int, n_candidates: int, self_excluded: bool) -> int:
    M = _positive_int("M", M)
    available = n_candidates - (1 if self_excluded else 0)
    if available < M:
        what = "other images (self excluded)" if self_excluded else "candidates"
        raise ValueError(f"asked for M={M} neighbours but there are only {max(available, 0)} {what}")
    return M


def _resolve_backend(backend: str, device: Any) -> tuple[str, Any]:
    dev_type = device_type(device)
    if backend == "auto":
        backend = "numpy" if dev_type == "cpu" else "torch"
    if backend in ("scipy", "numpy"):
        if dev_type != "cpu":
            raise ValueError(f"backend={backend!r} runs on the CPU only; use backend='torch' for {device!r}")
        return "numpy", None
    if backend != "torch":
        raise ValueError(f"backend must be 'auto', 'scipy'/'numpy' or 'torch', got {backend!r}")
    return "torch", resolve_device(device)


def _progress(total: int, enabled: bool, desc: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="img")


def _dense_blocks(Q: int, C: int, block_size: int | None) -> Iterator[tuple[int, int]]:
    if block_size is None:
        block_size = max(1, DEFAULT_MAX_DENSE_ELEMENTS // max(C, 1))
    block_size = _check_block_size(block_size)
    for r0 in range(0, Q, block_size):
        yield r0, min(Q, r0 + block_size)


def _check_block_size(block_size: int) -> int:
    return _positive_int("block_size", block_size, note=" or None")


# ----------------------------------------------------------------------------- exact top-M selection


def _fill_zero_similarity(
    n_have: np.ndarray,
    have_cols: np.ndarray,
    have_rows: np.ndarray,
    self_cols: np.ndarray | None,
    M: int,
    C: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lowest-index candidates for rows with fewer than ``M`` nonzero-similarity neighbours.

    Row ``i`` (of ``len(n_have)``) already has ``n_have[i] < M`` neighbours, whose columns are
    ``have_cols[have_rows == i]``; its candidate ``self_cols[i]`` (if given) is excluded.
    The ``M - n_have[i]`` smallest columns outside those ``<= n_have[i] + 1`` excluded ones
    all lie below ``M + 1``, so a window of ``min(C, M + 1)`` columns suffices.

    Returns ``(rows, cols, slot)``: fill candidate ``cols`` for row ``rows`` at output position ``slot``.
    """
    W = min(C, M + 1)
    excluded = np.zeros((len(n_have), W), dtype=bool)
    inwin = have_cols < W
    excluded[have_rows[inwin], have_cols[inwin]] = True
    if self_cols is not None:
        s_in = self_cols < W
        excluded[np.flatnonzero(s_in), self_cols[s_in]] = True
    # stable argsort of a bool row: free columns first, in ascending order
    free = np.argsort(excluded, axis=1, kind="stable")
    j = np.arange(W)
    take = j[None, :] < (M - n_have)[:, None]
    rows = np.broadcast_to(np.arange(len(n_have))[:, None], take.shape)[take]
    slot = (n_have[:, None] + j[None, :])[take]
    return rows, free[take].astype(np.int64), slot


def _select_sparse(
    counts: np.ndarray, cols: np.ndarray, dist: np.ndarray, M: int, C: int, self_cols: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``M`` of each row of a CSR-like block of candidate distances.

    ``counts`` (``b``) are the row lengths, ``cols``/``dist`` the entries row after row
    (any order within a row). Entries are the candidates with nonzero similarity (distance
    ``< 1``); every other candidate is at distance ``1``. ``self_cols`` (``b``) must already be
    absent from the entries; it is only excluded from the distance-1 fill.

    Per row: the ``M``-th smallest distance ``t`` (``np.partition`` on rows padded to a
    power-of-two width, bucketed by length so padding at most doubles the work); the
    entries ``<= t`` (``M`` plus ties at ``t``) are lex-sorted by (row, distance, column)
    and the first ``M`` kept; rows with fewer than ``M`` entries are completed with the
    lowest-index distance-1 candidates.
    """
    b = len(counts)
    indptr = np.zeros(b + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    thresh = np.full(b, np.inf)
    long_rows = np.flatnonzero(counts > M)
    if long_rows.size:
        lengths = counts[long_rows]
        bucket = np.ceil(np.log2(lengths)).astype(np.int64)
        for k in np.unique(bucket):
            rows = long_rows[bucket == k]
            width = int(counts[rows].max())
            valid = np.arange(width)[None, :] < counts[rows][:, None]
            pad = np.full(valid.shape, np.inf)
            # the rows' entries, concatenated in row order, fill the valid cells row-major
            seg = np.repeat(indptr[rows] - np.cumsum(counts[rows]) + counts[rows], counts[rows])
            pad[valid] = dist[seg + np.arange(seg.size)]
            thresh[rows] = np.partition(pad, M - 1, axis=1)[:, M - 1]
    keep = dist <= np.repeat(thresh, counts)
    sel = np.flatnonzero(keep)
    s_rows = np.repeat(np.arange(b, dtype=np.int64), counts)[sel] if b else np.zeros(0, np.int64)
    s_cols = cols[sel].astype(np.int64)
    s_dist = dist[sel]
    order = np.lexsort((s_cols, s_dist, s_rows))
    s_rows, s_cols, s_dist = s_rows[order], s_cols[order], s_dist[order]
    n_sel = np.bincount(s_rows, minlength=b)
    starts = np.zeros(b, dtype=np.int64)
    np.cumsum(n_sel[:-1], out=starts[1:])
    rank = np.arange(len(s_rows)) - starts[s_rows]
    top = rank < M
    out_idx = np.empty((b, M), dtype=np.int64)
    out_dist = np.empty((b, M), dtype=np.float64)
    out_idx[s_rows[top], rank[top]] = s_cols[top]
    out_dist[s_rows[top], rank[top]] = s_dist[top]
    short = np.flatnonzero(n_sel < M)
    if short.size:
        # rows with < M nonzero-similarity candidates: all their entries were selected
        in_short = np.zeros(b, dtype=bool)
        in_short[short] = True
        local = np.full(b, -1, dtype=np.int64)
        local[short] = np.arange(short.size)
        m = in_short[s_rows]
        f_rows, f_cols, f_slot = _fill_zero_similarity(
            n_sel[short], s_cols[m], local[s_rows[m]], None if self_cols is None else self_cols[short], M, C
        )
        out_idx[short[f_rows], f_slot] = f_cols
        out_dist[short[f_rows], f_slot] = 1.0
    return out_idx, out_dist


def _select_dense(dist: np.ndarray, M: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``M`` by (distance, column) of every row of a dense ``(b, C)`` block.

    ``np.partition`` finds each row's ``M``-th smallest distance ``v``; the row keeps every
    column with distance ``< v`` and, of those at exactly ``v``, the lowest-index ones until
    it has ``M``; only those ``M`` are then sorted by ``(distance, column)``. Linear in ``C``
    per row, instead of sorting all ``C`` entries.
    """
    b, C = dist.shape
    kth = np.partition(dist, M - 1, axis=1)[:, M - 1 : M]  # (b, 1)
    below = dist < kth
    at = dist == kth
    room = M - below.sum(axis=1)  # how many of the ties at v each row still takes
    keep = below | at
    crowded = np.flatnonzero(at.sum(axis=1) > room)  # rows with more ties at v than room
    if crowded.size:  # keep only the lowest-index ties there
        at_c = at[crowded]
        keep[crowded] = below[crowded] | (at_c & (np.cumsum(at_c, axis=1) <= room[crowded, None]))
    cols = np.nonzero(keep)[1].reshape(b, M)  # row-major, so each row's columns ascend
    d = np.take_along_axis(dist, cols, axis=1)
    order = np.lexsort((cols, d), axis=-1)
    return np.take_along_axis(cols, order, axis=1), np.take_along_axis(d, order, axis=1)


# ----------------------------------------------------------------------------- Jaccard


def _jaccard_blocks(entries_per_row: np.ndarray, block_size: int | None) -> list[tuple[int, int]]:
    Q = len(entries_per_row)
    if block_size is not None:
        bs = _check_block_size(block_size)
        return [(r0, min(Q, r0 + bs)) for r0 in range(0, Q, bs)]
    w = entries_per_row.astype(np.int64) + 1
    start = np.cumsum(w) - w
    bid = start // DEFAULT_MAX_BLOCK_ENTRIES
    cuts = np.flatnonzero(np.diff(bid)) + 1
    bounds = np.concatenate([[0], cuts, [Q]]).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _jaccard_numpy(
    Zq: sp.csr_matrix, Zc: sp.csr_matrix, M: int, self_mode: bool, block_size: int | None, bar, n_jobs
) -> tuple[np.ndarray, np.ndarray]:
    Q, C = Zq.shape[0], Zc.shape[0]
    nq = np.diff(Zq.indptr).astype(np.float64)
    nc = np.diff(Zc.indptr).astype(np.float64)
    ZcT = Zc.T.tocsr()  # (τ, C): row j lists the candidates carrying tag j
    df = np.diff(ZcT.indptr).astype(np.float64)
    # entries of row q of the product are at most sum_{j in q} df_j (and at most C)
    upper = np.minimum(Zq @ df, C)
    out_idx = np.empty((Q, M), dtype=np.int64)
    out_dist = np.empty((Q, M), dtype=np.float64)

    def one_block(bounds: tuple[int, int]) -> int:
        r0, r1 = bounds
        P = Zq[r0:r1] @ ZcT  # (b, C) intersections |a ∩ b| > 0, exact small integers
        counts = np.diff(P.indptr).astype(np.int64)
        cols = P.indices
        inter = P.data.astype(np.float64)
        self_cols = None
        if self_mode:
            self_cols = np.arange(r0, r1, dtype=np.int64)
            keep = cols != np.repeat(self_cols, counts)
            if not keep.all():
                removed = np.repeat(np.arange(r1 - r0), counts)[~keep]
                counts = counts - np.bincount(removed, minlength=r1 - r0)
                cols, inter = cols[keep], inter[keep]
        union = np.repeat(nq[r0:r1], counts) + nc[cols] - inter
        dist = 1.0 - inter / union
        out_idx[r0:r1], out_dist[r0:r1] = _select_sparse(counts, cols, dist, M, C, self_cols)
        return r1 - r0

    blocks = _jaccard_blocks(upper, block_size)
    n_threads = _n_threads(n_jobs, len(blocks))
    if n_threads == 1:
        done = map(one_block, blocks)
    else:  # numpy and scipy release the GIL in the heavy parts; blocks write disjoint rows
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(n_threads)
        done = pool.map(one_block, blocks)
    try:
        for n in done:
            if bar is not None:
                bar.update(n)
    finally:
        if n_threads > 1:
            pool.shutdown()
    return out_idx, out_dist


def _n_threads(n_jobs: int | None, n_blocks: int) -> int:
    if n_jobs is None:
        import os

        n_jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n_jobs = _positive_int("n_jobs", n_jobs, note=" or None")
    return max(1, min(int(n_jobs), n_blocks))


def _csr_to_torch_dense(X: sp.csr_matrix, device):
    """Dense 0/1 float32 copy of a binary CSR matrix, built directly on ``device``."""
    import torch

    rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
    out = torch.zeros(X.shape, dtype=torch.float32, device=device)
    out[torch.from_numpy(rows).to(device), torch.from_numpy(X.indices.astype(np.int64)).to(device)] = 1.0
    return out


def _torch_topm(dist, M: int, r0: int, self_mode: bool):
    """Exact top-M of a dense (b, C) torch block: stable sort keeps equal distances in column order."""
    import torch

    if self_mode:
        rows = torch.arange(dist.shape[0], device=dist.device)
        dist[rows, rows + r0] = torch.inf
    d, i = torch.sort(dist, dim=1, stable=True)
    return i[:, :M].cpu().numpy().astype(np.int64), d[:, :M].cpu().numpy().astype(np.float64)


def _jaccard_torch(
    Zq: sp.csr_matrix, Zc: sp.csr_matrix, M: int, self_mode: bool, block_size: int | None, device, bar
) -> tuple[np.ndarray, np.ndarray]:
    import torch

    Q, C = Zq.shape[0], Zc.shape[0]
    # Dense 0/1 float32 candidates on the device (C x τ x 4 bytes). 0 and 1 are exact in
    # TF32/bf16 too and products accumulate in float32, so intersections are exact (< 2^24).
    c = _csr_to_torch_dense(Zc, device)
    nc = torch.from_numpy(np.diff(Zc.indptr).astype(np.float64)).to(device)
    nq_all = np.diff(Zq.indptr).astype(np.float64)
    out_idx = np.empty((Q, M), dtype=np.int64)
    out_dist = np.empty((Q, M), dtype=np.float64)
    for r0, r1 in _dense_blocks(Q, C, block_size):
        q = _csr_to_torch_dense(Zq[r0:r1], device)
        inter = (q @ c.T).to(torch.float64)
        nq = torch.from_numpy(nq_all[r0:r1]).to(device)
        union = nq[:, None] + nc[None, :] - inter
        # 0/0 (both empty) -> similarity 0; otherwise the same float64 division as the CPU path
        zero = torch.zeros((), dtype=torch.float64, device=device)
        sim = torch.where(union > 0, inter / union.clamp_min(1.0), zero)
        out_idx[r0:r1], out_dist[r0:r1] = _torch_topm(1.0 - sim, M, r0, self_mode)
        if bar is not None:
            bar.update(r1 - r0)
    return out_idx, out_dist


def jaccard_neighbours(
    queries: Any,
    candidates: Any | None = None,
    M: int = 24,
    *,
    exclude_self: bool = True,
    block_size: int | None = None,
    device: Any = "cpu",
    progress: bool = False,
    backend: str = "auto",
    n_jobs: int | None = None,
) -> NeighbourTable:
    """Exact ``M`` nearest candidates of every query by Jaccard distance of binary metadata.

    ``d(a, b) = 1 - |a ∩ b| / |a ∪ b|`` over the nonzero patterns of the rows (stored values
    other than 1 count as 1). Results are sorted by ``(distance, candidate index)``; empty rows
    have similarity 0 (distance 1) to everything and are flagged in ``isolated`` - see the
    module docstring for the exact conventions.

    Args:
        queries: ``(Q, τ)`` binary metadata, scipy sparse (CSR preferred) or dense.
        candidates: ``(C, τ)`` binary metadata; ``None`` matches the queries against themselves
            (e.g. the training set against itself).
        M: neighbours per query.
        exclude_self: with ``candidates=None``, never return an image as its own neighbour.
            Ignored when ``candidates`` is given.
        block_size: query rows per block. ``None`` (CPU) picks blocks adaptively so a block's
            sparse product has at most ``DEFAULT_MAX_BLOCK_ENTRIES`` (2^19) entries unless one
            row alone has more; working memory is then about 40 bytes per product entry, i.e.
            ~20 MB per thread, plus the ``(Q, M)`` output. On the torch backend ``None`` means
            ``DEFAULT_MAX_DENSE_ELEMENTS // C`` rows (about 32 bytes per block element on the
            device, ~0.5 GB) and the candidates are held densely on the device (``C·τ·4`` bytes).
        device: ``"cpu"`` or a torch device such as ``"cuda"`` (implies ``backend="torch"``).
        progress: show a tqdm progress bar over the queries.
        backend: ``"auto"`` (``"numpy"`` on CPU, ``"torch"`` otherwise), ``"numpy"`` (alias
            ``"scipy"``) or ``"torch"``
            (``backend="torch", device="cpu"`` runs the GPU code path on the CPU).
        n_jobs: CPU backend: threads working on blocks concurrently (``None``: the usable
            cores). Each thread holds one block's working memory. Results do not depend on it.

    Returns:
        A :class:`NeighbourTable` with ``metric="jaccard"``.

    Raises:
        ValueError: if fewer than ``M`` candidates exist (``C - 1`` when self is excluded),
            or shapes disagree.
    """
    Zq = _as_binary_csr(queries, "queries")
    self_mode = candidates is None
    Zc = Zq if self_mode else _as_binary_csr(candidates, "candidates")
    if Zq.shape[1] != Zc.shape[1]:
        raise ValueError(f"queries have {Zq.shape[1]} columns but candidates have {Zc.shape[1]}")
    excl = self_mode and exclude_self
    M = _check_M(M, Zc.shape[0], excl)
    kind, dev = _resolve_backend(backend, device)
    bar = _progress(Zq.shape[0], progress, "jaccard neighbours")
    try:
        if kind == "numpy":
            idx, dist = _jaccard_numpy(Zq, Zc, M, excl, block_size, bar, n_jobs)
        else:
            idx, dist = _jaccard_torch(Zq, Zc, M, excl, block_size, dev, bar)
    finally:
        if bar is not None:
            bar.close()
    return NeighbourTable(idx, dist, np.diff(Zq.indptr) == 0, "jaccard", M)


# ----------------------------------------------------------------------------- cosine


def _unit_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = np.sqrt(np.einsum("ij,ij->i", X, X))
    zero = norm == 0
    return X / np.where(zero, 1.0, norm)[:, None], zero


def cosine_neighbours(
    queries: Any,
    candidates: Any | None = None,
    M: int = 24,
    *,
    exclude_self: bool = True,
    block_size: int | None = None,
    device: Any = "cpu",
    progress: bool = False,
    backend: str = "auto",
) -> NeighbourTable:
    """Exact ``M`` nearest candidates by cosine distance ``1 - cos`` of dense embedded metadata.

    Same arguments, order ``(distance, index)`` and self/too-few conventions as
    :func:`jaccard_neighbours`. Rows with zero norm are treated like empty metadata:
    similarity 0 (distance 1) to everything, flagged in ``isolated``. Note that cosine
    distances range over ``[0, 2]``, so a zero-norm candidate (distance 1) ranks ahead of
    negatively correlated ones. Rows are normalised in float64 and compared with one matrix
    product per block (``block_size`` rows; ``None``: ``DEFAULT_MAX_DENSE_ELEMENTS // C``).
    Distances are clipped to ``[0, 2]`` (no negative rounding noise on duplicates).
    Exact float ties are rare here; distances may
    differ in the last bits between backends or block sizes (different summation order of
    the products), which can swap candidates whose distances agree to ~1e-16.
    """
    Xq = _as_dense(queries, "queries")
    self_mode = candidates is None
    Xc = Xq if self_mode else _as_dense(candidates, "candidates")
    if Xq.shape[1] != Xc.shape[1]:
        raise ValueError(f"queries have {Xq.shape[1]} columns but candidates have {Xc.shape[1]}")
    excl = self_mode and exclude_self
    M = _check_M(M, Xc.shape[0], excl)
    kind, dev = _resolve_backend(backend, device)
    Uq, zero_q = _unit_rows(Xq)
    Uc = Uq if self_mode else _unit_rows(Xc)[0]  # zero rows stay zero: cos = 0, distance 1
    Q, C = Uq.shape[0], Uc.shape[0]
    out_idx = np.empty((Q, M), dtype=np.int64)
    out_dist = np.empty((Q, M), dtype=np.float64)
    bar = _progress(Q, progress, "cosine neighbours")
    try:
        if kind == "torch":
            import torch

            tc = torch.from_numpy(Uc).to(dev)
        for r0, r1 in _dense_blocks(Q, C, block_size):
            if kind == "numpy":
                dist = np.clip(1.0 - Uq[r0:r1] @ Uc.T, 0.0, 2.0)
                if excl:
                    dist[np.arange(r1 - r0), np.arange(r0, r1)] = np.inf
                out_idx[r0:r1], out_dist[r0:r1] = _select_dense(dist, M)
            else:
                dist = (1.0 - torch.from_numpy(Uq[r0:r1]).to(dev) @ tc.T).clamp_(0.0, 2.0)
                out_idx[r0:r1], out_dist[r0:r1] = _torch_topm(dist, M, r0, excl)
            if bar is not None:
                bar.update(r1 - r0)
    finally:
        if bar is not None:
            bar.close()
    return NeighbourTable(out_idx, out_dist, zero_q, "cosine", M)


# ----------------------------------------------------------------------------- the LTN protocol


def split_neighbours(
    Z: Any, split: Any, M: int = 24, metric: str = "jaccard", **kw: Any
) -> dict[str, NeighbourTable]:
    """Neighbour tables for the parts of a split, following the LTN protocol.

    Training images take their neighbours from the training set (self excluded); validation
    and test images from the validation (test) set itself - a test image never sees training
    metadata, as in the paper. The returned ``indices`` are **global** row indices of ``Z``
    (the dataset's image order), not positions within the part.

    Args:
        Z: ``(N, τ)`` binary metadata (``metric="jaccard"``) or ``(N, d)`` dense embedded
            metadata (``metric="cosine"``) of the whole dataset.
        split: anything with ``.train``, ``.val`` and ``.test`` index arrays
            (:class:`neighborlib.data.Split`).
        M: neighbours per image.
        metric: ``"jaccard"`` or ``"cosine"``.
        **kw: passed to :func:`jaccard_neighbours` / :func:`cosine_neighbours`
            (``block_size``, ``device``, ``progress``, ``backend``).

    Returns:
        ``{"train": ..., "val": ..., "test": ...}``; the table of an empty part has zero rows.

    Raises:
        ValueError: if a non-empty part has ``M`` or fewer images (the message names the part).
    """
    funcs = {"jaccard": jaccard_neighbours, "cosine": cosine_neighbours}
    if metric not in funcs:
        raise ValueError(f"metric must be one of {sorted(funcs)}, got {metric!r}")
    if "candidates" in kw:
        raise TypeError("split_neighbours chooses the candidates itself; do not pass candidates")
    rows = Z.tocsr() if sp.issparse(Z) else np.asarray(Z)
    out: dict[str, NeighbourTable] = {}
    for part in ("train", "val", "test"):
        index = np.asarray(getattr(split, part), dtype=np.int64)
        if index.size == 0:
            out[part] = NeighbourTable(
                np.zeros((0, M), np.int64), np.zeros((0, M)), np.zeros(0, bool), metric, M
            )
            continue
        try:
            table = funcs[metric](rows[index], None, M, **kw)
        except ValueError as err:
            raise ValueError(f"{part} part ({index.size} images): {err}") from None
        out[part] = table.mapped(index)
    return out


# ----------------------------------------------------------------------------- sampling


def sample_neighbourhoods(
    table_or_indices: NeighbourTable | np.ndarray,
    m: int,
    K: int = 10,
    rng: np.random.Generator | int | None = 0,
) -> np.ndarray:
    """Random ``m``-neighbourhoods of each query, drawn from its ``M`` nearest neighbours.

    LTN (Section 3) treats every ``m``-subset of an image's ``M`` nearest neighbours as an
    equally good neighbourhood. Training draws **one** subset per image per pass (call with
    ``K=1`` and a per-epoch seed, e.g. ``rng=[seed, epoch]``-style ints or a generator you keep);
    at test time the predictions of ``K`` subsets (the paper uses ``K=10``) are averaged.

    For every query and each of ``K`` samples this draws an m-subset uniformly at random
    (no repeats within a subset; samples are independent of each other) by ranking ``M``
    i.i.d. uniform keys and keeping the ``m`` smallest. Within a subset the neighbours are
    listed in the table's order (nearest first).

    Args:
        table_or_indices: a :class:`NeighbourTable` or an ``(Q, M)`` index array.
        m: neighbourhood size, ``1 <= m <= M``.
        K: samples per query.
        rng: a seed (anything ``numpy.random.default_rng`` takes) or a Generator (advanced).
            A given seed always gives the same result.

    Returns:
        ``(Q, K, m)`` int64 neighbour indices (the values of the table's ``indices``).
    """
    idx = table_or_indices.indices if isinstance(table_or_indices, NeighbourTable) else table_or_indices
    idx = np.asarray(idx)
    if idx.ndim != 2:
        raise ValueError(f"expected a (Q, M) index array, got shape {idx.shape}")
    Q, M = idx.shape
    m = _positive_int("m", m, upper=M, note=f" (M = {M})")
    K = _positive_int("K", K)
    m, K = int(m), int(K)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    out = np.empty((Q, K, m), dtype=np.int64)
    chunk = max(1, (1 << 22) // (K * M))  # bounded memory; same stream as one big draw
    for q0 in range(0, Q, chunk):
        q1 = min(Q, q0 + chunk)
        keys = gen.random((q1 - q0, K, M))
        pos = np.sort(np.argpartition(keys, m - 1, axis=-1)[..., :m], axis=-1) if m < M else (
            np.broadcast_to(np.arange(M), keys.shape)
        )
        out[q0:q1] = np.take_along_axis(idx[q0:q1, None, :], pos, axis=-1)
    return out
