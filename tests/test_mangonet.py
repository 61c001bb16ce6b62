"""MangoNet (instance attention, co-attention, neighbourhood graph), its minibatch trainer, its
metrics and its protocol methods, against hand computations."""
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score

from neighborlib import methods, metrics
from neighborlib.models.mangonet import (
    InsAtten, MangoNet, NeighbourhoodGraph, attend, coattended_nodes, holistic_nodes, neighbour_coattention,
    target_coattention,
)
from neighborlib.models.minibatch import SGDConfig, fit_multilabel, predict_logits
from neighborlib.protocol import load_benchmark, run_protocol, split_data
from neighborlib.spatial import global_features, insatten_stage, standardised_maps

T = torch.float64


def _softmax(v):
    e = [math.exp(x - max(v)) for x in v]
    return [x / sum(e) for x in e]


# ----------------------------------------------------------------------------- InsAtten (Eq. 1-3)


def test_insatten_attention_is_a_softmax_over_positions_per_label():
    net = InsAtten(d=3, n_labels=4, width=5, generator=torch.Generator().manual_seed(0)).double()
    phi = torch.randn(2, 3, 2, 3, generator=torch.Generator().manual_seed(1), dtype=T)
    beta = net.attention(phi)
    assert beta.shape == (2, 4, 6)  # (B, C, N = H W)
    torch.testing.assert_close(beta.sum(dim=2), torch.ones(2, 4, dtype=T))
    # the softmax is over positions, not labels: the label sums are not one
    assert not torch.allclose(beta.sum(dim=1), torch.ones(2, 6, dtype=T))
    logits = net.q(phi).flatten(2)
    torch.testing.assert_close(beta[1, 2], torch.tensor(_softmax(logits[1, 2].tolist()), dtype=T))


def test_insatten_confidence_is_sum_pooled_attention_weighted_classifier():
    net = InsAtten(d=2, n_labels=2, width=3, generator=torch.Generator().manual_seed(0)).double()
    phi = torch.randn(1, 2, 2, 2, generator=torch.Generator().manual_seed(2), dtype=T)
    w = net.confidence.weight.detach()[:, :, 0, 0].numpy()  # (C, d): a 1x1 conv is a classifier per position
    b = net.confidence.bias.detach().numpy()
    flat = phi[0].flatten(1).numpy()  # (d, N)
    E = w @ flat + b[:, None]  # (C, N)
    y, beta = net.attend(phi)
    expected = (E * beta[0].detach().numpy()).sum(axis=1)
    np.testing.assert_allclose(y[0].detach().numpy(), expected, rtol=1e-12)
    torch.testing.assert_close(net(phi), y)


# ----------------------------------------------------------------------------- co-attention (Eq. 4-9)


def test_neighbour_coattention_by_hand():
    p_x = torch.tensor([[1.0, 0.0]], dtype=T)  # the target is sure of label 0 only
    p_z = torch.tensor([[[1.0, 1.0], [0.5, 1.0]]], dtype=T)  # (B=1, m=2, C=2)
    beta_z = torch.tensor([[[[0.7, 0.1, 0.1, 0.1], [0.0, 0.0, 0.0, 1.0]],
                            [[0.1, 0.1, 0.7, 0.1], [1.0, 0.0, 0.0, 0.0]]]], dtype=T)  # (1, 2, C, N=4)
    alpha = neighbour_coattention(p_x, p_z, beta_z)
    assert alpha.shape == (1, 2, 4)
    # w_1 = (1, 0): only label 0's map counts; w_2 = (0.5, 0): half of it
    torch.testing.assert_close(alpha[0, 0], torch.tensor(_softmax([0.7, 0.1, 0.1, 0.1]), dtype=T))
    torch.testing.assert_close(alpha[0, 1], torch.tensor(_softmax([0.05, 0.05, 0.35, 0.05]), dtype=T))
    torch.testing.assert_close(alpha.sum(dim=-1), torch.ones(1, 2, dtype=T))  # softmax over positions


def test_coattention_sums_over_labels_and_broadcasts_like_a_loop():
    g = torch.Generator().manual_seed(3)
    B, m, C, N = 3, 2, 4, 5
    p_x, p_z = torch.rand(B, C, generator=g, dtype=T), torch.rand(B, m, C, generator=g, dtype=T)
    beta_z = torch.softmax(torch.randn(B, m, C, N, generator=g, dtype=T), dim=-1)
    beta_x = torch.softmax(torch.randn(B, C, N, generator=g, dtype=T), dim=-1)
    got_z, got_x = neighbour_coattention(p_x, p_z, beta_z), target_coattention(p_x, p_z, beta_x)
    for b in range(B):
        w_target = p_x[b].clone()
        for j in range(m):
            w = p_x[b] * p_z[b, j]  # Eq. 4: one weight per label, the same at every position
            s = sum(w[k] * beta_z[b, j, k] for k in range(C))  # Eq. 5's sum over labels
            torch.testing.assert_close(got_z[b, j], torch.softmax(s, dim=0))
            w_target = w_target * p_z[b, j]  # Eq. 7's product over the neighbours
        s = sum(w_target[k] * beta_x[b, k] for k in range(C))
        torch.testing.assert_close(got_x[b], torch.softmax(s, dim=0))
    # permuting the labels consistently changes nothing (a sum over labels)
    perm = torch.tensor([2, 0, 3, 1])
    torch.testing.assert_close(neighbour_coattention(p_x[:, perm], p_z[:, :, perm], beta_z[:, :, perm]), got_z)


def test_target_coattention_takes_the_product_over_neighbours():
    p_x = torch.tensor([[0.5, 0.8]], dtype=T)
    p_z = torch.tensor([[[0.5, 0.5], [1.0, 0.25]]], dtype=T)  # w = (0.5·0.5·1, 0.8·0.5·0.25) = (0.25, 0.1)
    beta_x = torch.tensor([[[0.6, 0.2, 0.2], [0.0, 0.0, 1.0]]], dtype=T)
    alpha = target_coattention(p_x, p_z, beta_x)
    torch.testing.assert_close(alpha[0], torch.tensor(_softmax([0.15, 0.05, 0.15]), dtype=T))


def test_attend_is_the_attention_weighted_sum_of_positions():
    alpha = torch.tensor([[0.5, 0.25, 0.25]], dtype=T)
    phi = torch.tensor([[[1.0, 2.0, 4.0], [0.0, -4.0, 8.0]]], dtype=T)  # (1, d=2, N=3)
    torch.testing.assert_close(attend(alpha, phi), torch.tensor([[2.0, 1.0]], dtype=T))


# ----------------------------------------------------------------------------- the graph (Eq. 10-11)


def test_adjacency_rows_are_a_softmax_of_psi_products():
    graph = NeighbourhoodGraph(d=3, psi_dim=2, generator=torch.Generator().manual_seed(0)).double()
    Z = torch.randn(2, 4, 3, generator=torch.Generator().manual_seed(1), dtype=T)
    S = graph.adjacency(Z)
    torch.testing.assert_close(S.sum(dim=-1), torch.ones(2, 4, dtype=T))
    P = (Z[1] @ graph.psi.weight.T + graph.psi.bias).detach().numpy()
    expected = np.exp(P @ P.T - (P @ P.T).max(axis=1, keepdims=True))
    np.testing.assert_allclose(S[1].detach().numpy(), expected / expected.sum(axis=1, keepdims=True), rtol=1e-12)


def test_graph_convolution_has_the_residual():
    graph = NeighbourhoodGraph(d=3, psi_dim=2, generator=torch.Generator().manual_seed(0)).double()
    Z = torch.randn(2, 4, 3, generator=torch.Generator().manual_seed(1), dtype=T)
    S = graph.adjacency(Z)
    W = graph.W.weight
    torch.testing.assert_close(graph(Z), torch.relu(S @ Z @ W.T) + Z)
    with torch.no_grad():
        W.zero_()
    torch.testing.assert_close(graph(Z), Z)  # ReLU(S Z 0) = 0: the nodes pass through


def test_mangonet_pools_nodes_and_concatenates_the_global_feature():
    g = torch.Generator().manual_seed(0)
    net = MangoNet(d=3, n_labels=2, generator=g).double()
    nodes = torch.randn(2, 4, 3, generator=g, dtype=T)
    glob = torch.randn(2, 3, generator=g, dtype=T)
    expected = torch.cat([net.graph(nodes).mean(dim=1), glob], dim=1) @ net.fc.weight.T + net.fc.bias
    torch.testing.assert_close(net(nodes, glob), expected)
    with pytest.raises(ValueError, match="global"):
        net(nodes)
    without = MangoNet(d=3, n_labels=2, global_feature=False).double()
    assert without.fc.in_features == 3 and without(nodes).shape == (2, 2)


def test_gradients_reach_every_parameter():
    g = torch.Generator().manual_seed(0)
    ins = InsAtten(3, 2, width=4, generator=g)
    ins(torch.randn(2, 3, 3, 3, generator=g)).sum().backward()
    net = MangoNet(3, 2, psi_dim=4, generator=g)
    net(torch.randn(2, 4, 3, generator=g), torch.randn(2, 3, generator=g)).pow(2).sum().backward()
    for name, p in [*ins.named_parameters(), *net.named_parameters()]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_node_features_match_a_per_image_computation():
    g = torch.Generator().manual_seed(4)
    n_all, d, C, N, m = 9, 3, 2, 4, 2
    phi = torch.randn(n_all, d, N, generator=g, dtype=T)
    prob = torch.rand(n_all, C, generator=g, dtype=T)
    beta = torch.softmax(torch.randn(n_all, C, N, generator=g, dtype=T), dim=-1)
    index = torch.tensor([0, 5, 7])
    nbr = torch.tensor([[1, 2], [6, 8], [3, 4]])
    nodes, alpha = coattended_nodes(phi, prob, beta, index, nbr, batch_size=2, return_attention=True)
    assert nodes.shape == (3, m + 1, d) and alpha.shape == (3, m + 1, N)
    for q in range(3):
        i, z = int(index[q]), nbr[q]
        a_x = target_coattention(prob[i:i + 1], prob[z].unsqueeze(0), beta[i:i + 1])[0]
        torch.testing.assert_close(nodes[q, 0], phi[i] @ a_x)
        a_z = neighbour_coattention(prob[i:i + 1], prob[z].unsqueeze(0), beta[z].unsqueeze(0))[0]
        for j in range(m):
            torch.testing.assert_close(nodes[q, 1 + j], phi[int(z[j])] @ a_z[j])
    torch.testing.assert_close(coattended_nodes(phi, prob, beta, index, nbr, batch_size=64), nodes)
    pooled = phi.mean(dim=2)
    torch.testing.assert_close(holistic_nodes(pooled, index, nbr)[1], pooled[[5, 6, 8]])


# ----------------------------------------------------------------------------- the trainer


def _toy(n=120, d=4, L=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    Y = (X[:, :L] > 0).float()
    return X, Y


class _Linear(torch.nn.Linear):
    n_labels = 3


def test_fit_multilabel_is_deterministic_and_keeps_the_best_epoch():
    X, Y = _toy()
    fits = []
    for _ in range(2):
        net = _Linear(4, 3)
        with torch.no_grad():
            net.weight.zero_(), net.bias.zero_()
        fits.append(fit_multilabel(net, ((X[:80],), Y[:80]), ((X[80:],), Y[80:]),
                                   config=SGDConfig(epochs=4, min_epochs=1, patience=None, lr=0.05), keys=(0, 1)))
    a, b = fits
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    vals = [h["val_mAP_label"] for h in a.history]
    assert a.best_epoch == int(np.argmax(vals)) + 1 and a.best_val_map == max(vals)
    assert vals[-1] > 0.9  # the labels are linear in X: SGD finds them
    np.testing.assert_array_equal(predict_logits(a.model, (X[80:],)), predict_logits(b.model, (X[80:],)))


def test_fit_multilabel_refuses_nan_inputs_naming_the_row():
    X, Y = _toy()
    X[7, 2] = float("nan")
    with pytest.raises(ValueError, match=r"train: input 0 contains NaN or inf \(row 7\)"):
        fit_multilabel(_Linear(4, 3), ((X[:80],), Y[:80]), ((X[80:],), Y[80:]))


# ----------------------------------------------------------------------------- metrics


def test_overall_ap_is_one_ranking_of_every_pair():
    rng = np.random.default_rng(0)
    s = np.round(rng.random((30, 4)), 1)  # ties
    t = rng.random((30, 4)) < 0.3
    assert metrics.average_precision_overall(s, t) == pytest.approx(average_precision_score(t.ravel(), s.ravel()), abs=1e-12)


def test_evaluate_mangonet_columns():
    s = np.array([[0.9, 0.6, 0.55, 0.1], [0.4, 0.3, 0.2, 0.1]])
    t = np.array([[1, 0, 1, 0], [1, 0, 0, 0]])
    out = metrics.evaluate_mangonet(s, t)
    assert list(out) == ["mAP_C", "mAP_O", "CP", "CR", "CF1", "OP", "OR", "OF1"]
    # image 1 gets its top 3 (all above 0.5), image 2 nothing: 2 of 3 predictions right, 2 of 3 positives found
    assert out["OP"] == pytest.approx(2 / 3) and out["OR"] == pytest.approx(2 / 3)
    # per label (labels with a positive: 0 and 2): precision 1 and 1, recall 1/2 and 1
    assert out["CP"] == pytest.approx(1.0) and out["CR"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="probabilities"):
        metrics.evaluate_mangonet(s * 3, t)


# ----------------------------------------------------------------------------- protocol methods


@pytest.fixture(scope="module")
def toy_split():
    bench = load_benchmark("synthetic", n_images=300, render=False)
    Y = bench.dataset.labels.astype(np.float32)
    rng = np.random.default_rng(0)
    maps = (rng.random((len(bench), 6, 2, 2)) + 2 * Y[:, :6, None, None] * rng.random((len(bench), 6, 2, 2)))
    return bench, maps.astype(np.float16)


def test_standardised_maps_use_training_statistics(toy_split):
    bench, maps = toy_split
    data = split_data(bench, 0)
    X = standardised_maps(data, maps)
    train = X[torch.as_tensor(data.train)].double()
    torch.testing.assert_close(train.mean(dim=(0, 2, 3)), torch.zeros(6, dtype=T), atol=1e-5, rtol=0)
    torch.testing.assert_close(train.std(dim=(0, 2, 3), unbiased=False), torch.ones(6, dtype=T), atol=1e-4, rtol=0)
    torch.testing.assert_close(global_features(data, maps), X.mean(dim=(2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        bad = maps.copy()
        bad[data.train[3], 1, 0, 0] = np.nan
        standardised_maps(split_data(bench, 0), bad)


def test_mangonet_methods_end_to_end(toy_split):
    bench, maps = toy_split
    cfg = SGDConfig(epochs=2, min_epochs=1)
    kw = dict(width=4, insatten_config=cfg, config=cfg, psi_dim=4)
    runs = [run_protocol(bench, {"InsAtten": methods.insatten(maps, width=4, config=cfg),
                                 "MangoNet": methods.mangonet(maps, m=3, **kw),
                                 "NGCN": methods.mangonet(maps, m=3, nodes="holistic", **kw)},
                         n_splits=1, evaluator=metrics.evaluate_mangonet, keep_scores=True, progress=False)
            for _ in range(2)]
    for name in ("InsAtten", "MangoNet", "NGCN"):
        s = runs[0].scores[name][0]
        assert s.shape == (len(runs[0].splits[0].test), bench.dataset.n_labels) and 0 <= s.min() and s.max() <= 1
        np.testing.assert_array_equal(s, runs[1].scores[name][0])  # deterministic on CPU
    assert set(runs[0].metrics["MangoNet"][0]) == {"mAP_C", "mAP_O", "CP", "CR", "CF1", "OP", "OR", "OF1"}


def test_mangonet_neighbours_come_from_the_same_part_and_share_insatten(toy_split):
    bench, maps = toy_split
    data = split_data(bench, 0)
    cfg = SGDConfig(epochs=1, min_epochs=1)
    _, info = methods.mangonet(maps, m=3, width=4, insatten_config=cfg, config=cfg, psi_dim=4, keep_model=True)(data)
    for part in ("train", "val", "test"):
        nbr = info["tables"][part].indices[:, :3]
        assert np.isin(nbr, getattr(data, part)).all()
        assert not (nbr == getattr(data, part)[:, None]).any()
    assert info["attention"].shape == (len(data.test), 4, 4)  # (test images, m + 1 nodes, H W)
    assert insatten_stage(data, maps, 4, cfg) is info["insatten"]  # stage 2 is cached on the split
    with pytest.raises(ValueError, match="nodes"):
        methods.mangonet(maps, nodes="other")
    with pytest.raises(ValueError, match="confidence"):
        methods.mangonet(maps, confidence="odds")
    # the literal reading feeds the logits y into Eq. 4 and 7: other attention, same InsAtten
    _, logit = methods.mangonet(maps, m=3, confidence="logit", width=4, insatten_config=cfg, config=cfg, psi_dim=4,
                                keep_model=True)(data)
    assert logit["insatten"] is info["insatten"]
    stage = info["insatten"]
    torch.testing.assert_close(stage.probabilities, torch.sigmoid(stage.logits))
    assert not torch.allclose(logit["attention"], info["attention"])


def test_sigmoid_scores_maps_logits_to_probabilities_keeping_rankings(toy_split):
    bench, _ = toy_split
    data = split_data(bench, 0)
    logits = np.linspace(-3, 3, len(data.test) * data.labels.shape[1]).reshape(len(data.test), -1)
    probs, info = methods.sigmoid_scores(lambda d: (logits, {"C": 1.0}))(data)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-logits)))
    assert info == {"C": 1.0}
