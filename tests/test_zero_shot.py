"""Chapter 7's zero-shot labels: the label folds, the seen view, no held-out label in training
or model selection (a spy on the trainer and an invariance check), the zero-shot metrics
against scikit-learn, training subsets, ConSE's embedding rule and the label word vectors
(with the real WordNet's hypernyms when the resource is there).

Cost: the synthetic benchmark (300 images, no photos) about 1.5 s, the zero-shot runs (two-epoch
fits of 8-unit networks on 16 random features) a few seconds, WordNet 3-5 s when present.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors
from sklearn.metrics import average_precision_score

import neighborlib.ranking as ranking
from neighborlib.embeddings import label_word_vectors
from neighborlib.metrics import evaluate_zero_shot, mean_average_precision
from neighborlib.models.minibatch import SGDConfig
from neighborlib.protocol import (
    LabelSplit, label_splits, load_benchmark, protocol_splits, run_zero_shot, seen_view, split_data,
    training_subset,
)
from neighborlib.seeding import stream

CFG = SGDConfig(epochs=2, min_epochs=1, batch_size=32, optimiser="adam")


@pytest.fixture(scope="module")
def world():
    """The synthetic benchmark (300 images, 20 labels), random features and label vectors."""
    bench = load_benchmark("synthetic", n_images=300, render=False)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(len(bench), 16)).astype("float32")
    W = rng.normal(size=(bench.dataset.n_labels, 6)).astype("float32")
    return bench, X, W


def _methods(W: np.ndarray) -> dict:
    return {
        "TR": ranking.zero_shot_transform_rank(W, k=3, hidden=8, config=CFG, n_negatives=5),
        "ConSE": ranking.conse(W, T=3, hidden=8, config=CFG),
    }


# ----------------------------------------------------------------------------- label folds


def test_label_splits_partition_the_labels():
    folds = label_splits(23, 5, seed=0)
    assert [f.index for f in folds] == list(range(5))
    assert sorted(len(f.unseen) for f in folds) == [4, 4, 5, 5, 5]  # 23 = 5 + 5 + 5 + 4 + 4
    unseen_count = np.zeros(23, dtype=int)
    for f in folds:
        unseen_count[f.unseen] += 1
        assert np.array_equal(f.seen, np.sort(f.seen)) and np.array_equal(f.unseen, np.sort(f.unseen))
        assert not set(f.seen) & set(f.unseen)
        assert sorted(set(f.seen) | set(f.unseen)) == list(range(23))
    assert np.all(unseen_count == 1)  # every label unseen exactly once
    again = label_splits(23, 5, seed=0)
    assert all(np.array_equal(a.unseen, b.unseen) and np.array_equal(a.seen, b.seen)
               for a, b in zip(folds, again))
    other = label_splits(23, 5, seed=1)
    assert any(not np.array_equal(a.unseen, b.unseen) for a, b in zip(folds, other))
    assert [len(f.unseen) for f in label_splits(4, 4)] == [1, 1, 1, 1]
    for bad in (0, 1, 24):
        with pytest.raises(ValueError, match="n_splits"):
            label_splits(23, bad)


def test_seen_view_keeps_exactly_the_seen_columns(world):
    bench, X, _ = world
    data = split_data(bench, 0, features=X)
    fold = label_splits(bench.dataset.n_labels, 5, seed=0)[1]
    view = seen_view(data, fold)
    names = bench.dataset.label_names
    assert view.bench.dataset.label_names == tuple(names[j] for j in fold.seen)
    assert np.array_equal(view.labels, data.labels[:, fold.seen])
    for part in ("train", "val", "test"):
        assert np.array_equal(view.Y(part), data.Y(part)[:, fold.seen])
        assert np.array_equal(view.X(part), data.X(part))
    assert view.split is data.split and view.Z is data.Z and view.seed == data.seed
    data.cached(("probe",), lambda: 1)
    assert ("probe",) not in view._cache  # a fresh cache: nothing computed on every label carries over


# ----------------------------------------------------------------------------- no leakage


@pytest.fixture(scope="module")
def spied_run(world):
    """``run_zero_shot`` of three methods with ``neighborlib.ranking.fit_multilabel`` wrapped by a
    spy recording what every fit is given: its training and validation targets, the network's
    label count and its validation scorer."""
    bench, X, W = world
    calls = []
    real = ranking.fit_multilabel

    def spy(model, train, val, **kwargs):
        calls.append({"train": train[1].clone(), "val": val[1].clone(), "n_labels": model.n_labels,
                      "score_val": kwargs.get("score_val")})
        return real(model, train, val, **kwargs)

    methods = {**_methods(W), "DeViSE": ranking.zero_shot_devise(W, hidden=8, config=CFG, n_negatives=5)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ranking, "fit_multilabel", spy)
        result = run_zero_shot(bench, methods, features=X, progress=False)
    return result, calls


class _FixedScores(torch.nn.Module):
    """A stand-in network returning fixed ``(n, S)`` scores for the ``n`` validation rows."""

    def __init__(self, values: torch.Tensor):
        super().__init__()
        self.values = values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert len(x) <= len(self.values)
        self.offset = getattr(self, "offset", 0)
        out = self.values[self.offset:self.offset + len(x)]
        self.offset = (self.offset + len(x)) % len(self.values)
        return out


def test_held_out_labels_never_reach_training_or_model_selection(world, spied_run):
    bench, X, W = world
    result, calls = spied_run
    methods = list(result.scores)
    assert methods == ["TR", "ConSE", "DeViSE"]
    data = split_data(bench, 0, features=X)  # run_zero_shot's image split (index 0, seed 0)
    folds = label_splits(bench.dataset.n_labels, 5, seed=0)
    assert all(np.array_equal(a.unseen, b.unseen) for a, b in zip(folds, result.label_splits))
    assert len(calls) == len(folds) * len(methods)
    for f, fold in enumerate(folds):
        for m in range(len(methods)):
            call = calls[f * len(methods) + m]
            for part in ("train", "val"):
                expected = torch.as_tensor(data.Y(part)[:, fold.seen], dtype=torch.float32)
                assert call[part].shape == (len(getattr(data, part)), len(fold.seen))
                assert torch.equal(call[part], expected), (f, m, part)
            assert call["n_labels"] == len(fold.seen)  # the network ranks the seen labels only
            # model selection scores the seen validation columns only: a stand-in network with
            # known scores gets exactly their per-image mAP against Y_val[:, seen]
            scores = np.random.default_rng(f * 10 + m).normal(size=(len(data.val), len(fold.seen)))
            fake = _FixedScores(torch.as_tensor(scores, dtype=torch.float32))
            assert call["score_val"](fake) == pytest.approx(
                mean_average_precision(fake.values.numpy(), data.Y("val")[:, fold.seen], per="image"), rel=1e-12)
    for name in methods:
        for scores in result.scores[name]:
            assert scores.shape == (len(data.test), bench.dataset.n_labels) and np.isfinite(scores).all()


def _scramble(labels: np.ndarray, columns: np.ndarray, seed: int) -> np.ndarray:
    """Random 0/1 in ``columns``; a row keeps at least one positive if it had one, so the protocol's
    image eligibility (an image needs a label) and hence the image split stay the same."""
    rng = np.random.default_rng(seed)
    out = labels.copy()
    out[:, columns] = rng.integers(0, 2, size=(len(out), len(columns)))
    empty = np.flatnonzero((out.sum(1) == 0) & (labels.sum(1) > 0))
    out[empty, columns[0]] = 1
    return out


def test_zero_shot_scores_do_not_depend_on_the_held_out_labels(world, spied_run):
    bench, X, W = world
    base, _ = spied_run
    folds = base.label_splits
    s = 2
    labels = _scramble(bench.dataset.labels, folds[s].unseen, seed=s)
    assert not np.array_equal(labels[:, folds[s].unseen], bench.dataset.labels[:, folds[s].unseen])
    assert np.array_equal(labels[:, folds[s].seen], bench.dataset.labels[:, folds[s].seen])
    scrambled = replace(bench, dataset=replace(bench.dataset, labels=labels))
    for a, b in zip(protocol_splits(bench), protocol_splits(scrambled)):
        for part in ("train", "val", "test"):
            assert np.array_equal(getattr(a, part), getattr(b, part))
    run = run_zero_shot(scrambled, _methods(W), features=X, progress=False)
    for name in run.scores:
        # fold s: the scrambled columns are held out - bit-identical scores ...
        assert np.array_equal(run.scores[name][s], base.scores[name][s]), name
        # ... though its evaluation sees them (the scramble is real) ...
        assert run.metrics[name][s]["mAP_unseen"] != base.metrics[name][s]["mAP_unseen"]
        # ... and in every other fold the same columns are seen: the scores change
        for t in range(len(folds)):
            if t != s:
                assert not np.array_equal(run.scores[name][t], base.scores[name][t]), (name, t)


def test_zero_shot_result_per_label_ap(world, spied_run):
    bench, X, _ = world
    result, _ = spied_run
    y = split_data(bench, 0, features=X).Y("test")
    table = result.per_label_ap("TR")
    assert list(table.index) == list(bench.dataset.label_names)
    for j in range(bench.dataset.n_labels):
        if not y[:, j].any():
            assert np.isnan(table["AP unseen"].iloc[j]) and np.isnan(table["AP seen"].iloc[j])
            continue
        held = [f for f, ls in enumerate(result.label_splits) if j in ls.unseen]
        assert len(held) == 1
        aps = [average_precision_score(y[:, j], scores[:, j]) for scores in result.scores["TR"]]
        assert table["AP unseen"].iloc[j] == pytest.approx(aps[held[0]], rel=1e-12)
        seen_mean = np.mean([a for f, a in enumerate(aps) if f != held[0]])
        assert table["AP seen"].iloc[j] == pytest.approx(seen_mean, rel=1e-12)
    with pytest.raises(KeyError, match="keep_scores"):
        result.per_label_ap("nope")


# ----------------------------------------------------------------------------- metrics


def test_evaluate_zero_shot_matches_sklearn():
    rng = np.random.default_rng(3)
    N, L = 14, 7
    s = rng.normal(size=(N, L))
    t = (rng.random((N, L)) < 0.35).astype(int)
    t[0] = 0
    t[1, [0, 4]] = 1
    unseen = np.array([1, 4, 6])
    seen = np.array([0, 2, 3, 5])
    got = evaluate_zero_shot(s, t, unseen, k=3)

    def per_label(cols):
        return np.mean([average_precision_score(t[:, j], s[:, j]) for j in cols if t[:, j].any()])

    def per_image(cols):
        rows = [i for i in range(N) if t[i, cols].any()]
        return np.mean([average_precision_score(t[i, cols], s[i, cols]) for i in rows])

    assert any(not t[i, unseen].any() and t[i].any() for i in range(N))  # images with seen positives only
    m_u, m_s = per_label(unseen), per_label(seen)
    assert got["mAP_unseen"] == pytest.approx(m_u, rel=1e-12)
    assert got["mAP_seen"] == pytest.approx(m_s, rel=1e-12)
    assert got["H"] == pytest.approx(2 * m_u * m_s / (m_u + m_s), rel=1e-12)
    assert got["mAP_image_unseen"] == pytest.approx(per_image(unseen), rel=1e-12)
    assert got["mAP_image_all"] == pytest.approx(per_image(np.arange(L)), rel=1e-12)
    # top 3 of each image among all 7 labels (continuous scores: no ties)
    top = [set(np.argsort(-s[i])[:3]) for i in range(N)]
    hits_unseen = sum(1 for i in range(N) for j in unseen if t[i, j] and j in top[i])
    assert got["R@3_unseen"] == pytest.approx(hits_unseen / t[:, unseen].sum(), rel=1e-12)
    correct = sum(1 for i in range(N) for j in top[i] if t[i, j])
    p, r = correct / (3 * N), correct / t.sum()
    assert got["F1@3_all"] == pytest.approx(2 * p * r / (p + r), rel=1e-12)
    with pytest.raises(ValueError, match="unseen"):
        evaluate_zero_shot(s, t, [], k=3)
    with pytest.raises(ValueError, match="unseen"):
        evaluate_zero_shot(s, t, np.arange(L), k=3)


# ----------------------------------------------------------------------------- training subsets


def test_training_subset(world):
    bench, X, _ = world
    data = split_data(bench, 0, features=X)
    n = len(data.train)
    for fraction in (0.1, 0.35, 0.5):
        sub = training_subset(data, fraction)
        assert len(sub.train) == round(fraction * n)
        assert set(sub.train) <= set(data.train) and np.array_equal(sub.train, np.sort(sub.train))
        assert len(set(sub.train)) == len(sub.train)
        assert np.array_equal(sub.val, data.val) and np.array_equal(sub.test, data.test)
        assert np.array_equal(sub.X("train"), X[sub.train])
        assert np.array_equal(sub.Y("train"), data.labels[sub.train])
        assert np.array_equal(training_subset(data, fraction).train, sub.train)  # deterministic
        # the documented stream: "fraction", keyed by the split, round(1000 f) and the key
        rng = stream(data.seed, "fraction", data.split.index, round(1000 * fraction), 0)
        draw = rng.choice(data.train, len(sub.train), replace=False)
        assert np.array_equal(sub.train, np.sort(draw))
    assert not np.array_equal(training_subset(data, 0.35, key=1).train, training_subset(data, 0.35).train)
    assert np.array_equal(training_subset(data, 1.0).train, data.train)
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="fraction"):
            training_subset(data, bad)


# ----------------------------------------------------------------------------- ConSE


def test_conse_embeds_by_the_top_T_probabilities(monkeypatch):
    # five labels in 2-d: seen 0, 1, 3; unseen 2 and 4 (4 has a zero vector: it scores 0)
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0], [0.0, 0.0]])
    labels = LabelSplit(0, np.array([0, 1, 3]), np.array([2, 4]))
    logits = np.array([[0.0, math.log(3), -math.log(3)],     # p = 0.5, 0.75, 0.25
                       [math.log(4), math.log(9), -10.0]])   # p = 0.8, 0.9, ~0
    asked = []

    def fake_label_scorer(loss="logistic", hidden=512, config=None, device="cpu", progress=False):
        asked.append(loss)
        return lambda seen: (logits, {"epoch": 1})

    monkeypatch.setattr(ranking, "label_scorer", fake_label_scorer)
    scores, info = ranking.conse(W, T=2)(None, labels)
    assert asked == ["logistic"] and info["T"] == 2 and info["epoch"] == 1
    # image 0, top 2: w1 (0.75), w0 (0.5) -> e = (0.5, 0.75) / 1.25 = (0.4, 0.6), |e| = sqrt(0.52)
    e0 = math.sqrt(0.52)
    # image 1, top 2: w1 (0.9), w0 (0.8) -> e ∝ (0.8, 0.9), |(0.8, 0.9)| = sqrt(1.45)
    e1 = math.sqrt(1.45)
    expected = np.array([
        [0.4 / e0, 0.6 / e0, 1.0 / (e0 * math.sqrt(2)), -0.4 / e0, 0.0],
        [0.8 / e1, 0.9 / e1, 1.7 / (e1 * math.sqrt(2)), -0.8 / e1, 0.0],
    ])
    np.testing.assert_allclose(scores, expected, rtol=1e-12, atol=1e-15)
    # T = 3 for image 0: e ∝ 0.5 w0 + 0.75 w1 + 0.25 w3 = (0.25, 0.75) ∝ (1, 3);
    # a T above the seen count is capped
    for T in (3, 10):
        scores, info = ranking.conse(W, T=T)(None, labels)
        assert info["T"] == 3
        r10 = math.sqrt(10)
        expected0 = [1 / r10, 3 / r10, 4 / (r10 * math.sqrt(2)), -1 / r10, 0.0]
        np.testing.assert_allclose(scores[0], expected0, rtol=1e-12)


# ----------------------------------------------------------------------------- label word vectors


WORDS = {
    "plant": [1.0, 0.0, 0.0, 0.0],
    "life": [0.0, 3.0, 0.0, 0.0],
    "equine": [0.0, 0.0, 2.0, 0.0],
    "horse": [0.0, 1.0, 1.0, 0.0],
    "kitchen": [0.0, 0.0, 0.0, 4.0],
    "appliance": [2.0, 0.0, 0.0, 0.0],
    "wassailer": [0.0, 0.0, 0.0, -1.0],   # the person sense of "toaster": never used
}


def _kv(words=WORDS) -> KeyedVectors:
    kv = KeyedVectors(4)
    kv.add_vectors(list(words), np.array(list(words.values()), dtype=np.float32))
    return kv


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


LABELS = ["horse", "plant_life", "Plant-Life", "potted_plant", "zebra", "xyzzy", "toaster", "equid"]


def test_label_word_vectors_without_wordnet():
    V, table = label_word_vectors(LABELS, _kv())
    assert V.dtype == np.float32 and V.shape == (len(LABELS), 4)
    assert list(table.index) == LABELS
    assert list(table["source"]) == ["words", "words", "words", "partial", "none", "none", "none", "none"]
    assert table.loc["plant_life", "words"] == "plant, life"
    assert table.loc["potted_plant", "words"] == "plant"
    mean_pl = (np.array(WORDS["plant"]) + np.array(WORDS["life"])) / 2  # (0.5, 1.5, 0, 0)
    np.testing.assert_allclose(V[0], _unit(WORDS["horse"]), rtol=1e-6)
    np.testing.assert_allclose(V[1], np.array([0.5, 1.5, 0, 0]) / math.sqrt(2.5), rtol=1e-6)
    np.testing.assert_allclose(V[1], _unit(mean_pl), rtol=1e-6)
    np.testing.assert_allclose(V[2], V[1], rtol=1e-6)  # split on '-', looked up lower-cased
    np.testing.assert_allclose(V[3], [1, 0, 0, 0], rtol=1e-6)
    assert np.all(V[4:] == 0)
    norms = np.linalg.norm(V, axis=1)
    np.testing.assert_allclose(norms[:4], 1.0, rtol=1e-6)
    # normalise=False: the raw means
    R, _ = label_word_vectors(LABELS, _kv(), normalise=False)
    np.testing.assert_allclose(R[0], WORDS["horse"], rtol=1e-6)
    np.testing.assert_allclose(R[1], mean_pl, rtol=1e-6)
    np.testing.assert_allclose(R[3], WORDS["plant"], rtol=1e-6)
    assert np.all(R[4:] == 0)


@pytest.fixture(scope="module")
def wn(wordnet_root):
    pytest.importorskip("nltk")
    from neighborlib.wordnet import load_wordnet

    return load_wordnet(wordnet_root)


def test_label_word_vectors_with_wordnet_stand_ins(wn):
    V, table = label_word_vectors(LABELS, _kv(), wn=wn)
    src = table["source"].to_dict()
    # words first, whatever WordNet says
    assert src["horse"] == src["plant_life"] == src["Plant-Life"] == "words"
    # zebra.n.01 -> its hypernym equine.n.01, the first lemma with a vector
    assert src["zebra"] == "WordNet hypernym (+1): equine"
    np.testing.assert_allclose(V[LABELS.index("zebra")], [0, 0, 1, 0], rtol=1e-6)
    # equid is a lemma of equine.n.01 itself: a synonym (depth 0)
    assert src["equid"] == "WordNet synonym: equine"
    # toaster.n.01 (one who proposes a toast, lemma "wassailer") is a person and is passed over;
    # toaster.n.02's hypernym kitchen_appliance has a vector for each word: their mean
    assert src["toaster"] == "WordNet hypernym (+1): kitchen appliance"
    assert table.loc["toaster", "words"] == "kitchen, appliance"
    np.testing.assert_allclose(V[LABELS.index("toaster")], _unit([1.0, 0, 0, 2.0]), rtol=1e-6)
    # no WordNet noun: partial words, then nothing
    assert src["potted_plant"] == "partial" and src["xyzzy"] == "none"
    assert np.all(V[LABELS.index("xyzzy")] == 0)
    # WordNet comes before a partial match: without "life", plant_life's sense plant.n.02 has
    # the lemma "plant"
    no_life = {w: v for w, v in WORDS.items() if w != "life"}
    V2, t2 = label_word_vectors(["plant_life"], _kv(no_life), wn=wn)
    assert t2.loc["plant_life", "source"] == "WordNet synonym: plant"
    assert label_word_vectors(["plant_life"], _kv(no_life))[1].loc["plant_life", "source"] == "partial"
    np.testing.assert_allclose(V2[0], [1, 0, 0, 0], rtol=1e-6)
