"""Tests for neighborlib.metrics against sklearn and naive reference implementations."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, precision_score, recall_score, roc_auc_score

from neighborlib.metrics import (
    TopKResult,
    auc,
    average_precision_per_image,
    average_precision_per_label,
    evaluate,
    format_mean_std,
    mean_average_precision,
    precision_recall_f1_at_k,
    precision_recall_f1_threshold_top,
    summarise,
    upper_bound_at_k,
)

SEEDS = [0, 1, 2, 3]


def _random_problem(seed: int, n: int = 60, n_labels: int = 12, quantise: bool = False):
    """Random (scores, targets); label 0 has no positives, image 0 has no positives."""
    rng = np.random.default_rng(seed)
    scores = rng.random((n, n_labels))
    if quantise:  # few distinct values -> many ties
        scores = np.round(scores * 4) / 4
    targets = (rng.random((n, n_labels)) < 0.25).astype(np.int64)
    targets[:, 0] = 0
    targets[0, :] = 0
    return scores, targets


# --------------------------------------------------------------------------- naive references


def _naive_topk_prediction(scores: np.ndarray, k: int, threshold: float | None = None) -> np.ndarray:
    n, n_labels = scores.shape
    pred = np.zeros((n, n_labels), dtype=np.int64)
    for i in range(n):
        ranked = sorted(range(n_labels), key=lambda j: (-scores[i, j], j))
        for j in ranked[:k]:
            if threshold is None or scores[i, j] > threshold:
                pred[i, j] = 1
    return pred


def _expected_topk_prediction(scores: np.ndarray, k: int, threshold: float | None = None) -> np.ndarray:
    """Brute force: the naive top-k prediction averaged over *every* order of the label columns.

    Each column order breaks ties differently (lower position first), so the mean over all
    ``L!`` orders is the expected prediction under uniformly random tie-breaking.
    """
    import itertools

    n_labels = scores.shape[1]
    total = np.zeros(scores.shape)
    orders = list(itertools.permutations(range(n_labels)))
    for perm in orders:
        perm = np.array(perm)
        pred = _naive_topk_prediction(scores[:, perm], k, threshold)
        total[:, perm] += pred
    return total / len(orders)


def _naive_prf(pred: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    n, n_labels = pred.shape
    precisions, recalls = [], []
    tot_c = tot_p = tot_t = 0
    for j in range(n_labels):
        c = sum(pred[i, j] * targets[i, j] for i in range(n))
        p = sum(pred[i, j] for i in range(n))
        t = sum(int(targets[i, j]) for i in range(n))
        tot_c, tot_p, tot_t = tot_c + c, tot_p + p, tot_t + t
        if t == 0:
            continue
        precisions.append(c / p if p else 0.0)
        recalls.append(c / t)
    pl, rl = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    po, ro = tot_c / tot_p, tot_c / tot_t
    return {
        "per_label_precision": pl,
        "per_label_recall": rl,
        "per_label_f1": 2 * pl * rl / (pl + rl) if pl + rl else 0.0,
        "overall_precision": po,
        "overall_recall": ro,
        "overall_f1": 2 * po * ro / (po + ro) if po + ro else 0.0,
    }


# --------------------------------------------------------------------------- average precision


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("quantise", [False, True])
def test_ap_per_label_matches_sklearn(seed: int, quantise: bool) -> None:
    scores, targets = _random_problem(seed, quantise=quantise)
    ap = average_precision_per_label(scores, targets)
    assert ap.shape == (scores.shape[1],)
    assert np.isnan(ap[0])  # label without positives
    expected = [average_precision_score(targets[:, j], scores[:, j]) for j in range(1, scores.shape[1])]
    np.testing.assert_allclose(ap[1:], expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("quantise", [False, True])
def test_ap_per_image_matches_sklearn(seed: int, quantise: bool) -> None:
    scores, targets = _random_problem(seed, quantise=quantise)
    ap = average_precision_per_image(scores, targets)
    assert ap.shape == (scores.shape[0],)
    has_pos = targets.sum(axis=1) > 0
    assert np.isnan(ap[0]) and np.all(np.isnan(ap[~has_pos]))
    idx = np.flatnonzero(has_pos)
    expected = [average_precision_score(targets[i], scores[i]) for i in idx]
    np.testing.assert_allclose(ap[idx], expected, rtol=1e-12, atol=0)


def test_ap_heavy_ties_hand_example() -> None:
    # One threshold block {0.8, 0.8, 0.8} holding 2 positives of 3 items: AP = 1 * (2/3).
    # (Any within-block ordering would give 1, 5/6 or 7/12 instead.)
    scores = np.array([[0.8], [0.8], [0.8], [0.1]])
    targets = np.array([[1], [0], [1], [0]])
    np.testing.assert_allclose(average_precision_per_label(scores, targets), [2 / 3], rtol=1e-15)
    scores = np.array([[0.9], [0.8], [0.8], [0.1]])
    np.testing.assert_allclose(average_precision_per_label(scores, targets), [5 / 6], rtol=1e-15)


def test_map_ignores_nan_and_all_nan_is_nan() -> None:
    scores, targets = _random_problem(5)
    ap_l = average_precision_per_label(scores, targets)
    ap_i = average_precision_per_image(scores, targets)
    assert mean_average_precision(scores, targets) == pytest.approx(np.mean(ap_l[1:]), rel=1e-14)
    assert mean_average_precision(scores, targets, per="image") == pytest.approx(
        np.mean(ap_i[~np.isnan(ap_i)]), rel=1e-14
    )
    zero = np.zeros_like(targets)
    assert math.isnan(mean_average_precision(scores, zero, per="label"))
    assert math.isnan(mean_average_precision(scores, zero, per="image"))
    with pytest.raises(ValueError):
        mean_average_precision(scores, targets, per="labels")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- top-k P/R/F1


def _hand_example() -> tuple[np.ndarray, np.ndarray]:
    scores = np.array(
        [
            [0.9, 0.8, 0.1, 0.2, 0.0],
            [0.1, 0.7, 0.6, 0.5, 0.95],
            [0.5, 0.5, 0.5, 0.0, 0.0],  # three-way tie for two places -> 2/3 each
        ]
    )
    targets = np.array(
        [
            [1, 0, 0, 1, 0],
            [0, 1, 0, 0, 0],
            [0, 0, 1, 0, 0],
        ]
    )
    return scores, targets



def _assert_summary(r, label: tuple, overall: tuple) -> None:
    """The six summary numbers (per-label and overall precision, recall, F1) against hand values."""
    got = (r.per_label_precision, r.per_label_recall, r.per_label_f1,
           r.overall_precision, r.overall_recall, r.overall_f1)  # fmt: skip
    assert got == pytest.approx(label + overall, rel=1e-14)

def test_prf_at_k_hand_example() -> None:
    scores, targets = _hand_example()
    r = precision_recall_f1_at_k(scores, targets, k=2)
    # predictions: img0 {0,1}, img1 {4,1}, img2: labels 0, 1, 2 tie for 2 places -> 2/3 each
    np.testing.assert_allclose(r.n_predicted, [5 / 3, 8 / 3, 2 / 3, 0, 1], rtol=1e-14)
    np.testing.assert_allclose(r.n_correct, [1, 1, 2 / 3, 0, 0], rtol=1e-14)
    np.testing.assert_array_equal(r.n_positive, [1, 1, 1, 1, 0])
    np.testing.assert_array_equal(r.evaluated, [True, True, True, True, False])
    np.testing.assert_allclose(r.label_precision, [3 / 5, 3 / 8, 1, 0, 0], rtol=1e-14)
    np.testing.assert_allclose(r.label_recall, [1, 1, 2 / 3, 0, np.nan], rtol=1e-14)
    # label 4 (no positives) excluded from the macro means
    # overall: 8/3 expected correct, 6 predicted (incl. the wrong label-4 one), 4 positives
    _assert_summary(r, label=(79 / 160, 2 / 3, 316 / 557), overall=(4 / 9, 2 / 3, 8 / 15))
    assert set(r.as_dict()) == {
        "per_label_precision", "per_label_recall", "per_label_f1",
        "overall_precision", "overall_recall", "overall_f1",
    }


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 3, 5])
def test_prf_at_k_matches_naive_loop(seed: int, k: int) -> None:
    scores, targets = _random_problem(seed, n=30, n_labels=6, quantise=(seed % 2 == 1))
    r = precision_recall_f1_at_k(scores, targets, k)
    ref = _naive_prf(_expected_topk_prediction(scores, k), targets)
    for key, value in ref.items():
        assert getattr(r, key) == pytest.approx(value, rel=1e-12), key


@pytest.mark.parametrize("seed", SEEDS)
def test_top_k_metrics_do_not_depend_on_label_column_order(seed: int) -> None:
    """kNN votes tie often; a permutation of the label columns must not change any metric."""
    rng = np.random.default_rng(100 + seed)
    votes = rng.integers(0, 4, size=(80, 9)) / 3.0  # a 3-neighbour vote: 4 distinct values
    targets = (rng.random((80, 9)) < 0.3).astype(int)
    perm = rng.permutation(9)
    for k in (1, 3, 5):
        a = precision_recall_f1_at_k(votes, targets, k)
        b = precision_recall_f1_at_k(votes[:, perm], targets[:, perm], k)
        for key, value in a.as_dict().items():
            assert getattr(b, key) == pytest.approx(value, rel=1e-12), (k, key)
        np.testing.assert_allclose(b.label_precision, a.label_precision[perm], rtol=1e-12)
        t = precision_recall_f1_threshold_top(votes[:, perm], targets[:, perm], k, threshold=0.5)
        assert t.as_dict() == pytest.approx(precision_recall_f1_threshold_top(votes, targets, k, 0.5).as_dict())
    assert evaluate(votes[:, perm], targets[:, perm]) == pytest.approx(evaluate(votes, targets), rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_prf_at_k_matches_sklearn(seed: int) -> None:
    k = 3
    scores, targets = _random_problem(seed, quantise=False)  # no ties: one prediction matrix
    pred = _naive_topk_prediction(scores, k)
    r = precision_recall_f1_at_k(scores, targets, k)
    assert r.overall_precision == pytest.approx(
        precision_score(targets, pred, average="micro", zero_division=0), rel=1e-12
    )
    assert r.overall_recall == pytest.approx(
        recall_score(targets, pred, average="micro", zero_division=0), rel=1e-12
    )
    p_lab = precision_score(targets, pred, average=None, zero_division=0)
    r_lab = recall_score(targets, pred, average=None, zero_division=0)
    has_pos = targets.sum(axis=0) > 0
    assert not has_pos.all()  # the convention is actually exercised
    np.testing.assert_allclose(r.label_precision, p_lab, rtol=1e-12)
    np.testing.assert_allclose(r.label_recall[has_pos], r_lab[has_pos], rtol=1e-12)
    assert r.per_label_precision == pytest.approx(p_lab[has_pos].mean(), rel=1e-12)
    assert r.per_label_recall == pytest.approx(r_lab[has_pos].mean(), rel=1e-12)


def test_k_larger_than_vocab_predicts_everything_and_bad_k() -> None:
    scores, targets = _hand_example()
    r = precision_recall_f1_at_k(scores, targets, k=10)
    np.testing.assert_array_equal(r.n_predicted, [3] * 5)
    assert r.overall_recall == 1.0
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError):
            precision_recall_f1_at_k(scores, targets, k=bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- threshold variant


def test_threshold_top_hand_example() -> None:
    scores, targets = _hand_example()
    r = precision_recall_f1_threshold_top(scores, targets, k=2, threshold=0.5)
    # predictions: img0 {0,1}, img1 {4,1}, img2 {} (0.5 is not > 0.5)
    np.testing.assert_array_equal(r.n_predicted, [1, 2, 0, 0, 1])
    np.testing.assert_array_equal(r.n_correct, [1, 1, 0, 0, 0])
    _assert_summary(r, label=(3 / 8, 1 / 2, 3 / 7), overall=(1 / 2, 1 / 2, 1 / 2))
    # threshold that removes everything: precision 0 by convention, F1 0
    r0 = precision_recall_f1_threshold_top(scores, targets, k=2, threshold=1.0)
    assert r0.n_predicted.sum() == 0
    assert (r0.overall_precision, r0.overall_recall, r0.overall_f1) == (0.0, 0.0, 0.0)
    assert (r0.per_label_precision, r0.per_label_f1) == (0.0, 0.0)


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_threshold_top_matches_naive_loop(seed: int) -> None:
    scores, targets = _random_problem(seed, n=30, n_labels=6, quantise=True)
    r = precision_recall_f1_threshold_top(scores, targets, k=3, threshold=0.5)
    ref = _naive_prf(_expected_topk_prediction(scores, 3, threshold=0.5), targets)
    for key, value in ref.items():
        assert getattr(r, key) == pytest.approx(value, rel=1e-12), key


# --------------------------------------------------------------------------- AUC


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("quantise", [False, True])
def test_auc_matches_sklearn(seed: int, quantise: bool) -> None:
    scores, targets = _random_problem(seed, quantise=quantise)
    targets[:, 1] = 1  # a second single-class label (all positive)
    valid = [j for j in range(targets.shape[1]) if 0 < targets[:, j].sum() < targets.shape[0]]
    assert 0 not in valid and 1 not in valid
    expected_macro = np.mean([roc_auc_score(targets[:, j], scores[:, j]) for j in valid])
    assert auc(scores, targets, average="macro") == pytest.approx(expected_macro, rel=1e-12)
    assert auc(scores, targets, average="micro") == pytest.approx(
        roc_auc_score(targets, scores, average="micro"), rel=1e-12
    )
    # with only two-class labels, identical to sklearn's own macro average
    assert auc(scores[:, valid], targets[:, valid]) == pytest.approx(
        roc_auc_score(targets[:, valid], scores[:, valid], average="macro"), rel=1e-12
    )


def test_auc_hand_example_and_degenerate() -> None:
    # pairs (pos, neg): (0.8 vs 0.8) tie -> 1/2, (0.8 vs 0.1) -> 1, (0.3 vs 0.8) -> 0, (0.3 vs 0.1) -> 1
    scores = np.array([[0.8], [0.3], [0.8], [0.1]])
    targets = np.array([[1], [1], [0], [0]])
    assert auc(scores, targets) == pytest.approx(2.5 / 4, rel=1e-15)
    assert math.isnan(auc(scores, np.ones_like(targets)))
    assert math.isnan(auc(scores, np.zeros_like(targets), average="micro"))
    with pytest.raises(ValueError):
        auc(scores, targets, average="weighted")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- upper bound


def test_upper_bound_hand_example() -> None:
    targets = np.array([[1, 1, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
    r = upper_bound_at_k(targets, k=2)
    # img0: three positives share two places (2/3 each); img1: label 1, then labels 0, 2, 3
    # share one place (1/3 each); img2: label 3, then labels 0, 1, 2 at 1/3 each
    np.testing.assert_allclose(r.n_predicted, [4 / 3, 2, 4 / 3, 4 / 3], rtol=1e-14)
    np.testing.assert_allclose(r.n_correct, [2 / 3, 5 / 3, 2 / 3, 1], rtol=1e-14)
    assert r.per_label_precision == pytest.approx(31 / 48, rel=1e-14)
    assert r.per_label_recall == pytest.approx(19 / 24, rel=1e-14)
    assert r.per_label_f1 == pytest.approx(589 / 828, rel=1e-14)
    assert r.overall_precision == pytest.approx(2 / 3, rel=1e-14)
    assert r.overall_recall == pytest.approx(4 / 5, rel=1e-14)
    assert r.overall_f1 == pytest.approx(8 / 11, rel=1e-14)


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_upper_bound_full_recall_when_k_covers_all_positives(seed: int) -> None:
    _, targets = _random_problem(seed, n=50, n_labels=15)
    k_max = int(targets.sum(axis=1).max())
    r = upper_bound_at_k(targets, k=k_max)
    assert r.overall_recall == 1.0
    assert r.per_label_recall == 1.0
    # and it agrees with a perfect score matrix through the ordinary path
    r2 = precision_recall_f1_at_k(targets.astype(float), targets, k_max)
    assert r.as_dict() == r2.as_dict()
    # with smaller k recall drops below 1 but precision of each image's top is perfect where possible
    assert upper_bound_at_k(targets, k=1).overall_recall < 1.0
    assert upper_bound_at_k(targets, k=1).overall_precision == pytest.approx(
        (targets.sum(axis=1) > 0).mean(), rel=1e-14
    )


# --------------------------------------------------------------------------- torch, validation


def test_torch_inputs_match_numpy() -> None:
    torch = pytest.importorskip("torch")
    scores, targets = _random_problem(7, quantise=True)
    st = torch.tensor(scores, dtype=torch.float64, requires_grad=True)
    tt = torch.tensor(targets)
    np.testing.assert_array_equal(
        average_precision_per_label(st, tt), average_precision_per_label(scores, targets)
    )
    np.testing.assert_array_equal(
        average_precision_per_image(st, tt.bool()), average_precision_per_image(scores, targets)
    )
    r_torch, r_np = precision_recall_f1_at_k(st, tt, 3), precision_recall_f1_at_k(scores, targets, 3)
    assert r_torch.as_dict() == r_np.as_dict()
    assert auc(st, tt) == auc(scores, targets)
    assert upper_bound_at_k(tt, 3).as_dict() == upper_bound_at_k(targets, 3).as_dict()
    np.testing.assert_equal(evaluate(st, tt), evaluate(scores, targets))


def test_validation_errors() -> None:
    scores, targets = _hand_example()
    with pytest.raises(ValueError, match="same shape"):
        average_precision_per_label(scores[:, :4], targets)
    with pytest.raises(ValueError, match="2-D"):
        average_precision_per_label(scores[0], targets[0])
    with pytest.raises(ValueError, match="2-D"):
        upper_bound_at_k(targets[0], 1)
    with pytest.raises(ValueError, match="only 0 and 1"):
        precision_recall_f1_at_k(scores, targets * 2, 1)
    with pytest.raises(ValueError, match="only 0 and 1"):
        auc(scores, targets - 0.5)
    with pytest.raises(ValueError, match="NaN"):
        average_precision_per_image(np.where(targets == 1, np.nan, scores), targets)
    with pytest.raises(ValueError, match="non-empty"):
        mean_average_precision(np.zeros((0, 3)), np.zeros((0, 3)))
    # bool and float 0./1. targets are fine
    np.testing.assert_array_equal(
        average_precision_per_label(scores, targets.astype(bool)),
        average_precision_per_label(scores, targets.astype(float)),
    )


# --------------------------------------------------------------------------- evaluate / tables


def test_evaluate_keys_and_values() -> None:
    scores, targets = _random_problem(3)
    out = evaluate(scores, targets, ks=(3, 5))
    expected_keys = ["mAP_label", "mAP_image"]
    for k in (3, 5):
        expected_keys += [f"{m}@{k}_{kind}" for kind in ("label", "overall") for m in ("P", "R", "F1")]
    expected_keys += ["AUC_macro", "AUC_micro"]
    assert sorted(out) == sorted(expected_keys)
    assert all(isinstance(v, float) for v in out.values())
    assert out["mAP_label"] == mean_average_precision(scores, targets, "label")
    r5 = precision_recall_f1_at_k(scores, targets, 5)
    assert out["R@5_label"] == r5.per_label_recall
    assert out["F1@5_overall"] == r5.overall_f1
    assert out["AUC_micro"] == auc(scores, targets, "micro")


def test_summarise_and_format() -> None:
    results = [{"a": 0.5, "b": 1.0}, {"a": 0.7, "b": 1.0}, {"b": 1.0, "a": 0.6}]
    df = summarise(results)
    assert list(df.index) == ["a", "b"] and list(df.columns) == ["mean", "std"]
    assert df.loc["a", "mean"] == pytest.approx(0.6, rel=1e-14)
    assert df.loc["a", "std"] == pytest.approx(0.1, rel=1e-12)  # sample std, ddof=1
    assert df.loc["b", "std"] == 0.0
    single = summarise([{"a": 0.25}])
    assert single.loc["a", "std"] == 0.0
    text = format_mean_std(df, digits=3)
    assert isinstance(text, pd.Series)
    assert text["a"] == "0.600 ± 0.100"
    assert text["b"] == "1.000 ± 0.000"
    assert format_mean_std(single, digits=2)["a"] == "0.25 ± 0.00"
    with pytest.raises(ValueError):
        summarise([])
    with pytest.raises(ValueError):
        summarise([{"a": 1.0}, {"b": 1.0}])


def test_topk_result_is_frozen() -> None:
    scores, targets = _hand_example()
    r = precision_recall_f1_at_k(scores, targets, 2)
    assert isinstance(r, TopKResult)
    with pytest.raises(AttributeError):
        r.overall_f1 = 1.0  # type: ignore[misc]
