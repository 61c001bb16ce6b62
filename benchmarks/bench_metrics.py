"""Benchmark: the metrics module against scikit-learn, the reference its tests compare with.

Run ``python benchmarks/bench_metrics.py [--repeat 5]``.

``neighborlib.metrics`` keeps its own vectorised average precision and ROC AUC (equal to
scikit-learn's to 1e-12, see ``tests/test_metrics.py``) because the protocol evaluates every
method on every split, and per-image AP needs one scikit-learn call per test image. This
script measures, in the same run and on a test part of the book's sizes (MIRFlickr: 4,456
images x 24 labels; COCO-person: 566 x 79), best of ``--repeat``:

1. per-label mAP: ours against ``average_precision_score`` per column;
2. per-image mAP: ours against ``average_precision_score`` per row;
3. macro AUC: ours against ``roc_auc_score(average="macro")``.

It prints both times and the ratio scikit-learn / ours (above 1: ours is faster).
"""
from __future__ import annotations

import argparse

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from neighborlib import metrics
from timing import best_of  # benchmarks/timing.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for name, (n, L, rate) in {"MIRFlickr test": (4456, 24, 0.15), "COCO-person test": (566, 79, 0.05)}.items():
        Y = (rng.random((n, L)) < rate).astype(int)
        Y[0] = 1  # every label has a positive
        S = Y + rng.standard_normal((n, L))
        rows = np.flatnonzero(Y.sum(1) > 0)
        cases = {
            "per-label mAP": (
                lambda: metrics.mean_average_precision(S, Y, per="label"),
                lambda: np.mean([average_precision_score(Y[:, j], S[:, j]) for j in range(L)]),
            ),
            "per-image mAP": (
                lambda: metrics.mean_average_precision(S, Y, per="image"),
                lambda: np.mean([average_precision_score(Y[i], S[i]) for i in rows]),
            ),
            "macro AUC": (lambda: metrics.auc(S, Y), lambda: roc_auc_score(Y, S, average="macro")),
        }
        print(f"{name}: {n:,} images x {L} labels")
        for what, (ours, peer) in cases.items():
            assert abs(float(ours()) - float(peer())) < 1e-9, what
            t_ours, t_peer = best_of(ours, args.repeat), best_of(peer, args.repeat)
            print(f"  {what:<14} ours {1e3 * t_ours:8.2f} ms   scikit-learn {1e3 * t_peer:8.2f} ms   "
                  f"ratio {t_peer / t_ours:6.1f}x")


if __name__ == "__main__":
    main()
