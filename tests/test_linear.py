"""MultiLabelLogistic minimises scikit-learn's LogisticRegression objective for every label at once."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from neighborlib.models import MultiLabelLogistic


def _problem(seed=0, n=300, d=12, n_labels=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, n_labels))
    Y = (X @ W + rng.standard_normal((n, n_labels)) > 0.5).astype(int)
    return X, Y


@pytest.mark.parametrize("C", [0.01, 1.0])
def test_matches_sklearn_per_label(C):
    X, Y = _problem()
    model = MultiLabelLogistic(C=C, standardise=False, tol=1e-10).fit(X, Y)
    for j in range(Y.shape[1]):
        ref = LogisticRegression(C=C, tol=1e-10, max_iter=5000).fit(X, Y[:, j])
        np.testing.assert_allclose(model.coef_[j], ref.coef_[0], atol=1e-5)
        assert model.intercept_[j] == pytest.approx(ref.intercept_[0], abs=1e-5)
        np.testing.assert_allclose(model.decision_function(X)[:, j], ref.decision_function(X), atol=1e-4)


def test_standardised_fit_equals_sklearn_on_standardised_features_and_is_repeatable():
    X, Y = _problem(seed=1)
    X = X * np.arange(1, 13) + 5.0  # badly scaled columns
    model = MultiLabelLogistic(C=0.1, tol=1e-10).fit(X, Y)
    Xs = (X - X.mean(0)) / X.std(0)
    ref = LogisticRegression(C=0.1, tol=1e-10, max_iter=5000).fit(Xs, Y[:, 2])
    np.testing.assert_allclose(model.decision_function(X)[:, 2], ref.decision_function(Xs), atol=1e-4)
    again = MultiLabelLogistic(C=0.1, tol=1e-10).fit(X, Y)
    np.testing.assert_array_equal(again.decision_function(X), model.decision_function(X))


def _sklearn_val_map(X_tr, Y_tr, X_va, Y_va, C):
    """Per-label validation mAP of independent scikit-learn fits (standardised features)."""
    from sklearn.metrics import average_precision_score

    mu, sd = X_tr.mean(0), X_tr.std(0)
    aps = []
    for j in range(Y_tr.shape[1]):
        ref = LogisticRegression(C=C, tol=1e-10, max_iter=5000).fit((X_tr - mu) / sd, Y_tr[:, j])
        aps.append(average_precision_score(Y_va[:, j], ref.decision_function((X_va - mu) / sd)))
    return float(np.mean(aps))


def test_select_C_picks_the_best_validation_map_and_warm_start_reaches_the_same_optimum():
    X, Y = _problem(seed=2, n=400)
    X_tr, Y_tr, X_va, Y_va = X[:300], Y[:300], X[300:], Y[300:]
    best, val = MultiLabelLogistic.select_C(X_tr, Y_tr, X_va, Y_va, grid=(0.001, 0.1, 10.0), tol=1e-10)
    ref = {C: _sklearn_val_map(X_tr, Y_tr, X_va, Y_va, C) for C in (0.001, 0.1, 10.0)}
    assert list(val) == list(ref)
    np.testing.assert_allclose(list(val.values()), list(ref.values()), atol=1e-9)
    assert best.C == max(ref, key=lambda c: (ref[c], -c))
    cold = MultiLabelLogistic(C=best.C, tol=1e-10).fit(X_tr, Y_tr)
    np.testing.assert_allclose(best.coef_, cold.coef_, atol=1e-5)


def test_select_C_extends_a_grid_that_clips_the_optimum():
    rng = np.random.default_rng(0)  # weak signal in 60 features, 100 training rows: C ~ 0.1 is best
    X = rng.standard_normal((200, 60))
    Y = (0.1 * X @ rng.standard_normal((60, 3)) + rng.standard_normal((200, 3)) > 0).astype(int)
    X_tr, Y_tr, X_va, Y_va = X[:100], Y[:100], X[100:], Y[100:]
    _, plain = MultiLabelLogistic.select_C(X_tr, Y_tr, X_va, Y_va, grid=(10.0, 100.0), tol=1e-8)
    assert max(plain, key=plain.get) == 10.0  # the grid's lower end
    best, val = MultiLabelLogistic.select_C(X_tr, Y_tr, X_va, Y_va, grid=(10.0, 100.0), extend=5, tol=1e-8)
    # one decade per step (the grid's ratio) until the best is interior: 1, 0.1, then 0.01 is worse
    assert list(val) == pytest.approx([0.01, 0.1, 1.0, 10.0, 100.0])
    assert best.C == pytest.approx(0.1)
    ref = {C: _sklearn_val_map(X_tr, Y_tr, X_va, Y_va, C) for C in val}
    np.testing.assert_allclose(list(val.values()), list(ref.values()), atol=1e-6)
    assert max(ref, key=ref.get) == best.C
    _, capped = MultiLabelLogistic.select_C(X_tr, Y_tr, X_va, Y_va, grid=(10.0, 100.0), extend=1, tol=1e-8)
    assert list(capped) == pytest.approx([1.0, 10.0, 100.0])  # at most `extend` steps


def test_bad_input_is_named():
    X, Y = _problem()
    X[7, 3] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf \(row 7, column 3\)"):
        MultiLabelLogistic().fit(X, Y)
    with pytest.raises(ValueError, match="C must be positive"):
        MultiLabelLogistic(C=0)
    with pytest.raises(RuntimeError, match="not fitted"):
        MultiLabelLogistic().decision_function(X)
