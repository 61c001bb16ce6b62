"""LTN (Johnson et al. 2015, Eq. 1 and 4-6), its training loop and the neighbourhood sources."""
import copy

import numpy as np
import pandas as pd
import pytest
import torch

from neighborlib import methods, neighbourhoods
from neighborlib.metrics import mean_average_precision
from neighborlib.models import LTN, TrainConfig, train_neighbourhood_model
from neighborlib.protocol import load_benchmark, run_protocol, split_data


def _model(d=7, L=4, h=5, tag_dim=0, seed=0):
    return LTN(d, L, h=h, tag_dim=tag_dim, generator=torch.Generator().manual_seed(seed)).double().eval()


def test_equations_by_hand():
    net = _model()
    g = torch.Generator().manual_seed(1)
    x, z = torch.randn(3, 7, generator=g, dtype=torch.float64), torch.randn(3, 2, 7, generator=g, dtype=torch.float64)
    f = net(x, z)
    assert f.shape == (3, 4)
    Wx, bx = net.W_x.weight.detach().numpy(), net.W_x.bias.detach().numpy()
    Wz, bz = net.W_z.weight.detach().numpy(), net.W_z.bias.detach().numpy()
    Wy, by = net.W_y.weight.detach().numpy(), net.W_y.bias.detach().numpy()
    xn, zn = x.numpy(), z.numpy()
    for b in range(3):
        v_x = np.maximum(0, Wx @ xn[b] + bx)  # Eq. 4
        v_z = np.max([np.maximum(0, Wz @ zn[b, i] + bz) for i in range(2)], axis=0)  # Eq. 5
        np.testing.assert_allclose(f[b].detach().numpy(), Wy @ np.concatenate([v_x, v_z]) + by, rtol=1e-12)  # Eq. 6


def test_pooling_is_order_free_and_uses_every_neighbour():
    net = _model()
    g = torch.Generator().manual_seed(2)
    x, z = torch.randn(4, 7, generator=g, dtype=torch.float64), torch.randn(4, 3, 7, generator=g, dtype=torch.float64)
    # Not bit-exact: the BLAS may round W_z φ(z_i) differently once the rows move (4e-16 seen on
    # one machine); an order-dependent fusion would differ by O(1).
    torch.testing.assert_close(net(x, z), net(x, z[:, [2, 0, 1]]), rtol=0, atol=1e-12)
    assert not torch.equal(net(x, z), net(x, z[:, :2]))  # dropping a neighbour changes the max


def test_average_scores_is_the_mean_over_samples():
    """Eq. 1: the average of f over K neighbourhoods, computed at the mean pooled state."""
    net = _model()
    g = torch.Generator().manual_seed(3)
    x, z = torch.randn(5, 7, generator=g, dtype=torch.float64), torch.randn(5, 4, 3, 7, generator=g, dtype=torch.float64)
    expected = torch.stack([net(x, z[:, k]) for k in range(4)]).mean(0)
    torch.testing.assert_close(net.average_scores(x, net.neighbour_hidden(z)), expected, rtol=1e-12, atol=1e-12)


def test_gradients_reach_both_branches_and_the_tag_vector():
    net = LTN(6, 3, h=4, tag_dim=5, dropout=0.0, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(4)
    x, z, t = torch.randn(8, 6, generator=g), torch.randn(8, 2, 6, generator=g), (torch.rand(8, 5, generator=g) > 0.5).float()
    net(x, z, t).sum().backward()
    W_y = net.W_y.weight.grad
    for name, grad in (("W_x", net.W_x.weight.grad), ("W_z", net.W_z.weight.grad), ("W_y image half", W_y[:, :4]),
                       ("W_y neighbour half", W_y[:, 4:8]), ("W_y tag part", W_y[:, 8:])):
        assert grad is not None and grad.abs().sum() > 0, name
    with pytest.raises(ValueError, match="tag vector"):
        net(x, z)


def test_dropout_is_reproducible_and_off_in_eval():
    net = LTN(6, 3, h=50, generator=torch.Generator().manual_seed(0)).train()
    x, z = torch.randn(4, 6), torch.randn(4, 2, 6)
    a = net(x, z, generator=torch.Generator().manual_seed(9))
    b = net(x, z, generator=torch.Generator().manual_seed(9))
    c = net(x, z, generator=torch.Generator().manual_seed(10))
    assert torch.equal(a, b) and not torch.equal(a, c)
    net.eval()
    assert torch.equal(net(x, z, generator=torch.Generator().manual_seed(9)), net(x, z))


def test_l2_penalty_by_hand():
    net = _model()
    expected = sum(float((layer.weight.detach() ** 2).sum()) for layer in (net.W_x, net.W_z, net.W_y))
    assert float(net.l2_penalty().detach()) == pytest.approx(expected, rel=1e-12)
    W_img, W_nbr = net.weight_halves()
    assert W_img.shape == W_nbr.shape == (4, 5)


# ----------------------------------------------------------------------------- training


def _toy(n=600, d=8, L=3, M=4, seed=0):
    """Labels readable only from the neighbours: each image's own features are noise, its
    M neighbours (same group of M + 1 images) carry the group's label signal."""
    rng = np.random.default_rng(seed)
    groups = np.arange(n) // (M + 1)
    Yg = rng.random((groups.max() + 1, L)) < 0.4
    Y = Yg[groups].astype(np.int64)
    X = rng.normal(size=(n, d))
    signal = rng.normal(size=(L, d)) * 3
    carrier = np.arange(n) % (M + 1) != 0  # image 0 of each group is a pure-noise "query"
    X[carrier] += Y[carrier] @ signal
    nbr = np.stack([np.array([j for j in range(g * (M + 1), (g + 1) * (M + 1)) if j != i]) for i, g in enumerate(groups)])
    return X, Y, nbr, carrier


def test_neighbours_carry_the_labels_of_a_noisy_image():
    X, Y, nbr, carrier = _toy()
    queries = np.flatnonzero(~carrier)
    train, val = np.arange(0, 400), np.arange(400, 600)
    cfg = TrainConfig(epochs=15, batch_size=25, lr=3e-3, m=3, K=10)
    fit = train_neighbourhood_model(LTN(8, 3, h=32, generator=torch.Generator().manual_seed(0)), X, Y,
                                    (train, nbr[train]), (val, nbr[val]), config=cfg)
    q = queries[queries >= 400]
    scores = fit.predict(X, q, nbr[q])
    # the queries' own features are pure noise: only the neighbour branch can rank them
    assert mean_average_precision(scores, Y[q]) > 0.9
    best = max(h["val_mAP_label"] for h in fit.history)
    assert fit.history[fit.best_epoch - 1]["val_mAP_label"] == best
    # the kept snapshot reproduces its validation score (same validation samples)
    assert mean_average_precision(fit.predict(X, val, nbr[val], part=1), Y[val]) == pytest.approx(best, abs=1e-6)


def test_training_is_deterministic_on_cpu():
    X, Y, nbr, _ = _toy(n=200)
    cfg = TrainConfig(epochs=2, batch_size=16, lr=1e-3)

    def run(seed):
        net = LTN(8, 3, h=16, generator=torch.Generator().manual_seed(seed))
        fit = train_neighbourhood_model(net, X, Y, (np.arange(150), nbr[:150]), (np.arange(150, 200), nbr[150:]),
                                        config=cfg, seed=seed, keys=(0,))
        return fit.predict(X, np.arange(150, 200), nbr[150:]), [h["train_loss"] for h in fit.history]

    (a, la), (b, lb), (c, _) = run(0), run(0), run(1)
    assert np.array_equal(a, b) and la == lb
    assert not np.array_equal(a, c)


def test_an_image_is_never_its_own_neighbour():
    X, Y, nbr, _ = _toy(n=100)
    bad = nbr[:60].copy()
    bad[5, 1] = 5
    with pytest.raises(ValueError, match="own neighbours"):
        train_neighbourhood_model(LTN(8, 3, h=4), X, Y, (np.arange(60), bad), (np.arange(60, 100), nbr[60:]),
                                  config=TrainConfig(epochs=1))


def test_nan_features_are_refused():
    X, Y, nbr, _ = _toy(n=100)
    X[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"row 7, column 2"):
        train_neighbourhood_model(LTN(8, 3, h=4), X, Y, (np.arange(60), nbr[:60]), (np.arange(60, 100), nbr[60:]))


# ----------------------------------------------------------------------------- protocol methods


@pytest.fixture(scope="module")
def synthetic_run():
    bench = load_benchmark("synthetic", n_images=900, render=False, kinds=("tags",))
    ds = bench.dataset
    rng = np.random.default_rng(0)
    X = rng.normal(size=(len(ds), 16)) + ds.labels @ rng.normal(size=(ds.n_labels, 16))  # a visible signal
    return bench, X


def test_neighbourhoods_stay_within_their_part(synthetic_run):
    bench, X = synthetic_run
    data = split_data(bench, 1, features=X)
    for source in (neighbourhoods.metadata, neighbourhoods.visual):
        tables = source(data, 6)
        for part in ("train", "val", "test"):
            idx = getattr(data, part)
            nbr = tables[part].indices
            assert nbr.shape == (idx.size, 6)
            assert np.isin(nbr, idx).all(), (source.__name__, part)  # test neighbours come from the test part
            assert not (nbr == idx[:, None]).any()


def test_ltn_method_runs_the_protocol(synthetic_run):
    bench, X = synthetic_run
    cfg = TrainConfig(epochs=2)
    res = run_protocol(bench, {"LTN": methods.ltn(config=cfg, h=32, keep_model=True),
                               "LTN + tag vector": methods.ltn(config=cfg, h=32, tag_vector=True)},
                       n_splits=2, features=X, progress=False)
    for name in ("LTN", "LTN + tag vector"):
        assert [set(i) >= {"epoch", "val mAP_label", "s/epoch"} for i in res.info[name]] == [True, True]
    fit = res.info["LTN"][0]["fit"]
    assert fit.model.W_y.in_features == 64 and res.info["LTN"][0]["tables"]["test"].M == 6


def test_image_neighbourhood_vote_by_hand(synthetic_run):
    bench, X = synthetic_run
    data = split_data(bench, 0, features=X)
    scores, info = methods.image_neighbourhood_vote(M=4, weights=(0.25,))(data)
    visual = methods._fitted_visual_logistic(data, methods.VISUAL_GRID, methods.VISUAL_EXTEND, methods.VISUAL_TOL, "cpu")[0]
    nbr = data.metadata_neighbours(4)["test"].indices
    p = visual.predict_proba(X[data.test])
    p_nbr = np.stack([visual.predict_proba(X[nbr[:, i]]) for i in range(4)]).mean(0)
    np.testing.assert_allclose(scores, 0.75 * p + 0.25 * p_nbr, rtol=1e-5)  # a float32 model
    assert info["w"] == 0.25


def test_overlap_vocabularies(synthetic_run):
    bench, X = synthetic_run
    data = split_data(bench, 0, features=X)
    for overlap, shared in ((0.0, 0), (0.5, 20), (1.0, 40)):
        train, test = neighbourhoods.overlap_vocabularies(data, overlap, n_top=80)
        assert len(train) == len(test) == 40
        assert len(set(train.tokens) & set(test.tokens)) == shared
    tables = neighbourhoods.vocabulary_overlap(0.0, n_top=80)(data, 3)
    assert set(tables) == {"train", "val", "test"}
    with pytest.raises(ValueError, match="overlap"):
        neighbourhoods.overlap_vocabularies(data, 1.5)


def test_metadata_kinds_switch_at_test_time():
    bench = load_benchmark("synthetic", n_images=900, render=False, kinds=("tags", "groups", "sets"))
    data = split_data(bench, 0, features=np.zeros((len(bench), 2)))
    mixed = neighbourhoods.metadata_kinds("tags", "groups")(data, 3)
    tags = neighbourhoods.metadata_kinds("tags", "tags")(data, 3)
    groups = neighbourhoods.metadata_kinds("groups", "groups")(data, 3)
    assert np.array_equal(mixed["train"].indices, tags["train"].indices)
    assert np.array_equal(mixed["val"].indices, tags["val"].indices)
    assert np.array_equal(mixed["test"].indices, groups["test"].indices)
    assert not np.array_equal(mixed["test"].indices, tags["test"].indices)


def test_one_rmsprop_step_by_hand():
    """A single full-batch step: RMSProp on the gradient of the loss + (λ/2) Σ ||W||² (Section 3.4)."""
    X, Y, nbr, _ = _toy(n=60, M=3)
    train, val = np.arange(40), np.arange(40, 60)
    net = LTN(8, 3, h=6, dropout=0.0, generator=torch.Generator().manual_seed(0))
    ref = copy.deepcopy(net)
    cfg = TrainConfig(epochs=1, batch_size=40, lr=1e-2, l2=0.1, m=3)  # m = M: the sample is every neighbour
    fit = train_neighbourhood_model(net, X, Y, (train, nbr[train]), (val, nbr[val]), config=cfg)
    mean, std = X[train].mean(0), X[train].std(0)
    Xs = torch.as_tensor(((X - mean) / std).astype(np.float32))
    order = np.random.default_rng(np.random.SeedSequence([0, 302, 2, 0, 1])).permutation(40)  # "sampling" stream
    f = ref(Xs[train[order]], Xs[nbr[train][order]])
    loss = torch.nn.functional.binary_cross_entropy_with_logits(f, torch.as_tensor(Y[train[order]], dtype=torch.float32),
                                                                reduction="sum") / 40
    loss = loss + 0.5 * 0.1 * ref.l2_penalty()
    loss.backward()
    for (name, p), q in zip(ref.named_parameters(), fit.model.parameters()):
        v = 0.01 * p.grad ** 2  # (1 - α) g² with α = 0.99
        expected = p.detach() - 1e-2 * p.grad / (v.sqrt() + 1e-8)
        torch.testing.assert_close(q.detach(), expected, rtol=1e-4, atol=1e-5, msg=name)


def test_claims_verdicts_and_paired_gaps(synthetic_run):
    from neighborlib import claims

    bench, X = synthetic_run
    res = run_protocol(bench, {"tags": methods.tag_only(), "visual": methods.visual_logistic()}, n_splits=3,
                       features=X, progress=False)
    gap = claims.paired_gap(res, "visual", "tags", "mAP_image")
    by_hand = [a["mAP_image"] - b["mAP_image"] for a, b in zip(res.metrics["visual"], res.metrics["tags"])]
    np.testing.assert_allclose(gap.differences, by_hand)
    assert gap.mean == pytest.approx(np.mean(by_hand)) and gap.std == pytest.approx(np.std(by_hand, ddof=1))
    assert claims.verdict(claims.Gap("a", "b", "m", np.array([0.1, 0.2]))) == "confirmed"
    assert claims.verdict(claims.Gap("a", "b", "m", np.array([-0.1, -0.2]))) == "refuted"
    assert claims.verdict(claims.Gap("a", "b", "m", np.array([0.1, -0.2]))) == "not resolved"
    assert claims.verdict(-0.3, expected_sign=-1) == "confirmed"
    # a noise floor: gaps inside ±tolerance resolve nothing, on every split or on one run
    assert claims.verdict(-0.0004, tolerance=0.005) == "not resolved"
    assert claims.verdict(0.006, tolerance=0.005) == "confirmed"
    assert claims.verdict(-0.006, tolerance=0.005) == "refuted"
    assert claims.verdict(claims.Gap("a", "b", "m", np.array([0.01, 0.004])), tolerance=0.005) == "not resolved"
    with pytest.raises(ValueError, match="non-negative"):
        claims.verdict(0.1, tolerance=-1)
    with pytest.raises(KeyError, match="not a method"):
        claims.paired_gap(res, "LTN", "tags")
    # the same gap read back from the run's long table (a grid file's rows), with a constant column
    rows = res.records(m=3)
    from_rows = claims.records_gap(rows, {"method": "visual", "m": 3}, {"method": "tags"}, "mAP_image")
    np.testing.assert_array_equal(from_rows.differences, gap.differences)
    assert from_rows.a == "method=visual, m=3" and from_rows.b == "method=tags"
    with pytest.raises(ValueError, match="selects 0 rows"):
        claims.records_gap(rows, {"method": "visual", "m": 6}, {"method": "tags"})
    with pytest.raises(ValueError, match="need one row per split"):
        claims.records_gap(pd.concat([rows, rows]), {"method": "visual"}, {"method": "tags"})
    with pytest.raises(ValueError, match="ran on splits"):
        claims.records_gap(rows[(rows["method"] != "visual") | (rows["split"] > 0)], {"method": "visual"},
                           {"method": "tags"})


def test_per_label_ap_is_the_mean_over_splits(synthetic_run):
    from neighborlib.metrics import average_precision_per_label

    bench, X = synthetic_run
    res = run_protocol(bench, {"visual": methods.visual_logistic()}, n_splits=2, features=X, keep_scores=True,
                       progress=False)
    y = bench.dataset.labels
    by_hand = (average_precision_per_label(res.scores["visual"][0], y[res.splits[0].test])
               + average_precision_per_label(res.scores["visual"][1], y[res.splits[1].test])) / 2
    np.testing.assert_allclose(res.per_label_ap("visual"), by_hand)
    # split_data gives the split a method sees in run_protocol
    assert np.array_equal(split_data(bench, 1, features=X).test, res.splits[1].test)
    with pytest.raises(ValueError, match="split index"):
        split_data(bench, 5, n_splits=5)


def test_synthetic_kinds_benchmark_carries_every_kind():
    bench = load_benchmark("synthetic-kinds", render=False)
    ds = bench.dataset
    assert len(bench) == 2085 and bench.kinds == ("tags", "groups", "sets")
    assert all(ds.has_metadata(k).all() for k in bench.kinds)


def test_branch_scores_add_up_to_the_scores():
    """Figure 3's split of Eq. 6: image part + neighbourhood part + b_y = the averaged scores."""
    net = _model()
    g = torch.Generator().manual_seed(5)
    x, z = torch.randn(5, 7, generator=g, dtype=torch.float64), torch.randn(5, 3, 2, 7, generator=g, dtype=torch.float64)
    hz = net.neighbour_hidden(z)
    parts = net.branch_scores(x, hz)
    assert parts.shape == (5, 2, 4)
    torch.testing.assert_close(parts.sum(1) + net.W_y.bias.detach(), net.average_scores(x, hz), rtol=1e-12, atol=1e-12)
