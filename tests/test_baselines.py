"""TagLogistic: the tag-only baseline equals scikit-learn's per-label liblinear fit."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from neighborlib.models import TagLogistic, knn_vote


@pytest.fixture
def toy():
    rng = np.random.default_rng(0)
    Z = sp.random(300, 40, density=0.1, format="csr", random_state=1, data_rvs=np.ones, dtype=np.float32)
    w = rng.normal(size=(40, 4))
    Y = (Z @ w + 0.3 * rng.normal(size=(300, 4)) > 0.2).astype(np.uint8)
    Y[:, 3] = 0  # a label with no positives in training
    return Z, Y


def test_matches_sklearn_per_label(toy):
    Z, Y = toy
    model = TagLogistic(C=0.7, seed=3).fit(Z, Y)
    for j in range(3):
        ref = LogisticRegression(C=0.7, solver="liblinear", random_state=3, max_iter=1000).fit(Z, Y[:, j])
        np.testing.assert_allclose(model.decision_function(Z)[:, j], ref.decision_function(Z), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(model.predict_proba(Z)[:, j], ref.predict_proba(Z)[:, 1], rtol=1e-10)


def test_single_class_label_gets_constant_prior(toy):
    Z, Y = toy
    scores = TagLogistic().fit(Z, Y).decision_function(Z)[:, 3]
    assert np.all(scores == scores[0])
    assert scores[0] == pytest.approx(np.log(1 / 301))  # (0 + 1) / (300 + 2) as odds


def test_deterministic_bit_for_bit(toy):
    Z, Y = toy
    a = TagLogistic(C=1.0, seed=0).fit(Z, Y).decision_function(Z)
    b = TagLogistic(C=1.0, seed=0).fit(Z, Y).decision_function(Z)
    assert np.array_equal(a, b)


def test_select_C_picks_the_best_validation_map(toy):
    """Validation mAP of each C against independent scikit-learn fits and scikit-learn's AP."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score

    Z, Y = toy
    best, scores = TagLogistic.select_C(Z[:200], Y[:200], Z[200:], Y[200:], grid=(0.01, 1.0, 100.0))
    assert list(scores) == [0.01, 1.0, 100.0]
    for C, got in scores.items():
        aps = []
        for j in range(Y.shape[1]):
            if Y[200:, j].sum() == 0:
                continue
            ref = LogisticRegression(C=C, solver="liblinear", random_state=0, max_iter=1000).fit(Z[:200], Y[:200, j])
            aps.append(average_precision_score(Y[200:, j], ref.decision_function(Z[200:])))
        assert got == pytest.approx(np.mean(aps), abs=1e-9), C
    assert best.C == max(scores, key=lambda c: (scores[c], -c))


def test_unfitted_and_shape_errors(toy):
    Z, Y = toy
    with pytest.raises(RuntimeError, match="not fitted"):
        TagLogistic().decision_function(Z)
    with pytest.raises(ValueError, match="rows"):
        TagLogistic().fit(Z, Y[:10])


def test_knn_vote_hand_example():
    labels = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    scores = knn_vote(np.array([[0, 1, 2], [3, 3, 1]]), labels)
    np.testing.assert_allclose(scores, [[2 / 3, 1 / 3], [1 / 3, 1.0]])
    with pytest.raises(ValueError, match="shape"):
        knn_vote(np.zeros((2, 0), int), labels)
