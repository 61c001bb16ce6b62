"""Chapter 6's constraints (Eq. 2, 6-9), Algorithm 1's batches and the weak trainer, against hand values."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from neighborlib import metrics
from neighborlib.models.minibatch import SGDConfig, fit_multilabel
from neighborlib.models.weak import (
    DynamicBatches, TagNet, WeakConfig, candidate_sets, fit_weak, semantic_dependency, semantic_dependency_pairs,
    tag_laplacian, user_error, visual_consistency, visual_similarity,
)
from neighborlib.protocol import WEAK_FRACTIONS, load_benchmark, protocol_splits

D = torch.float64


def test_visual_consistency_by_hand():
    # two groups (m = 2) of s = 4 images: squared feature distances 1 and 4, median 2.5
    h = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 2.0]], dtype=D)
    P = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.5, 0.5], [0.5, 0.0]], dtype=D)
    groups = torch.tensor([[0, 1], [2, 3]])
    gamma = visual_similarity(h, groups)
    assert torch.allclose(gamma, torch.tensor([[math.exp(-1 / 2.5)], [math.exp(-4 / 2.5)]], dtype=D))
    expected = 2 / (4 * 1) * (math.exp(-0.4) * 1.0 + math.exp(-1.6) * 0.25)
    assert float(visual_consistency(P, h, groups)) == pytest.approx(expected, rel=1e-12)


def test_visual_consistency_matches_a_loop_and_does_not_differentiate_gamma():
    g = torch.Generator().manual_seed(0)
    s, m, C = 12, 4, 5
    h = torch.randn(s, 3, generator=g, dtype=D, requires_grad=True)
    P = torch.rand(s, C, generator=g, dtype=D)
    groups = torch.arange(s).reshape(-1, m)
    hd = h.detach()
    d2 = [float(((hd[grp[0]] - hd[e]) ** 2).sum()) for grp in groups for e in grp[1:]]
    sigma = float(np.median(d2))
    loop = sum(math.exp(-float(((hd[grp[0]] - hd[e]) ** 2).sum()) / sigma) * float(((P[grp[0]] - P[e]) ** 2).sum())
               for grp in groups for e in grp[1:])
    value = visual_consistency(P, h, groups)
    assert float(value) == pytest.approx(m / (s * (m - 1)) * loop, rel=1e-12)
    assert not value.requires_grad  # γ weighs the pairs; no gradient reaches the features through it


def test_trace_form_is_half_the_double_sum_of_eq6():
    g = torch.Generator().manual_seed(1)
    s, C = 7, 6
    P = torch.rand(s, C, generator=g, dtype=D)
    A = torch.rand(C, C, generator=g, dtype=D)
    xi = (A + A.T) / 2
    trace = semantic_dependency(P, tag_laplacian(xi))
    assert float(semantic_dependency_pairs(P, xi)) == pytest.approx(2 * float(trace), rel=1e-12)
    # and by hand with two tags: Tr[P (Q - ξ) Pᵀ] = a Σ_s (p_s1 - p_s2)², over C² = 4
    a = 0.3
    P2 = torch.tensor([[0.9, 0.1], [0.2, 0.6]], dtype=D)
    lap = tag_laplacian(torch.tensor([[1.0, a], [a, 1.0]], dtype=D))  # the diagonal is ignored
    assert torch.equal(lap, torch.tensor([[a, -a], [-a, a]], dtype=D))
    assert float(semantic_dependency(P2, lap)) == pytest.approx(a * (0.8 ** 2 + 0.4 ** 2) / 4, rel=1e-12)


def test_user_error_is_the_l1_norm():
    P = torch.tensor([[0.2, 0.9], [0.5, 0.0]])
    G = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert float(user_error(P, G)) == pytest.approx(0.2 + 0.1 + 0.5 + 0.0)


def test_tag_laplacian_refuses_bad_affinities():
    with pytest.raises(ValueError, match=r"ξ\[0, 1\] = nan"):
        tag_laplacian(np.array([[0.0, np.nan], [np.nan, 0.0]]))
    with pytest.raises(ValueError, match="symmetric"):
        tag_laplacian(np.array([[0.0, 0.2], [0.3, 0.0]]))
    with pytest.raises(ValueError, match="square"):
        tag_laplacian(np.zeros((2, 3)))


def test_candidate_sets_match_brute_force():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(40, 5))
    got = candidate_sets(torch.as_tensor(f), M=6)
    d = ((f[:, None] - f[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_array_equal(got, np.argsort(d, axis=1, kind="stable")[:, :6])
    with pytest.raises(ValueError, match="M = 40"):
        candidate_sets(torch.as_tensor(f), M=40)


def test_dynamic_batches_sizes_order_and_no_repeats():
    rng = np.random.default_rng(2)
    n, M, m = 30, 12, 4
    emb = torch.as_tensor(rng.normal(size=(n, 3)))
    cand = candidate_sets(emb, M)
    anchors = np.array([0, 5, 9, 17])
    fixed = DynamicBatches(cand, m, dynamic=False).groups(anchors, None)
    dyn = DynamicBatches(cand, m, dynamic=True).groups(anchors, emb)
    for groups in (fixed, dyn):
        assert groups.shape == (4, m)
        np.testing.assert_array_equal(groups[:, 0], anchors)
        assert len(np.unique(groups)) == groups.size  # no image twice in a batch
    # fixed: the first unused candidates in φ0's order; the embedding that made them gives the same
    np.testing.assert_array_equal(fixed, dyn)
    # a new embedding re-ranks: the anchor's nearest candidates under it, skipping used images
    new = torch.as_tensor(rng.normal(size=(n, 3)))
    got = DynamicBatches(cand, m, dynamic=True).groups(anchors[:1], new)[0, 1:]
    d = ((new[cand[0]] - new[0]) ** 2).sum(1).numpy()
    np.testing.assert_array_equal(got, cand[0][np.argsort(d, kind="stable")[: m - 1]])
    with pytest.raises(ValueError, match="ran out"):
        DynamicBatches(cand[:, :2], m).groups(anchors, emb)
    with pytest.raises(ValueError, match="distinct"):
        DynamicBatches(cand, m).groups(np.array([1, 1]), emb)


def _toy(seed: int = 0, n: int = 96, C: int = 6):
    """Two visual clusters; cluster k carries tags 3k..3k+2, with a tenth of the tags flipped."""
    rng = np.random.default_rng(seed)
    k = np.arange(n) % 2
    X = rng.normal(size=(n, 8)) + 3.0 * k[:, None]
    G = np.zeros((n, C), dtype=np.float32)
    for i in range(n):
        G[i, 3 * k[i]: 3 * k[i] + 3] = 1
    flip = rng.random(G.shape) < 0.1
    G[flip] = 1 - G[flip]
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(G), k


def test_fit_weak_is_deterministic_and_records_the_neighbours():
    X, G, _ = _toy()
    xi = np.full((6, 6), 0.5)
    cfg = WeakConfig(epochs=3, lr=1e-2, batch_size=16, group_size=4, lambda_sem=0.5, lambda_err=0.01, refresh=2)
    fits = []
    for _ in range(2):
        model = TagNet(8, 6, hidden=16, generator=torch.Generator().manual_seed(0))
        cand = candidate_sets(model.embed(X).detach(), 20)
        fits.append(fit_weak(model, X, G, cand, xi, config=cfg, watch=[3], seed=0))
    a, b = fits
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)
    assert len(a.watched[3]) == cfg.epochs + 1 and all(len(w) == 3 for w in a.watched[3])
    assert a.best_epoch == cfg.epochs  # without a validation score the last epoch is kept
    assert {"L_vis", "L_sem", "L_err"} <= set(a.history[0])


def test_user_error_alone_pulls_the_probabilities_to_the_tags():
    X, G, _ = _toy(1)
    model = TagNet(8, 6, hidden=16, generator=torch.Generator().manual_seed(0))
    before = float(user_error(torch.sigmoid(model(X)), G).detach())
    cand = candidate_sets(model.embed(X).detach(), 20)
    cfg = WeakConfig(epochs=5, lr=1e-2, batch_size=16, group_size=4, lambda_sem=0.0, lambda_err=1.0, use_vis=False)
    fit = fit_weak(model, X, G, cand, np.zeros((6, 6)), config=cfg)
    after = float(user_error(torch.sigmoid(fit.model(X)), G).detach())
    assert after < 0.5 * before


def test_visual_consistency_alone_smooths_within_clusters():
    X, G, k = _toy(2)
    model = TagNet(8, 6, hidden=16, generator=torch.Generator().manual_seed(0))
    cand = candidate_sets(model.embed(X).detach(), 20)

    def spread(m: TagNet) -> float:  # the mean within-cluster variance of the probabilities
        P = torch.sigmoid(m(X)).detach().numpy()
        return float(np.mean([P[k == c].var(0).sum() for c in (0, 1)]))

    before = spread(model)
    cfg = WeakConfig(epochs=5, lr=0.5, batch_size=16, group_size=4, lambda_sem=0.0, lambda_err=0.0)
    assert spread(fit_weak(model, X, G, cand, np.zeros((6, 6)), config=cfg).model) < 0.5 * before


def test_fit_weak_refuses_nan_and_bad_configs():
    X, G, _ = _toy()
    X[5, 2] = float("nan")
    model = TagNet(8, 6, hidden=4)
    with pytest.raises(ValueError, match=r"X contains NaN or inf \(row 5\)"):
        fit_weak(model, X, G, np.zeros((96, 3), dtype=int) + 1, np.zeros((6, 6)))
    with pytest.raises(ValueError, match="multiple of m"):
        WeakConfig(batch_size=10, group_size=4)
    with pytest.raises(ValueError, match="switched off"):
        WeakConfig(use_vis=False, lambda_sem=0.0, lambda_err=0.0)


def test_fit_multilabel_takes_a_validation_scorer():
    X, G, _ = _toy()
    model = TagNet(8, 6, hidden=8, generator=torch.Generator().manual_seed(0))
    calls = []

    def score(m):
        calls.append(1)
        return -float(len(calls))  # the first epoch is the best

    fit = fit_multilabel(model, ([X], G), None, config=SGDConfig(epochs=3, min_epochs=1, patience=None),
                         score_val=score)
    assert len(calls) == 3 and fit.best_epoch == 1
    with pytest.raises(ValueError, match="score_val"):
        fit_multilabel(model, ([X], G), None)


def test_evaluate_weak_matches_sklearn():
    rng = np.random.default_rng(3)
    y = (rng.random((40, 5)) < 0.3).astype(int)
    y[0] = 0  # an image without labels: skipped by imAP, a negative everywhere else
    s = rng.random((40, 5))
    got = metrics.evaluate_weak(s, y)
    im = [average_precision_score(y[i], s[i]) if y[i].any() else 0.0 for i in range(40)]
    assert got["imAP"] == pytest.approx(np.mean(im), abs=1e-12)  # the paper's: label-less images count 0
    assert got["imAP_labelled"] == pytest.approx(np.mean([a for a, yi in zip(im, y) if yi.any()]), abs=1e-12)
    assert got["mAP"] == pytest.approx(np.mean([average_precision_score(y[:, j], s[:, j]) for j in range(5)]))
    assert got["MicroAUC"] == pytest.approx(roc_auc_score(y.ravel(), s.ravel()))
    assert got["MacroAUC"] == pytest.approx(roc_auc_score(y, s, average="macro"))


def test_weak_splits_take_every_image_in_the_papers_proportions():
    bench = load_benchmark("synthetic", n_images=500, render=False)
    every = protocol_splits(bench, 2, seed=0, fractions=WEAK_FRACTIONS, every_image=True)
    for sp in every:
        assert (len(sp.train), len(sp.val), len(sp.test)) == (100, 50, 350)
        assert len(np.union1d(np.union1d(sp.train, sp.val), sp.test)) == 500
    default = protocol_splits(bench, 1, seed=0)[0]
    assert len(default.train) + len(default.val) + len(default.test) <= 500


def test_fit_weak_records_the_neighbours_every_few_batches():
    X, G, _ = _toy()
    cfg = WeakConfig(epochs=1, lr=1e-2, batch_size=16, group_size=4, lambda_err=0.01)
    model = TagNet(8, 6, hidden=16, generator=torch.Generator().manual_seed(0))
    cand = candidate_sets(model.embed(X).detach(), 20)
    fit = fit_weak(model, X, G, cand, np.zeros((6, 6)), config=cfg, watch=[3, 7], watch_every=8)
    assert len(fit.watched[3]) == 1 + 96 // 4 // 8  # φ0, then after batches 8, 16 and 24
    assert all(3 not in w and len(w) == 3 for w in fit.watched[3])
