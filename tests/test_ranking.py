"""Chapter 7's protocol methods and helpers: the methods' shapes and errors, the seeds of
``protocol.reseeded``, ``metrics.expected_random_ap`` (against every permutation),
``claims.stability`` (against the F table) and the WordNet stand-in's independence of the
order in which WordNet lists hypernyms.

Cost: the synthetic benchmark (300 images, no photos) about 1.5 s, a few two-epoch fits of
8-unit networks on 16 random features, WordNet 3-5 s when present.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import neighborlib.ranking as ranking
from neighborlib import claims
from neighborlib.embeddings import label_word_vectors
from neighborlib.metrics import average_precision_per_label, expected_random_ap
from neighborlib.models.minibatch import SGDConfig
from neighborlib.protocol import load_benchmark, on_reseeded, on_training_subset, reseeded, split_data, training_subset

CFG = SGDConfig(epochs=2, min_epochs=1, batch_size=32, optimiser="adam")


@pytest.fixture(scope="module")
def data():
    bench = load_benchmark("synthetic", n_images=300, render=False)
    X = np.random.default_rng(0).normal(size=(len(bench), 16)).astype("float32")
    return split_data(bench, 0, n_splits=1, features=X)


def _W(data, d=6, seed=1):
    return np.random.default_rng(seed).normal(size=(data.labels.shape[1], d)).astype("float32")


def test_methods_score_the_test_part_and_keep_their_model(data):
    scores, info = ranking.transform_rank(_W(data), k=3, hidden=8, config=CFG, n_negatives=5, keep_model=True)(data)
    assert scores.shape == data.Y("test").shape and np.isfinite(scores).all()
    assert (scores <= 0).all()  # -||A w||²
    P = ranking.projections(info["model"], info["X_test"])
    assert P.shape == (len(data.test), data.labels.shape[1], 3)
    np.testing.assert_allclose(-np.square(P).sum(-1), scores, rtol=1e-5, atol=1e-5)
    assert 1 <= info["epoch"] <= CFG.epochs and 0 < info["val mAP_image"] <= 1
    for loss in ("logistic", "softmax", "warp"):
        s, _ = ranking.label_scorer(loss, hidden=8, config=CFG)(data)
        assert s.shape == data.Y("test").shape


def test_methods_name_bad_inputs(data):
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        ranking.label_scorer("hinge")
    with pytest.raises(ValueError, match="unknown method"):
        ranking.rank_config("lstm")
    W = _W(data)
    W[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or inf in row 3"):
        ranking.transform_rank(W, k=3, hidden=8, config=CFG)(data)
    with pytest.raises(ValueError, match=r"label vectors of shape \(2, 6\)"):
        ranking.devise(_W(data)[:2], hidden=8, config=CFG)(data)


def test_rank_config_takes_each_methods_tuned_rate():
    assert ranking.rank_config("warp").lr == ranking.TUNED_LR["warp"] == 3e-3
    assert ranking.rank_config("transform", CFG).epochs == 2 and ranking.rank_config("transform", CFG).lr == 1e-2


def test_reseeded_keeps_the_split_and_changes_the_methods_streams(data):
    other = reseeded(data, 7)
    assert other.seed == 7 and other.split is data.split and other.features is data.features
    method = ranking.transform_rank(_W(data), k=3, hidden=8, config=CFG, n_negatives=5)
    a, _ = method(data)
    b, _ = method(reseeded(data, data.seed))
    c, _ = method(other)
    np.testing.assert_array_equal(a, b)  # the same seed: the same bits
    assert not np.allclose(a, c)
    np.testing.assert_array_equal(on_reseeded(method, 7 - data.seed)(data)[0], c)  # the page's seed study


def test_on_training_subset_hands_the_method_the_subset(data):
    seen = []
    spy = on_training_subset(lambda d: seen.append(d) or np.zeros((len(d.test), d.labels.shape[1])), 0.3)
    spy(data)
    np.testing.assert_array_equal(seen[0].train, training_subset(data, 0.3).train)
    assert len(seen[0].train) < len(data.train) and seen[0].test is data.test


@pytest.mark.parametrize("n, m", [(5, 1), (5, 2), (6, 3), (4, 4)])
def test_expected_random_ap_is_the_mean_over_every_ranking(n, m):
    t = np.zeros((n, 1))
    t[:m] = 1
    aps = [average_precision_per_label(np.array(p, float)[:, None], t)[0] for p in itertools.permutations(range(n))]
    assert expected_random_ap(m, n) == pytest.approx(np.mean(aps), rel=1e-12)


def test_expected_random_ap_by_hand_and_errors():
    # one relevant item among 4: E[1/rank] = (1 + 1/2 + 1/3 + 1/4) / 4
    assert expected_random_ap(1, 4) == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4)
    out = expected_random_ap([0, 3], [3, 3])
    assert np.isnan(out[0]) and out[1] == 1.0
    with pytest.raises(ValueError):
        expected_random_ap(5, 4)


def test_stability_is_the_one_sided_f_test():
    noise = [0.0, 1.0, 2.0]            # variance 1
    F, p, verdict = claims.stability([0.0, 1.0, 2.0, 3.0, 4.0], noise)  # variance 2.5
    assert F == pytest.approx(2.5)
    # the tabled 5 % point of F(4, 2) is 19.247
    assert claims.stability(np.sqrt(19.247) * np.array([0.0, 1.0, 2.0, 3.0, 4.0]) / np.sqrt(2.5), noise)[1] == \
        pytest.approx(0.05, abs=2e-4)
    assert verdict == "confirmed" and p > 0.05
    assert claims.stability([0.0, 10.0, 20.0, 30.0, 40.0], noise)[2] == "refuted"
    assert claims.stability([0.0, 1.0], [0.5])[2] == "not resolved"
    with pytest.raises(ValueError):
        claims.stability([1.0], noise)


def test_wordnet_stand_in_does_not_depend_on_the_order_of_hypernyms(wordnet_root, monkeypatch):
    """WordNet lists a synset's hypernyms from a set, in an order that changes with the hash
    seed; the stand-in sorts them, so reversing the listing changes nothing."""
    from gensim.models import KeyedVectors
    from nltk.corpus.reader.wordnet import Synset

    from neighborlib.wordnet import load_wordnet

    wn = load_wordnet(wordnet_root)
    kv = KeyedVectors(3)
    kv.add_vectors(["toy", "disk"], np.eye(3, dtype=np.float32)[:2])
    first = label_word_vectors(["frisbee"], kv, wn)[1].loc["frisbee", "source"]
    original = Synset.hypernyms
    monkeypatch.setattr(Synset, "hypernyms", lambda self: list(reversed(original(self))))
    assert label_word_vectors(["frisbee"], kv, wn)[1].loc["frisbee", "source"] == first
    assert first == "WordNet hypernym (+1): disk"  # disk.n.02 sorts before plaything.n.01


def test_harmonic_numbers_by_hand():
    from fractions import Fraction

    from neighborlib.metrics import harmonic_numbers

    exact = [float(sum(Fraction(1, j) for j in range(1, r + 1))) for r in range(8)]
    np.testing.assert_allclose(harmonic_numbers(7), exact, rtol=1e-15, atol=0)
    assert harmonic_numbers(0).tolist() == [0.0]
    with pytest.raises(ValueError, match="n_max must be >= 0"):
        harmonic_numbers(-1)
