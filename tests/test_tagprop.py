"""TagProp: learned rank weights on toy problems with a known answer, a really optimised
likelihood, σTagProp's lift of a rare label, and the protocol method on a small split."""
from __future__ import annotations

import numpy as np
import pytest

from neighborlib.metrics import average_precision_per_image, average_precision_per_label
from neighborlib.models import TagProp


def _first_copies(seed: int, Q: int = 400, K: int = 6, L: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Each image's labels equal its 1st neighbour's exactly; ranks 2..K are random images."""
    rng = np.random.default_rng(seed)
    Y = (rng.random((Q, L)) < 0.3).astype(np.uint8)
    N = (rng.random((Q, K, L)) < 0.3).astype(np.uint8)
    N[:, 0] = Y
    return N, Y


def _iid_copies(seed: int, Q: int = 2000, K: int = 4, L: int = 8, flip: float = 0.25):
    """Every neighbour is an independent noisy copy of the image's labels (each bit flipped w.p. ``flip``)."""
    rng = np.random.default_rng(seed)
    Y = (rng.random((Q, L)) < 0.3).astype(np.uint8)
    flipped = rng.random((Q, K, L)) < flip
    return np.where(flipped, 1 - Y[:, None, :], Y[:, None, :]).astype(np.uint8), Y


def _decaying(seed: int, Q: int = 800, K: int = 5, L: int = 6):
    """Neighbour k copies the image's labels with a probability falling with k, else draws at the rate."""
    rng = np.random.default_rng(seed)
    rate = np.linspace(0.1, 0.5, L)
    Y = (rng.random((Q, L)) < rate).astype(np.uint8)
    copy = rng.random((Q, K, L)) < np.linspace(0.8, 0.1, K)[None, :, None]
    draw = (rng.random((Q, K, L)) < rate).astype(np.uint8)
    return np.where(copy, Y[:, None, :], draw).astype(np.uint8), Y


@pytest.mark.parametrize("sigmoid", [False, True])
def test_first_neighbour_carries_the_labels(sigmoid):
    N, Y = _first_copies(0)
    model = TagProp(sigmoid=sigmoid).fit(N, Y)
    assert model.gamma.shape == (6,) and model.gamma.sum() == pytest.approx(1.0, abs=1e-12)
    assert model.gamma[0] > 0.9, model.gamma
    # fresh images from the same world: every image's true labels rank above its others, and per label
    Nt, Yt = _first_copies(1)
    P = model.predict(Nt)
    assert P.shape == Yt.shape and ((P >= 0) & (P <= 1)).all()
    has = (Yt.sum(axis=1) > 0) & (Yt.sum(axis=1) < Yt.shape[1])
    np.testing.assert_array_equal(average_precision_per_image(P[has], Yt[has]), 1.0)
    np.testing.assert_array_equal(average_precision_per_label(P, Yt), 1.0)


@pytest.mark.parametrize("sigmoid", [False, True])
def test_equally_informative_neighbours_get_uniform_weights(sigmoid):
    """With exchangeable neighbours the population optimum is γ_k = 1/K (for the plain model the
    likelihood is concave in γ and symmetric; for σTagProp the naive-Bayes log-odds of iid copies
    is linear in the vote count, so uniform γ is the correctly specified model). What is left is
    sampling noise: over seeds 0..19 of this toy the standard deviation of a fitted γ_k is at most
    0.010 (plain) and 0.0065 (σ), the largest deviation from 1/4 0.024 and 0.015. The tolerance
    0.05 is five standard deviations, while a fit that favours rank 1 (or leaves γ at its start
    and learns nothing else) is caught by the first test and the likelihood tests."""
    N, Y = _iid_copies(0)
    model = TagProp(sigmoid=sigmoid).fit(N, Y)
    np.testing.assert_allclose(model.gamma, 0.25, atol=0.05)


@pytest.mark.parametrize("sigmoid", [False, True])
def test_fit_beats_uniform_weights_and_is_repeatable(sigmoid):
    N, Y = _decaying(0)
    model = TagProp(sigmoid=sigmoid).fit(N, Y)
    fitted = model.log_likelihood(N, Y)
    assert np.all(np.diff(model.gamma) < 0), model.gamma  # the informative ranks weigh more
    uniform = model.gamma.copy()
    model.gamma = np.full(5, 0.2)
    assert fitted > model.log_likelihood(N, Y) + 0.05
    model.gamma = uniform
    P = model.predict(N)  # the probabilities predict gives are the ones the likelihood scores
    assert np.mean(np.sum(Y * np.log(P) + (1 - Y) * np.log1p(-P), axis=1)) == pytest.approx(fitted, rel=1e-10)
    again = TagProp(sigmoid=sigmoid).fit(N, Y)
    np.testing.assert_array_equal(again.gamma, model.gamma)
    np.testing.assert_array_equal(again.predict(N), model.predict(N))


def test_plain_fit_matches_a_brute_force_grid_for_two_neighbours():
    N, Y = _decaying(1, K=2)
    model = TagProp(sigmoid=False, tol=1e-10).fit(N, Y)
    fitted_ll, fitted_g1 = model.log_likelihood(N, Y), model.gamma[0]
    grid = np.linspace(0, 1, 2001)
    lls = []
    for g in grid:
        model.gamma = np.array([g, 1 - g])
        lls.append(model.log_likelihood(N, Y))
    best = int(np.argmax(lls))
    assert 0 < best < len(grid) - 1  # an interior optimum, so the check below is about the optimiser
    assert abs(fitted_g1 - grid[best]) <= 1e-3
    assert fitted_ll >= lls[best] - 1e-12


def test_sigma_fit_is_a_stationary_point():
    """Central differences of the log-likelihood (no penalty: l2 = 0, on a noisy, non-separable
    toy) in every α_w, β_w and softmax parameter θ_k vanish at the fit."""
    N, Y = _decaying(2)
    model = TagProp(sigmoid=True, l2=0.0, tol=1e-10).fit(N, Y)
    gamma, alpha, beta = model.gamma.copy(), model.alpha.copy(), model.beta.copy()
    h = 1e-5

    def ll(g=gamma, a=alpha, b=beta) -> float:
        model.gamma, model.alpha, model.beta = g, a, b
        return model.log_likelihood(N, Y)

    grads = []
    for w in range(len(alpha)):
        e = np.eye(len(alpha))[w] * h
        grads += [(ll(a=alpha + e) - ll(a=alpha - e)) / (2 * h), (ll(b=beta + e) - ll(b=beta - e)) / (2 * h)]
    theta = np.log(gamma)
    for k in range(len(gamma)):
        e = np.eye(len(gamma))[k] * h
        soft = lambda t: np.exp(t) / np.exp(t).sum()  # noqa: E731
        grads.append((ll(g=soft(theta + e)) - ll(g=soft(theta - e))) / (2 * h))
    assert np.max(np.abs(grads)) < 1e-6, grads
    # the same differences are far from zero away from the optimum (the check can fail)
    assert abs(ll(a=alpha * 0.9) - ll(a=alpha * 1.1)) > 1e-3


def _rare(seed: int, Q: int = 3000, K: int = 10):
    """Three frequent labels (rate 0.5) whose neighbours are weak evidence (a neighbour has the
    label w.p. 0.65 if the image has it, 0.35 if not) and one rare label (rate 0.03) whose
    neighbours are strong evidence (0.3 if the image has it, 0.003 if not)."""
    rng = np.random.default_rng(seed)
    rate = np.array([0.5, 0.5, 0.5, 0.03])
    hit, false = np.array([0.65, 0.65, 0.65, 0.3]), np.array([0.35, 0.35, 0.35, 0.003])
    Y = (rng.random((Q, 4)) < rate).astype(np.uint8)
    N = (rng.random((Q, K, 4)) < np.where(Y[:, None, :] == 1, hit, false)).astype(np.uint8)
    return N, Y


def test_sigmoid_variant_lifts_the_rare_label():
    """The plain model's probability of the rare label on its positives is the fraction of
    neighbours with it (~0.3), below a frequent label's on its negatives (~0.35): in an image's
    ranking the rare label sinks. σTagProp's α_w, β_w recalibrate each label. (Per-label AP
    cannot tell the two apart: σ(α_w x + β_w) is monotone in x, so only γ would differ.)"""
    N, Y = _rare(0)
    Nt, Yt = _rare(1)
    rare = Yt[:, 3] == 1
    plain = TagProp(sigmoid=False).fit(N, Y)
    sigma = TagProp(sigmoid=True).fit(N, Y)

    def in_top2(P: np.ndarray) -> float:  # the rare label among its image's two highest scores
        return float(((P[rare] > P[rare][:, [3]]).sum(axis=1) < 2).mean())

    Pp, Ps = plain.predict(Nt), sigma.predict(Nt)
    assert in_top2(Ps) > in_top2(Pp) + 0.3  # measured: 0.77 against 0.18
    ap_p = average_precision_per_image(Pp[rare], Yt[rare]).mean()
    ap_s = average_precision_per_image(Ps[rare], Yt[rare]).mean()
    assert ap_s > ap_p + 0.05  # measured: 0.96 against 0.82
    # calibration on the training set: σTagProp's mean probability of the rare label is its rate
    # (the β_w equation of a logistic fit), the plain model's far below it
    assert sigma.predict(N)[:, 3].mean() == pytest.approx(Y[:, 3].mean(), abs=1e-3)
    assert plain.predict(N)[:, 3].mean() < Y[:, 3].mean() - 0.01


def test_errors():
    N, Y = _first_copies(0, Q=20)
    with pytest.raises(RuntimeError, match="not fitted"):
        TagProp().predict(N)
    with pytest.raises(ValueError, match="binary"):
        TagProp().fit(N * 2, Y)
    with pytest.raises(ValueError, match="shape"):
        TagProp().fit(N, Y[:10])
    model = TagProp(sigmoid=False).fit(N, Y)
    assert model.alpha is None and model.beta is None
    with pytest.raises(ValueError, match="K = 6"):
        model.predict(N[:, :3])
    with pytest.raises(ValueError, match="eps"):
        TagProp(eps=0.0)


@pytest.fixture(scope="module")
def small_split():
    from neighborlib.protocol import load_benchmark, split_data

    bench = load_benchmark("synthetic", n_images=300, render=False)
    rng = np.random.default_rng(0)
    labels = bench.dataset.labels.astype(np.float64)  # features that make visual neighbours informative
    X = labels @ rng.standard_normal((labels.shape[1], 16)) + 0.5 * rng.standard_normal((len(labels), 16))
    return split_data(bench, 0, features=X.astype(np.float32))


def test_method_on_a_small_split(small_split):
    from neighborlib import methods

    data = small_split
    n_train = len(data.train)
    grid = (5, 20, 10_000)  # the last is capped at the other training images
    usable = {5, 20, n_train - 1}
    scores, info = methods.tagprop(ks=grid)(data)
    assert scores.shape == (len(data.test), data.labels.shape[1])
    assert ((scores >= 0) & (scores <= 1)).all()
    assert info["K"] in usable and 0 <= info["gamma_1"] <= 1 and 0 < info["val mAP_label"] <= 1

    def not_computed_again():
        raise AssertionError("the neighbour search ran twice")

    nbr = data.cached(("tagprop_neighbours", n_train - 1), not_computed_again)
    own = nbr["train"]
    assert own.shape == (n_train, n_train - 1)
    assert not (own == data.train[:, None]).any()  # a training image is never its own neighbour
    for part in ("train", "val", "test"):  # every neighbour is a training image, each at most once
        table = nbr[part]
        assert table.shape == (len(getattr(data, part)), n_train - 1)
        assert np.isin(table, data.train).all()
        assert all(len(set(row)) == n_train - 1 for row in table)
    # the plain variant reuses the same search and gives probabilities too
    scores_plain, info_plain = methods.tagprop(ks=grid, sigmoid=False)(data)
    assert data.cached(("tagprop_neighbours", n_train - 1), not_computed_again) is nbr
    assert scores_plain.shape == scores.shape and info_plain["K"] in usable
