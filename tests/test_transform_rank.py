"""Chapter 7's transformation ranking (Li and Yeh, arXiv:1802.07460): the model, Eq. 3's hinge
rank loss, the baselines' losses (softmax, WARP), the committee of A's rows, and
fit_multilabel's ranking options - each against a hand computation or a brute-force loop.

Cost: tiny tensors; the training test fits a 6-feature toy for a few epochs (about a second).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score

from neighborlib.models.minibatch import SGDConfig, fit_multilabel, predict_logits
from neighborlib.models.transform_rank import (
    DeViSE, TransformRank, committee_votes, hinge_rank_loss, mean_row_jaccard, random_jaccard, rank_weights,
    row_top_labels, sample_negatives, softmax_loss, transform_rank_loss, warp_draws, warp_loss,
    warp_violations,
)

D = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _targets(B: int, L: int, seed: int, p: float = 0.4) -> torch.Tensor:
    return (torch.rand(B, L, generator=_gen(seed)) < p).float()


# ----------------------------------------------------------------------------- the model


def _brute_scores(A: torch.Tensor, W: torch.Tensor) -> np.ndarray:
    """-||A_b w_l||² by explicit loops over images, labels and A's rows (float64)."""
    A, W = A.double(), W.double()
    B, k, d = A.shape
    out = np.zeros((B, len(W)))
    for b in range(B):
        for l in range(len(W)):
            total = 0.0
            for r in range(k):
                proj = sum(float(A[b, r, j]) * float(W[l, j]) for j in range(d))
                total += proj * proj
            out[b, l] = -total
    return out


@pytest.mark.parametrize("hidden", [0, 6])
def test_transform_rank_forward_is_minus_the_squared_norm_of_A_w(hidden):
    g = _gen(0)
    x = torch.randn(3, 5, generator=g)
    W = torch.randn(4, 3, generator=g)
    net = TransformRank(5, W, k=2, hidden=hidden, generator=_gen(1))
    with torch.no_grad():
        nn_bias = torch.randn(net.fc8.bias.shape, generator=g)  # a non-zero bias: A w = U v w + b w
        net.fc8.bias.copy_(nn_bias)
        A = net.transforms(x)
        scores = net(x)
    assert A.shape == (3, 2, 3) and scores.shape == (3, 4)
    # A is fc8's output read row by row: A[b, r, j] = unit r d + j
    v = x if hidden == 0 else torch.relu(x @ net.trunk.fc.weight.T + net.trunk.fc.bias)
    units = (v @ net.fc8.weight.T + net.fc8.bias).detach()
    for r in range(2):
        for j in range(3):
            assert torch.allclose(A[:, r, j], units[:, r * 3 + j], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(scores.double().numpy(), _brute_scores(A, W), rtol=1e-5, atol=1e-6)
    # projections are A w_l themselves
    P = net.projections(x).detach().double().numpy()
    loop = np.array([[[sum(float(A[b, r, j]) * float(W[l, j]) for j in range(3)) for r in range(2)]
                      for l in range(4)] for b in range(3)])
    np.testing.assert_allclose(P, loop, rtol=1e-5, atol=1e-6)


def test_relabel_swaps_the_ranked_label_set():
    g = _gen(2)
    x = torch.randn(2, 5, generator=g)
    net = TransformRank(5, torch.randn(4, 3, generator=g), k=3, hidden=4, generator=_gen(3))
    W2 = torch.randn(6, 3, generator=g)
    with torch.no_grad():
        before = net(x)
        A = net.transforms(x)
        assert net.relabel(W2) is net
        after = net(x)
    assert before.shape == (2, 4) and after.shape == (2, 6) and net.n_labels == 6
    np.testing.assert_allclose(after.double().numpy(), _brute_scores(A, W2), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(L, 3\)"):
        net.relabel(torch.zeros(2, 4))


def test_devise_is_the_dot_product_with_the_first_row_of_A():
    g = _gen(4)
    x = torch.randn(3, 5, generator=g)
    W = torch.randn(4, 3, generator=g)
    net = DeViSE(5, W, hidden=6, generator=_gen(5))
    with torch.no_grad():
        A = net.transforms(x)
        scores = net(x)
    assert A.shape == (3, 1, 3) and net.k == 1
    loop = np.array([[sum(float(A[b, 0, j]) * float(W[l, j]) for j in range(3)) for l in range(4)]
                     for b in range(3)])
    np.testing.assert_allclose(scores.double().numpy(), loop, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores.numpy(), (A[:, 0, :] @ W.T).numpy(), rtol=1e-5, atol=1e-6)


def test_a_label_mapped_to_the_origin_ranks_first_and_labels_rank_by_norm_ascending():
    g = _gen(6)
    x = torch.randn(4, 5, generator=g)
    # label 0 is e_3; every A has a zero third column, so A w_0 = 0 for every image
    W = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.3, -0.2, 5.0], [-1.0, 2.0, 0.0], [0.1, 0.1, 0.0]])
    net = TransformRank(5, W, k=2, hidden=0, generator=_gen(7))
    with torch.no_grad():
        w = net.fc8.weight.reshape(2, 3, 5)
        w[:, 2, :] = 0.0
        b = net.fc8.bias.reshape(2, 3)
        b.copy_(torch.randn(2, 3, generator=g))
        b[:, 2] = 0.0
        A = net.transforms(x)
        scores = net(x).numpy()
    assert np.all(scores[:, 0] == 0.0)
    assert np.all(np.argmax(scores, axis=1) == 0)
    norms = np.array([[float(torch.linalg.vector_norm(A[i].double() @ W[l].double())) for l in range(5)]
                      for i in range(4)])
    assert np.all(norms[:, 0] == 0) and np.all(norms[:, 1:] > 1e-3)
    for i in range(4):
        assert list(np.argsort(-scores[i], kind="stable")) == list(np.argsort(norms[i], kind="stable"))


# ----------------------------------------------------------------------------- Eq. 3


#: three images, four labels; image 2 has no positive and is left out of the mean
SCORES = torch.tensor([[-0.5, -1.5, -1.0, -0.25],
                       [-3.0, -0.5, 0.0, -1.0],
                       [1.0, 1.0, 1.0, 1.0]], dtype=D)
TARGETS = torch.tensor([[1.0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]], dtype=D)
NEGATIVES = torch.tensor([[False, True, False, True],
                          [True, False, False, True],   # label 2 is a negative but not drawn
                          [True, True, False, False]])


def test_hinge_rank_loss_by_hand():
    # image 0: mean positive score (-0.5 - 1.0) / 2 = -0.75
    #   n=1: max(0, 1 + 0.75 - 1.5) = 0.25;  n=3: max(0, 1 + 0.75 - 0.25) = 1.5   -> 1.75
    # image 1: mean positive -0.5
    #   n=0: max(0, 1 + 0.5 - 3.0) = 0;      n=3: max(0, 1 + 0.5 - 1.0) = 0.5    -> 0.5
    #   (undrawn label 2 would add 1 + 0.5 + 0 = 1.5)
    # image 2: no positive, excluded -> (1.75 + 0.5) / 2
    assert float(hinge_rank_loss(SCORES, TARGETS, NEGATIVES, margin=1.0)) == pytest.approx(1.125, rel=1e-12)
    # margin 0.5: image 0: max(0, -0.25) + max(0, 1.0) = 1.0; image 1: 0 + max(0, 0) = 0 -> 0.5
    assert float(hinge_rank_loss(SCORES, TARGETS, NEGATIVES, margin=0.5)) == pytest.approx(0.5, rel=1e-12)
    # image 1 without a drawn negative leaves the mean too: 1.75 / 1
    neg = NEGATIVES.clone()
    neg[1] = False
    assert float(hinge_rank_loss(SCORES, TARGETS, neg, margin=1.0)) == pytest.approx(1.75, rel=1e-12)


def test_hinge_rank_loss_gradient():
    s = SCORES.clone().requires_grad_(True)
    hinge_rank_loss(s, TARGETS, NEGATIVES).backward()
    # d/ds: image 0 has 2 active hinges -> each positive -2 * 1/2 / 2 images, each drawn negative 1/2
    # image 1: one active hinge (label 3) -> positive -1/2, label 3 +1/2; image 2: nothing
    expected = torch.tensor([[-0.5, 0.5, -0.5, 0.5], [0, -0.5, 0, 0.5], [0, 0, 0, 0]], dtype=D)
    assert torch.allclose(s.grad, expected, atol=1e-12)
    assert torch.autograd.gradcheck(lambda t: hinge_rank_loss(t, TARGETS, NEGATIVES),
                                    (SCORES.clone().requires_grad_(True),))


def test_transform_rank_loss_is_eq3_on_seeded_negatives():
    s = torch.randn(6, 9, generator=_gen(8), dtype=D)
    t = _targets(6, 9, 9).to(D)
    loss = transform_rank_loss(n_negatives=3, margin=0.7)(s, t, _gen(10))
    neg = sample_negatives(t, 3, _gen(10))
    # the loop form of Eq. 3
    per_image = []
    for i in range(6):
        P = [j for j in range(9) if t[i, j] > 0]
        N = [j for j in range(9) if neg[i, j]]
        if P and N:
            mp = sum(float(s[i, j]) for j in P) / len(P)
            per_image.append(sum(max(0.0, 0.7 - mp + float(s[i, j])) for j in N))
    assert float(loss) == pytest.approx(sum(per_image) / len(per_image), rel=1e-12)


def test_sample_negatives():
    t = _targets(8, 10, 11, p=0.5)
    t[0] = 1.0  # no negative
    t[1] = 0.0  # every label a negative
    n_neg = (t == 0).sum(1)
    for n in (0, 1, 3, 7, 10, 40):
        m = sample_negatives(t, n, _gen(12))
        assert m.dtype == torch.bool and m.shape == t.shape
        assert not (m & (t > 0)).any()  # never a positive
        assert torch.equal(m.sum(1), torch.clamp(n_neg, max=n))
        if n >= int(n_neg.max()):
            assert torch.equal(m, t == 0)  # all negatives
    assert torch.equal(sample_negatives(t, 3, _gen(12)), sample_negatives(t, 3, _gen(12)))
    draws = {tuple(sample_negatives(t, 3, _gen(seed))[1].tolist()) for seed in range(5)}
    assert len(draws) > 1  # the seed matters (row 1 has C(10, 3) = 120 possible draws)


# ----------------------------------------------------------------------------- softmax and WARP


def test_softmax_loss_by_hand():
    s = torch.tensor([[0.0, math.log(2), math.log(3)], [0.0, 0.0, 0.0], [5.0, 0.0, 0.0]], dtype=D)
    t = torch.tensor([[1.0, 0, 1], [0, 1, 0], [0, 0, 0]], dtype=D)
    # image 0: softmax = (1, 2, 3) / 6, positives 0 and 2 -> -(log(1/6) + log(3/6)) / 2 = (log 6 + log 2) / 2
    # image 1: -log(1/3); image 2 has no positive
    expected = ((math.log(6) + math.log(2)) / 2 + math.log(3)) / 2
    assert float(softmax_loss(s, t)) == pytest.approx(expected, rel=1e-12)


def test_rank_weights_are_harmonic_numbers():
    got = rank_weights(torch.tensor([0, 1, 2, 3, 5, 2]))
    expected = [0.0, 1.0, 1.5, 1 + 1 / 2 + 1 / 3, 1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5, 1.5]
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


def test_warp_draws_are_negatives_of_the_pairs_image():
    t = _targets(6, 7, 13, p=0.45)
    t[2] = 0.0
    t[3, :6] = 1.0
    t[3, 6] = 0.0  # one negative only
    pairs, cand, n_negative = warp_draws(t, _gen(14))
    loop_pairs = [(i, j) for i in range(6) for j in range(7) if t[i, j] > 0]
    assert [tuple(p) for p in pairs.tolist()] == loop_pairs
    assert cand.shape == (len(loop_pairs), int((t == 0).sum(1).max()))
    for q, (i, j) in enumerate(loop_pairs):
        negs = {l for l in range(7) if t[i, l] == 0}
        assert int(n_negative[q]) == len(negs)
        for trial in range(len(negs)):
            assert int(cand[q, trial]) in negs
        if i == 3:
            assert set(cand[q, :1].tolist()) == {6}
    again = warp_draws(t, _gen(14))
    assert all(torch.equal(a, b) for a, b in zip((pairs, cand, n_negative), again))


def _brute_violations(s, pairs, cand, n_negative, margin):
    found, negative, rank = [], [], []
    for q, (i, p) in enumerate(pairs.tolist()):
        hit = None
        for trial in range(int(n_negative[q])):
            n = int(cand[q, trial])
            if float(s[i, n]) > float(s[i, p]) - margin:
                hit = (trial, n)
                break
        found.append(hit is not None)
        negative.append(None if hit is None else hit[1])
        rank.append(0 if hit is None else int(n_negative[q]) // (hit[0] + 1))
    return found, negative, rank


@pytest.mark.parametrize("margin", [0.0, 1.0, 2.5])
def test_warp_violations_match_a_loop(margin):
    t = _targets(10, 8, 15, p=0.35)
    s = torch.randn(10, 8, generator=_gen(16))
    pairs, cand, n_negative = warp_draws(t, _gen(17))
    found, negative, rank = warp_violations(s, pairs, cand, n_negative, margin)
    f, n, r = _brute_violations(s, pairs, cand, n_negative, margin)
    assert found.tolist() == f
    assert rank.tolist() == r
    assert [int(negative[q]) for q in range(len(f)) if f[q]] == [v for v in n if v is not None]
    if margin < 2.5:
        assert any(f) and not all(f)  # the random case holds both kinds of pair


def test_warp_loss_matches_the_draws():
    t = _targets(10, 8, 18, p=0.35)
    s = torch.randn(10, 8, generator=_gen(19), dtype=D)
    loss = warp_loss(s, t, _gen(20), margin=1.0)
    pairs, cand, n_negative = warp_draws(t, _gen(20))
    f, n, r = _brute_violations(s, pairs, cand, n_negative, 1.0)
    total = 0.0
    for q, (i, p) in enumerate(pairs.tolist()):
        if f[q]:
            total += sum(1 / j for j in range(1, r[q] + 1)) * (1.0 - float(s[i, p]) + float(s[i, n[q]]))
    n_images = sum(1 for i in range(10) if t[i].sum() > 0)
    assert float(loss) == pytest.approx(total / n_images, rel=1e-6)


def test_warp_loss_by_hand_when_every_negative_violates_and_when_none_does():
    # every negative violates on the first trial, so N = 1 and the rank is #negatives;
    # equal negative scores within a row make the drawn negative irrelevant
    s = torch.tensor([[0.0, 0.5, 0.5, 0.5],
                      [2.0, 1.0, 1.5, 1.5],
                      [9.0, 9.0, 9.0, 9.0]], dtype=D)
    t = torch.tensor([[1.0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=D)
    # image 0, p=0: rank 3, L = 1 + 1/2 + 1/3; hinge 1 - 0 + 0.5 = 1.5
    # image 1, p=0: rank 2, L = 1.5; hinge 1 - 2 + 1.5 = 0.5
    # image 1, p=1: rank 2, L = 1.5; hinge 1 - 1 + 1.5 = 1.5
    # two images with a positive
    expected = ((1 + 1 / 2 + 1 / 3) * 1.5 + 1.5 * 0.5 + 1.5 * 1.5) / 2
    for seed in range(3):
        assert float(warp_loss(s, t, _gen(seed))) == pytest.approx(expected, rel=1e-6)
    pairs, cand, n_negative = warp_draws(t, _gen(0))
    found, _, rank = warp_violations(s, pairs, cand, n_negative)
    assert found.all() and rank.tolist() == [3, 2, 2]
    # no negative within the margin of a positive: loss 0, no gradient
    s2 = torch.tensor([[0.0, -1.5, -2.0, -1.0001], [2.0, 1.0, -0.5, -3.0]], dtype=D, requires_grad=True)
    t2 = t[:2]
    loss = warp_loss(s2, t2, _gen(1))
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert torch.equal(s2.grad, torch.zeros_like(s2))


def test_warp_loss_when_no_image_of_the_batch_has_a_negative():
    # Every label of every image positive: no pair can violate, so the documented loss is 0
    # ("a pair with no violation in #negatives trials adds 0").
    s = torch.randn(2, 3, generator=_gen(21), requires_grad=True)
    loss = warp_loss(s, torch.ones(2, 3), _gen(22))
    assert float(loss.detach()) == 0.0


# ----------------------------------------------------------------------------- A's rows as a committee


def _projections_with_ties() -> np.ndarray:
    rng = np.random.default_rng(23)
    return rng.integers(-3, 4, size=(3, 6, 4)).astype(np.float64)  # (N, L, k), integers: many |.| ties


def _brute_top(P: np.ndarray, n: int) -> list[list[list[int]]]:
    N, L, k = P.shape
    return [[sorted(range(L), key=lambda l: (abs(P[i, l, r]), l))[:n] for r in range(k)] for i in range(N)]


@pytest.mark.parametrize("P", [_projections_with_ties(), np.random.default_rng(24).normal(size=(3, 6, 4))])
def test_row_top_labels_and_votes_match_loops(P):
    for n in (1, 2, 6, 9):
        top = row_top_labels(P, n)
        brute = _brute_top(P, n)
        assert top.tolist() == brute
        votes = committee_votes(P, n)
        expected = np.zeros((3, 6))
        for i in range(3):
            for r in range(4):
                for l in brute[i][r]:
                    expected[i, l] += 1
        assert np.array_equal(votes, expected)
        assert np.all(votes.sum(1) == 4 * min(n, 6))


@pytest.mark.parametrize("P", [_projections_with_ties(), np.random.default_rng(25).normal(size=(3, 6, 4))])
def test_mean_row_jaccard_matches_python_sets(P):
    for n in (1, 2, 3):
        brute = _brute_top(P, n)
        expected = []
        for i in range(3):
            sets = [set(brute[i][r]) for r in range(4)]
            jac = [len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2)]
            expected.append(sum(jac) / len(jac))
        np.testing.assert_allclose(mean_row_jaccard(P, n), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="k >= 2"):
        mean_row_jaccard(P[:, :, :1], 2)


def test_random_jaccard_by_exact_enumeration():
    # 2-subsets of 5 labels: 10 x 10 ordered pairs; identical (10) J = 1, one shared (60) J = 1/3, none (30) 0
    assert random_jaccard(5, 2) == pytest.approx((10 * 1 + 60 / 3) / 100, rel=1e-12)
    assert random_jaccard(5, 2) == pytest.approx(0.3, rel=1e-12)
    for L, n in ((6, 3), (7, 2), (4, 4), (5, 1)):
        subsets = [set(c) for c in itertools.combinations(range(L), n)]
        mean = sum(len(a & b) / len(a | b) for a in subsets for b in subsets) / len(subsets) ** 2
        assert random_jaccard(L, n) == pytest.approx(mean, rel=1e-12)
    assert random_jaccard(3, 5) == pytest.approx(1.0)  # n capped at the label count: the same set


# ------------------------------------------------------------------------ fit_multilabel's ranking options


def _toy(seed: int, n: int):
    """Label l is on when feature l > 0.2: separable by a linear map of the 6 features."""
    g = _gen(seed)
    X = torch.randn(n, 6, generator=g)
    Y = (X[:, :4] > 0.2).float()
    return X, Y


W_TOY = torch.nn.functional.normalize(torch.randn(4, 5, generator=_gen(30)), dim=1)


def _fit_toy(lr_decay: float, epochs: int = 4):
    X, Y = _toy(31, 192)
    Xv, Yv = _toy(32, 96)
    net = TransformRank(6, W_TOY, k=4, hidden=32, generator=_gen(33))
    cfg = SGDConfig(epochs=epochs, min_epochs=epochs, patience=None, batch_size=32, lr=5e-2, optimiser="adam",
                    lr_decay=lr_decay)
    fit = fit_multilabel(net, ((X,), Y), ((Xv,), Yv), config=cfg, seed=3, keys=(1,),
                         loss=transform_rank_loss(n_negatives=3, margin=1.0))
    return fit, Xv, Yv


def _ap(ranked_targets: list[int]) -> float:
    """AP of a ranking without ties: the mean precision at each positive."""
    hits, total = 0, 0.0
    for i, t in enumerate(ranked_targets, 1):
        if t:
            hits += 1
            total += hits / i
    return total / hits


def _chance_image_map(y: np.ndarray) -> float:
    """The expected per-image mAP of a uniformly random ranking of the labels, by enumerating
    every permutation of an image's labels (it depends only on how many are positive)."""
    L = y.shape[1]
    by_count = {}
    for c in range(1, L + 1):
        row = [1] * c + [0] * (L - c)
        perms = list(itertools.permutations(range(L)))
        by_count[c] = sum(_ap([row[j] for j in perm]) for perm in perms) / len(perms)
    counts = [int(c) for c in y.sum(1) if c > 0]
    return sum(by_count[c] for c in counts) / len(counts)


def test_fit_multilabel_trains_transform_rank_with_adam_and_lr_decay(monkeypatch):
    made = []

    class RecordingAdam(torch.optim.Adam):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    fit, Xv, Yv = _fit_toy(0.5)
    assert len(made) == 1 and len(fit.history) == 4
    # the learning rate halves after each of the 4 epochs; Adam's β1 is the momentum
    assert made[0].param_groups[0]["lr"] == pytest.approx(5e-2 * 0.5 ** 4, rel=1e-12)
    assert made[0].param_groups[0]["betas"] == (0.9, 0.999)

    scores = predict_logits(fit.model, (Xv,))
    y = Yv.numpy()
    # the kept model is the best epoch's by per-label validation mAP
    per_label = np.mean([average_precision_score(y[:, j], scores[:, j]) for j in range(4)])
    assert fit.best_val_map == pytest.approx(per_label, rel=1e-9)
    assert fit.best_val_map == max(h["val_mAP_label"] for h in fit.history)
    # Eq. 3 ranks the labels of an image: per-image mAP far above a random ranking's
    rows = [i for i in range(len(y)) if y[i].sum() > 0]
    per_image = np.mean([average_precision_score(y[i], scores[i]) for i in rows])
    chance = _chance_image_map(y)
    assert 0.5 < chance < 0.8
    assert per_image > chance + 0.2

    # bit-for-bit repeatable
    again, _, _ = _fit_toy(0.5)
    assert [h["train_loss"] for h in again.history] == [h["train_loss"] for h in fit.history]
    for (name, a), (_, b) in zip(fit.model.state_dict().items(), again.model.state_dict().items()):
        assert torch.equal(a, b), name

    # lr_decay changes what is learnt (the first epoch runs at the same rate)
    constant, _, _ = _fit_toy(1.0)
    assert made[-1].param_groups[0]["lr"] == 5e-2
    assert constant.history[0]["train_loss"] == fit.history[0]["train_loss"]
    assert [h["train_loss"] for h in constant.history][1:] != [h["train_loss"] for h in fit.history][1:]
    assert not torch.equal(constant.model.fc8.weight, fit.model.fc8.weight)


def test_sgd_config_rejects_unknown_optimisers_and_bad_decays():
    with pytest.raises(ValueError, match="optimiser"):
        SGDConfig(optimiser="rmsprop")
    for bad in (0.0, 1.5, -0.5):
        with pytest.raises(ValueError, match="lr_decay"):
            SGDConfig(lr_decay=bad)
    assert SGDConfig(optimiser="adam", lr_decay=1.0).lr_decay == 1.0


def test_committee_helpers_refuse_empty_label_sets():
    """n = 0 would divide by zero (the Jaccard of two empty sets): a clear error instead."""
    P = np.zeros((1, 4, 3))
    for call in (lambda: row_top_labels(P, 0), lambda: mean_row_jaccard(P, 0), lambda: random_jaccard(4, 0)):
        with pytest.raises(ValueError, match="n >= 1"):
            call()

