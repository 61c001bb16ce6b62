"""WordNet: similarity values against NLTK's documented ones, the CRLF guard, and wnet2vec.

WordNet comes from the packaged resource (``neighborlib.resources.resource_dir("wordnet")``);
``NEIGHBORLIB_WORDNET_ROOT`` points the tests at another NLTK data root of the same
layout. Without either the tests are skipped with the reason.

Cost: loading WordNet about 3-5 s; building the full word graph about 20 s the first
time (then read back from the test cache in well under a second); the embedding
of 1,500 words about 2 s.
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")
pytest.importorskip("nltk")
pytest.importorskip("gensim")

from neighborlib import wordnet as W  # noqa: E402
from neighborlib.data.base import DataFormatError  # noqa: E402


@pytest.fixture(scope="module")
def root(wordnet_root) -> Path:
    return wordnet_root


@pytest.fixture(scope="module")
def wn(root):
    return W.load_wordnet(root)


@pytest.fixture(scope="module")
def ic(root):
    return W.load_information_content("ic-brown.dat", root)


@pytest.fixture(scope="module")
def graph(wn):
    return W.wordnet_graph(wn)


def test_default_root_is_the_fetched_resource(root, wn, ic):
    """Without ``root`` every reader comes from the resource ``make resources`` unpacked."""
    assert W.load_wordnet() is wn  # memoised per folder: the same reader
    assert W.load_information_content("ic-brown.dat") is ic


# ----------------------------------------------------------------------------- similarity


def test_synset_similarities_match_nltk_documented_values(wn, ic):
    dog, cat = wn.synset("dog.n.01"), wn.synset("cat.n.01")
    # NLTK's WordNet HOWTO (ic-brown): lin 0.8768009843733973, res 7.911666509036577, path 0.2
    assert dog.lin_similarity(cat, ic) == pytest.approx(0.8768009843733973, abs=1e-9)
    assert dog.res_similarity(cat, ic) == pytest.approx(7.911666509036577, abs=1e-9)
    assert dog.path_similarity(cat) == pytest.approx(0.2)
    # the words: dog.n.01/cat.n.01 is the best pair of senses
    assert W.word_similarity(wn, "dog", "cat", "lin", ic) == pytest.approx(0.8768, abs=5e-5)
    assert W.word_similarity(wn, "dog", "cat", "resnik", ic) == pytest.approx(7.9117, abs=5e-5)
    assert W.word_similarity(wn, "dog", "cat", "path") == pytest.approx(0.2)


def test_word_similarity_is_the_best_pair_of_senses(wn, ic):
    # "cat" is also a Caterpillar tractor (caterpillar.n.02), three hypernym links from
    # tractor.n.01: path 1/(1+3). The feline sense is far from tractors.
    tractor = wn.synset("tractor.n.01")
    assert wn.synset("caterpillar.n.02") in wn.synsets("cat", "n")
    assert wn.synset("caterpillar.n.02").path_similarity(tractor) == pytest.approx(0.25)
    assert wn.synset("cat.n.01").path_similarity(tractor) < 0.1
    assert W.word_similarity(wn, "cat", "tractor", "path") == pytest.approx(0.25)
    best = max(s.lin_similarity(tractor, ic) for s in wn.synsets("cat", "n"))
    assert W.word_similarity(wn, "cat", "tractor", "lin", ic) == pytest.approx(best, abs=1e-12)
    assert best == pytest.approx(wn.synset("caterpillar.n.02").lin_similarity(tractor, ic))
    # morphy: plural forms find the same synsets
    assert W.word_similarity(wn, "dogs", "cats", "lin", ic) == W.word_similarity(wn, "dog", "cat", "lin", ic)


def test_unknown_words_and_argument_checks(wn, ic):
    assert math.isnan(W.word_similarity(wn, "dog", "qwzxv", "lin", ic))
    assert math.isnan(W.word_similarity(wn, "quickly", "dog", "path", pos="n"))  # no noun sense
    with pytest.raises(ValueError, match="information-content"):
        W.word_similarity(wn, "dog", "cat", "lin")
    with pytest.raises(ValueError, match="nouns"):
        W.word_similarity(wn, "big", "small", "lin", ic, pos="a")
    with pytest.raises(ValueError, match="measure"):
        W.word_similarity(wn, "dog", "cat", "jaccard")


def test_membership_lemmas_and_synonyms(wn):
    assert W.in_wordnet(wn, "dog") and W.in_wordnet(wn, "Dogs") and W.in_wordnet(wn, "geese")
    assert not W.in_wordnet(wn, "qwzxv")
    assert W.lemma_key(wn, "Dogs") == "dog"
    assert W.lemma_key(wn, "geese") == "goose"
    assert W.lemma_key(wn, "New  York") == "new_york"
    syn = W.synonyms(wn, "car")
    assert {"auto", "automobile", "motorcar"} <= set(syn)
    assert "car" not in syn
    assert syn[:3] == ("auto", "automobile", "machine")  # WordNet's order: car.n.01 first
    assert W.synonyms(wn, "qwzxv") == ()
    assert "hot_dog" in W.synonyms(wn, "dog")  # underscores kept


def test_similarity_matrix_matches_word_similarity(wn, ic):
    words = ["dog", "cat", "tractor", "beach", "sea", "qwzxv", "puppies", "entity", "sky", "bank"]
    for measure in ("lin", "resnik", "path"):
        S = W.similarity_matrix(wn, words, measure, ic)
        ref = np.array([[W.word_similarity(wn, a, b, measure, ic) for b in words] for a in words])
        np.testing.assert_allclose(S, ref, rtol=1e-12, atol=0, equal_nan=True)
        assert np.isnan(S[5]).all() and np.isnan(S[:, 5]).all()
        np.testing.assert_array_equal(S, S.T)
    S = W.similarity_matrix(wn, words, "lin", ic)
    assert S[0, 1] == pytest.approx(0.8768, abs=5e-5)
    assert S[0, 0] == 1.0 and S[7, 7] == 1.0  # Lin of a word with itself (entity: IC 0)


# ----------------------------------------------------------------------------- loading guard


def test_load_wordnet_refuses_crlf_files(root, tmp_path):
    src = Path(root) / "corpora" / "wordnet"
    dst = tmp_path / "corpora" / "wordnet"
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name != "data.noun":
            (dst / f.name).symlink_to(f)
    (dst / "data.noun").write_bytes((src / "data.noun").read_bytes().replace(b"\n", b"\r\n"))
    with pytest.raises(DataFormatError, match="CRLF") as err:
        W.load_wordnet(tmp_path)
    assert err.value.path.name == "data.noun"
    shutil.rmtree(dst)
    with pytest.raises(FileNotFoundError):
        W.load_wordnet(tmp_path)


# ----------------------------------------------------------------------------- the graph


def test_graph_weights(graph):
    A = graph.adjacency

    def w(a, b):
        return A[graph.index_of(a), graph.index_of(b)]

    assert abs(A - A.T).max() == 0 and A.diagonal().max() == 0
    assert set(np.unique(A.data)) == {0.8, 1.0}
    assert w("dog", "puppy") == 1.0  # hyponym
    assert w("car", "auto") == 1.0  # synonym
    assert w("car", "car_door") == 0.8  # part meronym
    assert w("good", "bad") == 1.0  # antonym (lexical: good/bad, not good/badness)
    assert w("good", "badness") == 0.0
    assert w("wet", "damp") == 1.0  # similar_to (adjective cluster)
    assert len(graph) == 147306  # lower-cased lemma names of WordNet 3.0


def test_select_vocabulary_on_a_hand_graph():
    #   a - b - c - d     e (isolated)      degrees: a1 b2 c2 d1 e0
    M = sp.csr_matrix(
        np.array([[0, 1, 0, 0, 0], [1, 0, 1, 0, 0], [0, 1, 0, 1, 0], [0, 0, 1, 0, 0], [0] * 5], float)
    )
    g = W.WordNetGraph(("a", "b", "c", "d", "e"), M, {})
    assert g.degree.tolist() == [1, 2, 2, 1, 0]
    assert W.select_vocabulary(g, 3).tolist() == [1, 2, 0]  # by degree, ties alphabetical
    assert W.select_vocabulary(g, None).tolist() == [1, 2, 0, 3, 4]
    assert W.select_vocabulary(g, 3, ["d"]).tolist() == [3, 2, 1]  # seed, then breadth first
    assert W.select_vocabulary(g, 10, ["d"]).tolist() == [3, 2, 1, 0]  # component exhausted
    assert W.select_vocabulary(g, None, ["a"]).tolist() == [0, 1]  # seeds + direct neighbours
    assert W.select_vocabulary(g, 1, ["e", "a"]).tolist() == [4, 0]  # seeds are always kept


# ----------------------------------------------------------------------------- random walk + PPMI


def _numpy_ppmi(M: np.ndarray, alpha: float) -> np.ndarray:
    rows = M.sum(1, keepdims=True)
    P = np.divide(M, rows, out=np.zeros_like(M), where=rows > 0)
    G = np.linalg.inv(np.eye(len(M)) - alpha * P)
    r, c = G.sum(1, keepdims=True), G.sum(0, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.maximum(0.0, np.log(G * G.sum() / (r * c)))


def test_random_walk_ppmi_on_a_hand_graph():
    M = np.array(
        [[0, 1, 0.8, 0], [1, 0, 1, 0], [0.8, 1, 0, 1], [0, 0, 1, 0]],
        dtype=float,
    )
    alpha = 0.75
    ref = _numpy_ppmi(M, alpha)
    # rows of G sum to 1/(1-α), so the PPMI is Saedi et al.'s log(n G_ij / c_j)
    G = np.linalg.inv(np.eye(4) - alpha * M / M.sum(1, keepdims=True))
    np.testing.assert_allclose(G.sum(1), 1 / (1 - alpha))
    np.testing.assert_allclose(ref, np.maximum(0, np.log(4 * G / G.sum(0, keepdims=True))), atol=1e-12)
    assert (ref > 0).any() and (ref == 0).any()  # the clipping does something here

    got = W.random_walk_ppmi(sp.csr_matrix(M), alpha, normalise=False, block_size=3).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    got_n = W.random_walk_ppmi(M, alpha, block_size=2).numpy()
    np.testing.assert_allclose(got_n, ref / np.linalg.norm(ref, axis=1, keepdims=True), atol=1e-12)
    # float32 (the GPU default) agrees to single precision
    got32 = W.random_walk_ppmi(M, alpha, dtype="float32", normalise=False).numpy()
    np.testing.assert_allclose(got32, ref, atol=1e-5)
    # the truncated Neumann series (used beyond LU_MAX_WORDS words) agrees with the LU
    series = W.random_walk_ppmi(M, alpha, method="series", normalise=False, block_size=3).numpy()
    np.testing.assert_allclose(series, ref, atol=1e-9)
    series32 = W.random_walk_ppmi(M, alpha, method="series", dtype="float32", normalise=False).numpy()
    np.testing.assert_allclose(series32, ref, atol=1e-5)
    # an isolated node: no NaN, it is its own context only
    M5 = np.zeros((5, 5))
    M5[:4, :4] = M
    got5 = W.random_walk_ppmi(M5, alpha).numpy()
    assert np.isfinite(got5).all()
    np.testing.assert_allclose(got5[4], [0, 0, 0, 0, 1])
    ref5 = _numpy_ppmi(M5, alpha)
    np.testing.assert_allclose(got5, ref5 / np.linalg.norm(ref5, axis=1)[:, None])
    with pytest.raises(ValueError, match="alpha"):
        W.random_walk_ppmi(M, 1.0)


def test_pca_reduce_matches_exact_pca():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    n, m, k = 300, 200, 10
    scales = 0.8 ** np.arange(60)  # a decaying spectrum, as PPMI rows have
    X = (rng.standard_normal((n, 60)) * scales) @ rng.standard_normal((60, m)) + 0.01 * rng.random((n, m))
    ref = PCA(k, svd_solver="full").fit_transform(X)
    for kwargs in ({}, {"oversample": 200}):  # randomised (q = 35) and exact (q >= min(n, m) / 2)
        got = W.pca_reduce(torch.as_tensor(X), k, **kwargs).numpy()
        np.testing.assert_allclose(got, ref, atol=1e-6 * np.abs(ref).max())


# ----------------------------------------------------------------------------- embeddings


SEEDS = ["dog", "cat", "car", "beach", "puppy"]


@pytest.fixture(scope="module")
def small_embedding(root, tmp_path_factory):
    cache = tmp_path_factory.mktemp("wordnet_embeddings")
    kv = W.wordnet_embeddings(n_words=1500, dim=50, words=SEEDS, root=root, cache_dir=cache, progress=False)
    return kv, cache


def _lemmas_below(wn, name):
    """Lemma names of a synset and all its hyponyms (lower case)."""
    ss = wn.synset(name)
    out = set()
    for s in [ss, *ss.closure(lambda x: x.hyponyms() + x.instance_hyponyms())]:
        out.update(n.lower() for n in s.lemma_names())
    return out


def test_embedding_neighbours_are_sensible(small_embedding, wn):
    kv, _ = small_embedding
    assert len(kv) == 1500 and kv.vector_size == 50
    assert kv.index_to_key[:5] == SEEDS  # seeds first
    dogs = _lemmas_below(wn, "dog.n.01") | {"pup", "puppy", "canine", "canid"}
    near_dog = [w for w, _ in kv.most_similar("dog", topn=10)]
    assert len(dogs & set(near_dog)) >= 5, near_dog
    felids = _lemmas_below(wn, "feline.n.01")
    near_cat = [w for w, _ in kv.most_similar("cat", topn=10)]
    assert len(felids & set(near_cat)) >= 5, near_cat
    cars = _lemmas_below(wn, "car.n.01") | _lemmas_below(wn, "motor_vehicle.n.01")
    near_car = [w for w, _ in kv.most_similar("car", topn=10)]
    assert len(cars & set(near_car)) >= 5, near_car
    assert kv.similarity("dog", "puppy") > kv.similarity("dog", "beach")
    assert kv.similarity("dog", "cat") > kv.similarity("dog", "car")


def test_ppmi_of_the_small_vocabulary_is_nonnegative_with_unit_rows(graph, wn):
    seeds = [W.lemma_key(wn, w) for w in SEEDS]
    sub = graph.subgraph(W.select_vocabulary(graph, 1500, seeds))
    X = W.random_walk_ppmi(sub.adjacency, 0.75)
    assert X.shape == (1500, 1500)
    assert bool((X >= 0).all()) and bool(torch.isfinite(X).all())
    np.testing.assert_allclose(torch.linalg.vector_norm(X, dim=1).numpy(), 1.0, atol=1e-12)
    assert 0.001 < float((X > 0).double().mean()) < 0.9  # PPMI really clips
    # the series agrees with the LU on a real WordNet graph too
    small = graph.subgraph(W.select_vocabulary(graph, 400, seeds))
    lu = W.random_walk_ppmi(small.adjacency, 0.75, method="lu")
    series = W.random_walk_ppmi(small.adjacency, 0.75, method="series")
    assert float((lu - series).abs().max()) < 1e-9


def test_embedding_cache(small_embedding, root, monkeypatch):
    kv, cache = small_embedding
    entries = [p for p in cache.iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1 and (entries[0] / "vectors.npz").is_file()

    def boom(*args, **kwargs):
        raise AssertionError("recomputed instead of reading the cache")

    monkeypatch.setattr(W.embedding, "random_walk_ppmi", boom)  # the name the pipeline calls
    common = dict(n_words=1500, dim=50, words=list(SEEDS), root=root, cache_dir=cache, progress=False)
    again = W.wordnet_embeddings(**common)
    assert again.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(again.vectors, kv.vectors)
    with pytest.raises(AssertionError, match="recomputed"):  # other settings: another entry
        W.wordnet_embeddings(**common, alpha=0.5)
    settings = {k: kv.wordnet_settings[k] for k in _SETTING_KEYS}
    assert W.embeddings_cache_key(settings) == entries[0].name
    changes = (
        {"alpha": 0.5}, {"dim": 100}, {"n_words": 2000}, {"words": ["cat", "dog"]}, {"dtype": "float32"},
        {"method": "series"}, {"pca_seed": 1}, {"relation_weights": {"hypernyms": 1.0}}, {"version": 0},
    )  # fmt: skip
    keys = {W.embeddings_cache_key({**settings, **change}) for change in changes}
    assert len(keys) == len(changes) and entries[0].name not in keys


_SETTING_KEYS = (
    "algorithm", "version", "n_words", "dim", "alpha", "words", "relation_weights", "dtype", "method",
    "pca_seed", "wordnet",
)  # fmt: skip


def test_corrupt_vectors_npz_is_recomputed(small_embedding, root, tmp_path):
    """A truncated ``vectors.npz`` (a killed write from an older version, a full disk) is
    recomputed, not read, and the entry is whole again."""
    import shutil

    kv, cache = small_embedding
    (entry,) = [p for p in cache.iterdir() if not p.name.startswith(".")]
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    npz = copy / entry.name / "vectors.npz"
    npz.write_bytes(npz.read_bytes()[:200])
    again = W.wordnet_embeddings(n_words=1500, dim=50, words=SEEDS, root=root, cache_dir=copy, progress=False)
    assert again.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(again.vectors, kv.vectors)
    with np.load(npz) as z:
        assert z["vectors"].shape == (1500, 50)


def test_corrupt_graph_npz_is_not_trusted(tmp_path):
    """``_load_graph`` gives the saved graph back exactly, and ``None`` (rebuild) for a
    truncated or foreign file."""
    import scipy.sparse as sp

    A = sp.csr_matrix(np.array([[0, 1.0, 0], [1.0, 0, 0.5], [0, 0.5, 0]]))
    graph = W.WordNetGraph(("cat", "dog", "puppy"), A, {"synonym": 1.0})
    path = tmp_path / "g.npz"
    W._save_graph(path, graph)
    back = W._load_graph(path, {"synonym": 1.0})
    assert back.words == graph.words and (back.adjacency != A).nnz == 0
    path.write_bytes(path.read_bytes()[:100])
    assert W._load_graph(path, {"synonym": 1.0}) is None
    np.savez(path, something=np.arange(3))
    assert W._load_graph(path, {"synonym": 1.0}) is None
