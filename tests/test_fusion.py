"""The semantic-maps chapter's models (RTN, LTN+Vecs, LTN+AllVecs, LTwin family, LZip), their
recurrent layer and the metadata maps, against hand computations in numpy."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from gensim.models import KeyedVectors

from neighborlib import maps, methods, neighbourhoods
from neighborlib.models import FUSION_MODELS, LTN, LinearLSTM, TrainConfig, train_neighbourhood_model
from neighborlib.models.fusion import LTNVecs, LTwin, RTN
from neighborlib.models.training import _neighbour_inputs
from neighborlib.protocol import load_benchmark, run_protocol, split_data

D, E, H, L = 5, 4, 6, 3
RNN_MODELS = ("RTN", "LTwin+RNN", "LTwin+2RNN", "LZip")


def _net(name, seed=0, dropout=0.0):
    return FUSION_MODELS[name](D, L, meta_dim=E, h=H, dropout=dropout,
                               generator=torch.Generator().manual_seed(seed)).double().eval()


def _inputs(B=3, m=4, K=None, seed=1):
    g = torch.Generator().manual_seed(seed)
    lead = (B, m) if K is None else (B, K, m)
    return (torch.randn(B, D, generator=g, dtype=torch.float64), torch.randn(*lead, D, generator=g, dtype=torch.float64),
            torch.randn(B, E, generator=g, dtype=torch.float64), torch.randn(*lead, E, generator=g, dtype=torch.float64))


def _np(layer):
    return layer.weight.detach().numpy(), layer.bias.detach().numpy()


def _relu(x):
    return np.maximum(0.0, x)


def _lstm_by_hand(rnn: LinearLSTM, xs: np.ndarray) -> np.ndarray:
    """The gate equations of the module docstring, one step at a time: (T, n_in) -> (n_out,)."""
    W, b = _np(rnn.W)
    U = rnn.U.weight.detach().numpy()
    n = rnn.n_out
    act = (lambda v: v) if rnn.activation == "linear" else np.tanh
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    h, c = np.zeros(n), np.zeros(n)
    for x in xs:
        z = W @ x + U @ h + b
        i, f, g, o = sig(z[:n]), sig(z[n:2 * n]), act(z[2 * n:3 * n]), sig(z[3 * n:])
        c = f * c + i * g
        h = o * act(c)
    return h


@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_lstm_by_hand(activation):
    rnn = LinearLSTM(4, 3, activation=activation, generator=torch.Generator().manual_seed(0)).double()
    x = torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = rnn(x).detach().numpy()
    for b in range(2):
        np.testing.assert_allclose(out[b], _lstm_by_hand(rnn, x[b].numpy()), rtol=1e-12, atol=1e-12)
    assert rnn.W.bias[3:6].tolist() == [1.0, 1.0, 1.0] and not rnn.W.bias[:3].any()  # unit forget bias
    U = rnn.U.weight.detach()[:3]
    torch.testing.assert_close(U @ U.T, torch.eye(3, dtype=torch.float64), rtol=0, atol=1e-6)  # orthogonal (float32 init)
    with pytest.raises(ValueError, match="activation"):
        LinearLSTM(2, 2, activation="relu")


def _by_hand(net, phi_x, phi_z, pi_x, pi_z):
    """Eq. 12-19 for one image: (d,), (m, d), (e,), (m, e) -> (L,)."""
    Wx, bx = _np(net.W_x)
    Wz, bz = _np(net.W_z)
    x_in = np.concatenate([phi_x, pi_x]) if net.feed_x else phi_x
    z_in = np.concatenate([phi_z, pi_z], axis=1) if net.feed_z else phi_z
    v_x = _relu(Wx @ x_in + bx)  # Eq. 10 / 14
    v_zi = _relu(z_in @ Wz.T + bz)  # (m, h)
    if net.twin:
        Wxu, bxu = _np(net.W_xu)
        Wzu, bzu = _np(net.W_zu)
        u_x, u_zi = _relu(Wxu @ pi_x + bxu), _relu(pi_z @ Wzu.T + bzu)
    if net.head_kind == "zip":  # Eq. 19
        seq = [v_x, u_x] + [s for i in range(len(phi_z)) for s in (v_zi[i], u_zi[i])]
        return _lstm_by_hand(net.rnn_y, np.stack(seq))
    v_z = v_zi.max(axis=0) if net.rnn_z is None else _lstm_by_hand(net.rnn_z, v_zi)  # Eq. 11 / 12
    states = [v_x, v_z]
    if net.twin:
        states += [u_x, u_zi.max(axis=0) if net.rnn_zu is None else _lstm_by_hand(net.rnn_zu, u_zi)]
    if net.head_kind == "rnn":  # Eq. 18
        return _lstm_by_hand(net.rnn_y, np.stack(states))
    Wy, by = _np(net.W_y)
    return Wy @ np.concatenate(states) + by  # Eq. 9 / 13 / 15 / 17


@pytest.mark.parametrize("name", list(FUSION_MODELS))
def test_equations_by_hand(name):
    net = _net(name)
    phi_x, phi_z, pi_x, pi_z = _inputs()
    f = net(phi_x, phi_z, pi_x, pi_z).detach().numpy()
    assert f.shape == (3, L)
    for b in range(3):
        expected = _by_hand(net, *(t[b].numpy() for t in (phi_x, phi_z, pi_x, pi_z)))
        np.testing.assert_allclose(f[b], expected, rtol=1e-10, atol=1e-12)


def test_structure_of_each_model():
    widths = {name: (_net(name).W_x.in_features, _net(name).W_z.in_features) for name in FUSION_MODELS}
    assert widths == {"RTN": (D, D), "LTN+Vecs": (D + E, D), "LTN+AllVecs": (D + E, D + E), "LTwin": (D, D),
                      "LTwin+RNN": (D, D), "LTwin+2RNN": (D, D), "LZip": (D, D)}
    assert _net("LTwin").W_y.in_features == 4 * H and _net("RTN").W_y.in_features == 2 * H
    assert _net("LTwin+2RNN").rnn_y.n_out == L and _net("LZip").rnn_y.n_in == H
    assert [c.name for c in FUSION_MODELS.values()] == list(FUSION_MODELS)
    assert [c.reads_metadata() for c in FUSION_MODELS.values()] == [False, True, True, True, True, True, True]


def test_which_inputs_each_model_sees():
    phi_x, phi_z, pi_x, pi_z = _inputs()
    other_x, other_z = pi_x + 1.0, pi_z * -2.0
    for name in FUSION_MODELS:
        net = _net(name)
        base = net(phi_x, phi_z, pi_x, pi_z)
        sees_x = not torch.allclose(base, net(phi_x, phi_z, other_x, pi_z))
        sees_z = not torch.allclose(base, net(phi_x, phi_z, pi_x, other_z))
        assert (sees_x, sees_z) == (net.uses_pi_x, net.uses_pi_z), name
    assert (LTNVecs.reads_metadata(), _net("LTN+Vecs").uses_pi_z) == (True, False)  # LTN+Vecs: no neighbour maps
    # nor are they gathered for it by the training loop, nor needed
    assert _neighbour_inputs(_net("LTN+Vecs"), torch.arange(2), torch.zeros(4, E)) == {}
    assert set(_neighbour_inputs(_net("LTN+AllVecs"), torch.arange(2), torch.zeros(4, E))) == {"pi_z"}
    _net("LTN+Vecs")(phi_x, phi_z, pi_x, None)
    _net("RTN")(phi_x, phi_z)
    with pytest.raises(ValueError, match="pi_z"):
        _net("LTwin")(phi_x, phi_z, pi_x, None)
    with pytest.raises(ValueError, match="meta_dim"):
        LTwin(D, L, meta_dim=0)


@pytest.mark.parametrize("name", list(FUSION_MODELS))
def test_neighbour_order(name):
    """Recurrent fusion reads the neighbours in the given order; max-pooling ignores it."""
    net = _net(name)
    phi_x, phi_z, pi_x, pi_z = _inputs()
    rev = [3, 2, 1, 0]
    a, b = net(phi_x, phi_z, pi_x, pi_z), net(phi_x, phi_z[:, rev], pi_x, pi_z[:, rev])
    if name in RNN_MODELS:
        assert (a - b).abs().max() > 1e-3
    else:
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_the_loop_feeds_neighbours_nearest_first():
    """A spy model records the neighbour features the loop hands it: with feature = image index
    (standardising keeps the order) and tables ranked by decreasing index, every sequence falls."""

    class Spy(RTN):
        seen: list = []

        def forward(self, phi_x, phi_z, pi_x=None, pi_z=None, generator=None):
            Spy.seen.append(phi_z[..., 0].detach().clone())
            return super().forward(phi_x, phi_z, pi_x, pi_z, generator)

    n, M = 60, 6
    X = np.arange(n, dtype=float)[:, None].repeat(D, axis=1)
    Y = (np.arange(n)[:, None] % np.array([2, 3, 5]) == 0).astype(float)
    nbr = np.stack([np.array([j for j in range(n - 1, -1, -1) if j != i][:M]) for i in range(n)])
    train, val = np.arange(40), np.arange(40, 60)
    net = Spy(D, L, h=H, generator=torch.Generator().manual_seed(0))
    train_neighbourhood_model(net, X, Y, (train, nbr[train]), (val, nbr[val]), config=TrainConfig(epochs=1, m=3, K=2))
    seqs = torch.cat(Spy.seen)
    assert seqs.shape[1] == 3 and (seqs[:, 1:] < seqs[:, :-1]).all()


@pytest.mark.parametrize("name", list(FUSION_MODELS))
def test_average_scores_is_the_mean_over_samples(name):
    """Eq. 1: average_scores equals the mean of forward over the K neighbourhoods."""
    net = _net(name)
    phi_x, phi_z, pi_x, pi_z = _inputs(K=3)
    expected = torch.stack([net(phi_x, phi_z[:, k], pi_x, pi_z[:, k]) for k in range(3)]).mean(0)
    hidden = net.neighbour_hidden(phi_z, pi_z if net.uses_pi_z else None)
    torch.testing.assert_close(net.average_scores(phi_x, hidden, pi_x), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(FUSION_MODELS))
def test_gradients_reach_every_parameter(name):
    net = _net(name).train()
    phi_x, phi_z, pi_x, pi_z = _inputs(B=8, seed=4)
    net(phi_x, phi_z, pi_x, pi_z).sum().backward()
    dead = [p for p, w in net.named_parameters() if w.grad is None or not w.grad.abs().sum() > 0]
    assert dead == []
    names = {id(w): p for p, w in net.named_parameters()}
    penalised = {names[id(w)] for w in net.regularised_parameters()}
    assert penalised == {p for p in names.values() if not p.endswith("bias")}


def test_dropout_only_in_training_and_reproducible():
    net = _net("LZip", dropout=0.5).train()
    phi_x, phi_z, pi_x, pi_z = _inputs()
    a = net(phi_x, phi_z, pi_x, pi_z, generator=torch.Generator().manual_seed(5))
    b = net(phi_x, phi_z, pi_x, pi_z, generator=torch.Generator().manual_seed(5))
    c = net(phi_x, phi_z, pi_x, pi_z, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    net.eval()
    assert torch.equal(net(phi_x, phi_z, pi_x, pi_z), net(phi_x, phi_z, pi_x, pi_z))


# ----------------------------------------------------------------------------- metadata maps


def _vectors():
    kv = KeyedVectors(2)
    kv.add_vectors(["dog", "cat", "sea"], np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]], dtype=np.float32))
    return kv


@pytest.fixture(scope="module")
def synthetic_run():
    bench = load_benchmark("synthetic", n_images=600, render=False, kinds=("tags",))
    ds = bench.dataset
    rng = np.random.default_rng(0)
    X = rng.normal(size=(len(ds), 8)) + ds.labels @ rng.normal(size=(ds.n_labels, 8))
    return bench, X


def test_embedded_map_by_hand(synthetic_run):
    bench, X = synthetic_run
    data = split_data(bench, 0, features=X)
    kv = KeyedVectors(3)
    words = list(data.vocabulary.tokens[:5])
    kv.add_vectors(words[:4], np.arange(12, dtype=np.float32).reshape(4, 3) - 5)  # the fifth word is OOV
    pi = maps.embedded("toy", kv)(data)
    Z = data.Z.toarray().astype(float)
    B = np.zeros((Z.shape[1], 3))
    B[:4] = np.arange(12).reshape(4, 3) - 5
    rho = Z @ B  # Eq. 6
    scale = np.sqrt(np.mean(rho[data.train] ** 2))
    np.testing.assert_allclose(pi.values, rho / scale, rtol=1e-5, atol=1e-6)
    assert pi.scale == pytest.approx(scale) and pi.metric == "cosine" and pi.dim == 3
    assert pi.report.n_covered == 4 and pi.report.oov[0] == words[4]
    zero = ~Z[:, :4].any(axis=1)  # no covered tag: the zero vector, isolated for cosine neighbours
    assert pi.report.images_without_vector == int((zero & Z.any(axis=1)).sum())
    assert (pi.values[zero] == 0).all()
    tables = neighbourhoods.by_map(maps.embedded("toy", kv))(data, 4)
    test_zero = zero[data.test]
    np.testing.assert_array_equal(tables["test"].isolated, test_zero)
    assert maps.embedded("toy", kv)(data) is pi  # cached on the split
    ident = maps.identity()(data)
    assert ident.values is data.Z and ident.metric == "jaccard"
    assert neighbourhoods.by_map(maps.identity())(data, 4) is data.metadata_neighbours(4)


def test_shifted_map_uses_the_test_vocabulary_on_test_rows(synthetic_run):
    bench, X = synthetic_run
    data = split_data(bench, 0, features=X)
    train_vocab, test_vocab = neighbourhoods.overlap_vocabularies(data, 0.0, n_top=40)
    assert not set(train_vocab.tokens) & set(test_vocab.tokens)
    tokens = bench.dataset.tokens("tags")
    ident = maps.shifted("id", None, 0.0, n_top=40)(data).values.toarray()
    np.testing.assert_array_equal(ident[data.train], train_vocab.encode(tokens).toarray()[data.train])
    np.testing.assert_array_equal(ident[data.test], test_vocab.encode(tokens).toarray()[data.test])
    kv = KeyedVectors(2)
    kv.add_vectors(list(train_vocab.tokens) + list(test_vocab.tokens),
                   np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32))
    pi = maps.shifted("toy", kv, 0.0, n_top=40)(data)
    rho_test = test_vocab.encode(tokens).toarray()[data.test] @ kv.vectors[20:]
    np.testing.assert_allclose(pi.values[data.test], rho_test / pi.scale, rtol=1e-5, atol=1e-6)
    assert pi.scale == pytest.approx(maps.rms_scale(train_vocab.encode(tokens).toarray()[data.train] @ kv.vectors[:20]))


def test_nan_in_a_metadata_map_is_refused():
    n = 40
    X, Y = np.random.default_rng(0).normal(size=(n, D)), np.eye(L)[np.arange(n) % L]
    nbr = np.stack([np.roll(np.arange(n), -k - 1)[:n] for k in range(4)], axis=1)
    P = np.zeros((n, E))
    P[9, 2] = np.nan
    net = LTwin(D, L, meta_dim=E, h=H)
    with pytest.raises(ValueError, match=r"metadata maps contain NaN or inf \(row 9, column 2\)"):
        train_neighbourhood_model(net, X, Y, (np.arange(30), nbr[:30]), (np.arange(30, 40), nbr[30:]), metadata=P)
    with pytest.raises(ValueError, match="pass metadata"):
        train_neighbourhood_model(net, X, Y, (np.arange(30), nbr[:30]), (np.arange(30, 40), nbr[30:]))


def test_fusion_methods_run_the_protocol(synthetic_run):
    bench, X = synthetic_run
    cfg = TrainConfig(epochs=2, batch_size=64)
    w2v = _vectors()
    runs = {name: methods.fusion(name, m=3, M=6, feed=maps.identity(), config=cfg, h=16) for name in FUSION_MODELS}
    runs["LTwin (n: toy, f: toy)"] = methods.fusion("LTwin", source=neighbourhoods.by_map(maps.embedded("toy", w2v)),
                                                      feed=maps.embedded("toy", w2v), config=cfg, h=16)
    res = run_protocol(bench, runs, n_splits=1, features=X, progress=False)
    for name in runs:
        assert set(res.info[name][0]) >= {"epoch", "val mAP_label", "s/epoch", "s"}, name
        assert 0.0 < res.metrics[name][0]["mAP_label"] <= 1.0
    rec = res.records(m=3, M=6)
    assert len(rec) == len(runs) + 1 and set(rec["m"]) == {3}  # one row per method and split, the upper bound too
    row = rec[rec["method"] == "LZip"].iloc[0]
    assert row["mAP_label"] == res.metrics["LZip"][0]["mAP_label"] and row["epoch"] == res.info["LZip"][0]["epoch"]
    with pytest.raises(ValueError, match="feed="):
        methods.fusion("LTwin", config=cfg)(split_data(bench, 0, features=X))


def test_fusion_training_is_deterministic(synthetic_run):
    bench, X = synthetic_run
    data = split_data(bench, 0, features=X)
    cfg = TrainConfig(epochs=1, batch_size=64)
    a, _ = methods.fusion("LTwin+RNN", feed=maps.identity(), config=cfg, h=8)(data)
    b, _ = methods.fusion("LTwin+RNN", feed=maps.identity(), config=cfg, h=8)(split_data(bench, 0, features=X))
    assert np.array_equal(a, b)


def test_ltn_through_the_generalised_loop_is_unchanged():
    """LTN (tags as a dense bool tensor, now shared with the maps) scores as Eq. 4-6 say."""
    n = 50
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(n, D)), np.eye(L)[np.arange(n) % L]
    T = sp.csr_matrix((rng.random((n, 7)) < 0.3).astype(np.float32))
    nbr = np.stack([np.roll(np.arange(n), -k - 1) for k in range(4)], axis=1)
    net = LTN(D, L, h=H, tag_dim=7, generator=torch.Generator().manual_seed(0))
    fit = train_neighbourhood_model(net, X, Y, (np.arange(40), nbr[:40]), (np.arange(40, 50), nbr[40:]), tags=T,
                                    config=TrainConfig(epochs=1, m=4, K=1))
    scores = fit.predict(X, np.arange(40, 50), nbr[40:], tags=T)
    Xs = fit.standardiser.tensor(X, torch.device("cpu")).double()
    model = fit.model.double()
    expected = model(Xs[40:], Xs[torch.as_tensor(nbr[40:])], torch.as_tensor(T.toarray()[40:], dtype=torch.float64))
    np.testing.assert_allclose(scores, expected.detach().numpy(), rtol=1e-5, atol=1e-5)
