"""Benchmark: exact top-M Jaccard neighbours on the real MIRFlickr-25K tags.

Run ``python benchmarks/bench_neighbours.py`` (or ``make bench``). It builds the binary
tag matrix Z of the tagged images (τ most frequent tags over all tagged images) and compares
:func:`neighborlib.neighbours.jaccard_neighbours` with two peers:

1. scikit-learn ``NearestNeighbors(metric="jaccard", algorithm="brute")`` on a dense bool
   matrix of the first ``--n-sklearn`` tagged images (measured once: it is slow);
2. a plain reference on all tagged images: blocked sparse product, dense conversion and
   ``np.argpartition`` (``reference_neighbours`` below).

For each it checks that the neighbour *sets* agree up to ties at the M-th distance (the
neighbours strictly closer than the M-th distance are the same sets) and that the sorted
distances agree element-wise. scikit-learn/SciPy put two *empty* rows at Jaccard distance 0,
whereas neighborlib defines an empty row's similarity as 0 to everything (distance 1), so the
scikit-learn comparison is restricted to queries with metadata (printed).

Data root: ``NEIGHBORLIB_DATA`` or ``../shared/data`` (see :func:`neighborlib.data.data_root`).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neighborlib.data import Vocabulary, data_root  # noqa: E402
from neighborlib.neighbours import jaccard_neighbours  # noqa: E402


def load_tagged_token_lists() -> list[tuple[str, ...]]:
    """Tag tuples of the MIRFlickr-25K images that have at least one tag, in image order."""
    try:
        from neighborlib.data import load_dataset

        ds = load_dataset("mirflickr25k")
        tags = ds.tokens("tags")
        return [tuple(t) for t in tags if len(t) > 0]
    except ImportError:  # loader not available: read meta/tags/tags<N>.txt directly
        root = data_root()
        if root is None:
            raise SystemExit("no data root: set NEIGHBORLIB_DATA (see neighborlib.data.data_root)")
        folder = root / "mirflickr25k" / "meta" / "tags"
        out = []
        for n in range(1, 25001):
            path = folder / f"tags{n}.txt"
            if path.exists():
                toks = tuple(dict.fromkeys(s.strip() for s in path.read_text(errors="replace").splitlines()))
                toks = tuple(t for t in toks if t)
                if toks:
                    out.append(toks)
        return out


def reference_neighbours(Z: sp.csr_matrix, M: int, block: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """The named peer: blocked sparse product -> dense block -> np.argpartition (self excluded)."""
    n = Z.shape[0]
    sizes = np.diff(Z.indptr).astype(np.float64)
    ZT = Z.T.tocsr()
    idx = np.empty((n, M), dtype=np.int64)
    dist = np.empty((n, M), dtype=np.float64)
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        inter = (Z[r0:r1] @ ZT).toarray().astype(np.float64)
        union = sizes[r0:r1, None] + sizes[None, :] - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            d = 1.0 - np.where(union > 0, inter / union, 0.0)
        d[np.arange(r1 - r0), np.arange(r0, r1)] = np.inf
        part = np.argpartition(d, M - 1, axis=1)[:, :M]
        pd = np.take_along_axis(d, part, axis=1)
        order = np.argsort(pd, axis=1, kind="stable")
        idx[r0:r1] = np.take_along_axis(part, order, axis=1)
        dist[r0:r1] = np.take_along_axis(pd, order, axis=1)
    return idx, dist


def sklearn_neighbours(X: np.ndarray, M: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn brute-force Jaccard with M + 1 neighbours, the query itself removed."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=M + 1, metric="jaccard", algorithm="brute").fit(X)
    d, i = nn.kneighbors(X)
    out_i = np.empty((len(X), M), dtype=np.int64)
    out_d = np.empty((len(X), M))
    for q in range(len(X)):
        keep = i[q] != q
        if keep.all():  # self not among the M + 1 (many exact duplicates): drop the last
            keep[-1] = False
        out_i[q], out_d[q] = i[q][keep], d[q][keep]
    return out_i, out_d


def compare(ours_i, ours_d, other_i, other_d, rows, atol: float) -> tuple[int, int, float]:
    """(#rows whose sets below the M-th distance differ, #rows checked, max |distance difference|)."""
    max_diff = float(np.abs(ours_d[rows] - other_d[rows]).max()) if len(rows) else 0.0
    bad = 0
    for q in rows:
        thr = ours_d[q, -1] - atol
        a = set(ours_i[q][ours_d[q] < thr].tolist())
        b = set(other_i[q][other_d[q] < thr].tolist())
        bad += a != b
    return bad, len(rows), max_diff


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--n-sklearn", type=int, default=4000, help="images for the scikit-learn comparison (0: skip)"
    )
    ap.add_argument("--tau", type=int, default=5000, help="vocabulary size τ")
    ap.add_argument("--M", type=int, default=24, help="neighbours per image")
    ap.add_argument("--device", default="cpu", help="cpu or a torch device such as cuda")
    ap.add_argument("--repeats", type=int, default=3, help="timings of ours: best of this many runs")
    ap.add_argument("--skip-reference", action="store_true", help="skip the all-images reference")
    args = ap.parse_args(argv)
    M = args.M
    ok = True

    t0 = time.perf_counter()
    tokens = load_tagged_token_lists()
    vocab = Vocabulary.top_frequent(tokens, args.tau)
    Z = vocab.encode(tokens)
    empty = np.diff(Z.indptr) == 0
    print(
        f"data: {Z.shape[0]} MIRFlickr-25K images with at least one tag, τ = {len(vocab)}, "
        f"nnz = {Z.nnz}, {int(empty.sum())} rows empty after the vocabulary cut "
        f"(loaded in {time.perf_counter() - t0:.1f} s)"
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cpu threads usable: {cores}")
    ratio_sk = ratio_ref = float("nan")

    if args.n_sklearn > 0:
        n = min(args.n_sklearn, Z.shape[0])
        Zs = Z[:n]
        X = Zs.toarray().astype(bool)
        t_sk, (sk_i, sk_d) = best_of(lambda: sklearn_neighbours(X, M), 1)
        t_ours, table = best_of(lambda: jaccard_neighbours(Zs, None, M, device=args.device), args.repeats)
        t_ours1, _ = best_of(
            lambda: jaccard_neighbours(Zs, None, M, device=args.device, n_jobs=1), args.repeats
        )
        ratio_sk = t_sk / t_ours
        rows = np.flatnonzero(~empty[:n])
        bad, checked, diff = compare(table.indices, table.distances, sk_i, sk_d, rows, atol=1e-9)
        print(f"\n[first {n} images] scikit-learn brute jaccard: {t_sk:.2f} s (once)")
        print(f"[first {n} images] neighborlib ({args.device}): {t_ours:.4f} s (1 thread: {t_ours1:.4f} s)")
        print(f"[first {n} images] speed-up: {ratio_sk:.0f}x  (1 thread: {t_sk / t_ours1:.0f}x)")
        print(
            f"[first {n} images] vs scikit-learn on {checked} queries with metadata: "
            f"{bad} differing neighbour sets, max |Δdistance| = {diff:.2e}"
        )
        e = np.flatnonzero(empty[:n])
        if e.size:
            print(
                f"[first {n} images] {e.size} empty queries not compared: scikit-learn puts other empty rows "
                f"at distance {sk_d[e].min():.1f} (neighborlib: 1, similarity 0 to everything)"
            )
        ok &= bad == 0 and diff < 1e-9

    if not args.skip_reference:
        t_ref, (ref_i, ref_d) = best_of(lambda: reference_neighbours(Z, M), 1)
        t_all, table = best_of(lambda: jaccard_neighbours(Z, None, M, device=args.device), args.repeats)
        t_all1, _ = best_of(
            lambda: jaccard_neighbours(Z, None, M, device=args.device, n_jobs=1), args.repeats
        )
        ratio_ref = t_ref / t_all
        rows = np.arange(Z.shape[0])
        bad, checked, diff = compare(table.indices, table.distances, ref_i, ref_d, rows, atol=0)
        tag = f"[all {Z.shape[0]} images]"
        print(f"\n{tag} reference (sparse product + dense + argpartition): {t_ref:.2f} s")
        print(f"{tag} neighborlib ({args.device}): {t_all:.3f} s (1 thread: {t_all1:.3f} s)")
        print(f"{tag} speed-up: {ratio_ref:.1f}x  (1 thread: {t_ref / t_all1:.1f}x)")
        print(
            f"[all {Z.shape[0]} images] vs reference: {bad} of {checked} neighbour sets differ, "
            f"max |Δdistance| = {diff:.1e}; isolated queries: {int(table.isolated.sum())}"
        )
        ok &= bad == 0 and diff == 0.0

    print(
        f"\nSUMMARY: vs scikit-learn {ratio_sk:.0f}x (target >= 300x), vs reference {ratio_ref:.1f}x "
        f"(ours {'%.2f s' % t_all if not args.skip_reference else 'n/a'}, target <= 2 s); "
        f"results {'identical' if ok else 'DIFFER'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
