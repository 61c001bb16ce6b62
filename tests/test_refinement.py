"""Chapter 6's tag set and protocol methods (neighborlib.refinement) against brute force."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from neighborlib import refinement as R
from neighborlib.models.weak import TagNet
from neighborlib.protocol import WEAK_FRACTIONS, load_benchmark, split_data
from neighborlib.tagsemantics import normalised_google_distance

wordnet = pytest.importorskip("neighborlib.wordnet")


@pytest.fixture(scope="module")
def world(wordnet_root):
    wn, ic = wordnet.load_wordnet(wordnet_root), wordnet.load_information_content("ic-brown.dat", wordnet_root)
    bench = load_benchmark("synthetic", n_images=400, render=False)
    ts = R.tag_set(bench, wn, ic)
    G = ts.G.toarray()
    rng = np.random.default_rng(0)
    X = (G @ rng.normal(size=(G.shape[1], 16)) + 0.01 * rng.normal(size=(len(G), 16))).astype(np.float32)
    data = split_data(bench, 0, n_splits=1, features=X, fractions=WEAK_FRACTIONS, every_image=True)
    return ts, X, data


def test_label_candidates_follow_the_papers_labels():
    assert R._label_candidates("clouds_r1") == ("clouds",)
    assert R._label_candidates("dining table") == ("dining_table", "table")
    assert R._label_candidates("female_r1") == R.LABEL_TAGS["female"]


def test_tag_set_encodes_the_tags_and_maps_every_label(world, wordnet_root):
    ts, _, _ = world
    np.testing.assert_array_equal(ts.G.toarray(), ts.vocabulary.encode(ts.bench.tokens).toarray())
    assert all(ts.label_columns)  # the synthetic world's labels are all tags
    lemma = wordnet.load_wordnet(wordnet_root).morphy  # "clouds" -> "cloud"
    for name, cols in zip(ts.bench.dataset.label_names, ts.label_columns):
        assert (lemma(name) or name) in {ts.vocabulary.tokens[c] for c in cols}
    assert ts.kb_distance.shape == (ts.n_tags, ts.n_tags) and np.all(np.diag(ts.kb_distance) == 0)


def test_label_scores_take_the_largest_tag():
    ts = R.TagSet(None, None, sp.csr_matrix((2, 4)), ((0, 2), (), (3,)), np.zeros((4, 4)))  # type: ignore[arg-type]
    s = np.array([[0.1, 0.9, 0.4, 0.2], [0.7, 0.0, 0.3, 0.5]])
    np.testing.assert_array_equal(ts.label_scores(s), [[0.4, 0.0, 0.2], [0.7, 0.0, 0.5]])
    assert ts.label_tag_columns.tolist() == [0, 2, 3]
    with pytest.raises(ValueError, match=r"\(Q, 4\)"):
        ts.label_scores(s[:, :3])


def test_context_distance_puts_unseen_tags_at_infinity():
    G = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 0, 1], [0, 1, 0, 1], [1, 1, 0, 0]], dtype=np.float32))
    D = R.context_distance(G)
    seen = [0, 1, 3]
    np.testing.assert_array_equal(D[np.ix_(seen, seen)], normalised_google_distance(G[:, seen]))
    assert np.isinf(D[2, [0, 1, 3]]).all() and np.isinf(D[[0, 1, 3], 2]).all() and D[2, 2] == 0


def test_knn_scores_are_neighbour_tag_frequencies(world):
    ts, X, data = world
    method = R.knn(ts, ks=(5,))
    scores, info = method(data)
    assert info["k"] == 5
    # brute force: cosine over the training part, the mean of the 5 nearest images' tags
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    sims = Xn[data.test] @ Xn[data.train].T
    nn = data.train[np.argsort(-sims, axis=1, kind="stable")[:, :5]]
    expected = ts.label_scores(ts.G.toarray()[nn].mean(1))
    np.testing.assert_allclose(scores, expected, atol=1e-12)


def test_refinement_neighbours_never_include_the_query(world):
    ts, X, data = world
    nbr = R._visual_neighbours(data, "refinement", 10)
    assert nbr["test"].shape == (len(data.test), 10)
    assert not (nbr["test"] == data.test[:, None]).any()
    pool = np.sort(np.concatenate([data.train, data.val, data.test]))
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    q = data.test[:20]
    sims = Xn[q] @ Xn[pool].T
    sims[pool[None, :] == q[:, None]] = -np.inf
    np.testing.assert_array_equal(nbr["test"][:20], pool[np.argsort(-sims, axis=1, kind="stable")[:, :10]])


def test_user_tags_method_reads_the_test_tags(world):
    ts, _, data = world
    scores, _ = R.user_tags_method(ts)(data)
    np.testing.assert_array_equal(scores, ts.label_scores(ts.G[data.test].toarray()))


def test_an_ablation_needs_the_full_models_choice(world):
    ts, _, data = world
    with pytest.raises(ValueError, match="full model"):
        R.weak_model(ts, grid=None, changes={"use_vis": False})(data)


def test_neighbour_relevance_by_hand():
    # four images on a line, candidates everyone else; m = 2 takes the nearest only
    X = torch.tensor([[0.0], [1.0], [5.0], [6.0]])
    model = TagNet(1, 2, hidden=1)
    with torch.no_grad():
        model.fc.weight.fill_(1.0)
        model.fc.bias.zero_()
    cand = np.array([[1, 2, 3], [0, 2, 3], [3, 1, 0], [2, 1, 0]])
    labels = np.array([[1, 0], [0, 1], [0, 1], [0, 1]])
    # nearest: 0->1 (no shared label), 1->0 (no), 2->3 (yes), 3->2 (yes)
    assert R.neighbour_relevance(model, X, cand, labels, 2) == pytest.approx(0.5)
