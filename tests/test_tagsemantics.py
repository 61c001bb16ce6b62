"""Tag semantics of the weakly-supervised tag-refinement paper (neighborlib.tagsemantics).

Eq. 3 (normalised Google distance) and Eq. 4-5 (affinity ξ) against values worked out by
hand; ``dist_KB`` against NLTK's own Lin similarity by brute force over sense pairs; the
preprocessing ("Data Preprocessing") on toy tag lists with the real WordNet.

WordNet comes from the packaged resource as in ``test_wordnet.py`` (or
``NEIGHBORLIB_WORDNET_ROOT``); without it the WordNet tests are skipped with the reason.
Cost: loading WordNet about 3-5 s, the rest well under a second.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from neighborlib import tagsemantics as T

# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def root(wordnet_root) -> Path:
    pytest.importorskip("nltk")
    return wordnet_root


@pytest.fixture(scope="module")
def wn(root):
    from neighborlib.wordnet import load_wordnet

    return load_wordnet(root)


@pytest.fixture(scope="module")
def ic(root):
    from neighborlib.wordnet import load_information_content

    return load_information_content("ic-brown.dat", root)


# ----------------------------------------------------------------------------- Eq. 3


#: 6 images x 3 tags (a, b, c): f_a = 4, f_b = 2, f_c = 2, f_ab = 2, f_ac = 1, f_bc = 0;
#: the last image has no tag but still counts in N.
TOY_G = np.array(
    [
        [1, 1, 0],
        [1, 1, 0],
        [1, 0, 0],
        [1, 0, 1],
        [0, 0, 1],
        [0, 0, 0],
    ],
    dtype=np.float32,
)


def test_ngd_matches_eq3_by_hand():
    log = math.log
    # (max(log f_i, log f_j) - log f_ij) / (log N - min(log f_i, log f_j)), N = 6
    ab = (log(4) - log(2)) / (log(6) - log(2))  # = log 2 / log 3
    ac = (log(4) - log(1)) / (log(6) - log(2))  # = log 4 / log 3
    expected = np.array(
        [
            [0.0, ab, ac],
            [ab, 0.0, math.inf],  # b and c never on the same image
            [ac, math.inf, 0.0],
        ]
    )
    D = T.normalised_google_distance(TOY_G)
    assert D.dtype == np.float64 and D.shape == (3, 3)
    np.testing.assert_allclose(D, expected, rtol=1e-12)
    assert D[0, 1] == pytest.approx(math.log(2) / math.log(3))
    assert np.isposinf(D[1, 2]) and np.isposinf(D[2, 1])
    np.testing.assert_array_equal(D, D.T)
    # scipy sparse input (e.g. Vocabulary.encode) gives the same matrix
    np.testing.assert_array_equal(T.normalised_google_distance(sp.csr_matrix(TOY_G)), D)


def test_ngd_tag_on_every_image():
    # tag 0 is on all N = 4 images: den = log N - log f_1, num = log N - log f_1 -> distance 1;
    # tags 0 and 2 both on every image: 0/0, defined as 0 (identical occurrence)
    G = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1], [1, 0, 1]])
    D = T.normalised_google_distance(G)
    assert D[0, 1] == pytest.approx(1.0)
    assert D[0, 2] == 0.0
    assert np.isfinite(D).all()


def test_ngd_rejects_unused_tags_and_non_binary():
    G = TOY_G.copy()
    G[:, 1] = 0
    with pytest.raises(ValueError, match=r"columns \[1\]"):
        T.normalised_google_distance(G)
    with pytest.raises(ValueError, match="binary"):
        T.normalised_google_distance(TOY_G * 2)
    bad = TOY_G.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="binary"):
        T.normalised_google_distance(bad)
    with pytest.raises(ValueError, match="2-D"):
        T.normalised_google_distance(np.ones(3))


# ----------------------------------------------------------------------------- Eq. 4-5


def test_tag_affinity_by_hand_sigma_is_median_squared_distance():
    ctx = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 2.0], [0.5, 2.0, 0.0]])
    kb = np.array([[0.0, 0.5, 1.0], [0.5, 0.0, 0.0], [1.0, 0.0, 0.0]])
    alpha = 2.0
    # dist = ctx + 2 kb: (0,1) = 2, (0,2) = 2.5, (1,2) = 2; dist² = 4, 6.25, 4
    # off-diagonal dist² (each pair twice): 4, 4, 4, 4, 6.25, 6.25 -> median 4
    xi, sigma = T.tag_affinity(ctx, kb, alpha)
    assert sigma == pytest.approx(4.0)
    expected = np.array(
        [
            [0.0, math.exp(-4 / 4), math.exp(-6.25 / 4)],
            [math.exp(-4 / 4), 0.0, math.exp(-4 / 4)],
            [math.exp(-6.25 / 4), math.exp(-4 / 4), 0.0],  # diagonal 0: no self-pairs in Eq. 6
        ]
    )
    np.testing.assert_allclose(xi, expected, rtol=1e-12)
    assert xi.dtype == np.float64
    np.testing.assert_array_equal(xi, xi.T)


def test_tag_affinity_infinite_distance_gives_zero_and_is_left_out_of_sigma():
    ctx = np.array([[0.0, 1.0, np.inf], [1.0, 0.0, 2.0], [np.inf, 2.0, 0.0]])
    kb = np.array([[0.0, 0.5, 0.5], [0.5, 0.0, 1.0], [0.5, 1.0, 0.0]])
    # dist (α = 0.5): (0,1) = 1.25, (1,2) = 2.5, (0,2) = inf
    # finite off-diagonal dist²: 1.5625 (x2), 6.25 (x2) -> median (1.5625 + 6.25) / 2 = 3.90625
    xi, sigma = T.tag_affinity(ctx, kb, 0.5)
    assert sigma == pytest.approx(3.90625)
    assert xi[0, 1] == pytest.approx(math.exp(-0.4))  # 1.5625 / 3.90625
    assert xi[1, 2] == pytest.approx(math.exp(-1.6))  # 6.25 / 3.90625
    assert xi[0, 2] == 0.0 and xi[2, 0] == 0.0
    assert np.all(np.diag(xi) == 0.0)


def test_tag_affinity_alpha_zero_ignores_kb():
    ctx = np.array([[0.0, 1.0, 3.0], [1.0, 0.0, 2.0], [3.0, 2.0, 0.0]])
    kb = np.array([[0.0, np.inf, 0.0], [np.inf, 0.0, 0.0], [0.0, 0.0, 0.0]])
    xi, sigma = T.tag_affinity(ctx, kb, 0.0)  # no 0·inf = NaN
    assert sigma == pytest.approx(4.0)
    assert xi[0, 1] == pytest.approx(math.exp(-1 / 4))


def test_tag_affinity_errors():
    ok = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="shape mismatch"):
        T.tag_affinity(ok, np.zeros((3, 3)), 1.0)
    with pytest.raises(ValueError, match="square"):
        T.tag_affinity(np.zeros((2, 3)), np.zeros((2, 3)), 1.0)
    nan = np.zeros((3, 3))
    nan[1, 2] = nan[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"kb_distance is NaN at pair \(row 1, column 2\)"):
        T.tag_affinity(np.ones((3, 3)), nan, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        T.tag_affinity(ok, ok, -1.0)
    with pytest.raises(ValueError, match="symmetric"):
        T.tag_affinity(np.array([[0.0, 1.0], [2.0, 0.0]]), ok, 1.0)


# ----------------------------------------------------------------------------- dist_KB


def _nltk_best_lin(wn, ic, w1, w2):
    best = 0.0
    for s1 in wn.synsets(w1, "n"):
        for s2 in wn.synsets(w2, "n"):
            best = max(best, s1.lin_similarity(s2, ic))
    return best


def test_wordnet_distance_is_one_minus_best_lin(wn, ic):
    words = ["dog", "cat", "tree", "elapse", "nikond70s"]  # elapse: a verb only; the last unknown
    assert not wn.synsets("elapse", "n") and wn.synsets("elapse", "v")
    D = T.wordnet_distance(wn, words, ic)
    assert D.shape == (5, 5) and D.dtype == np.float64
    ref = 1.0 - _nltk_best_lin(wn, ic, "dog", "cat")
    assert ref == pytest.approx(1 - 0.8768009843733973, abs=1e-9)  # NLTK HOWTO's dog.n.01/cat.n.01
    assert D[0, 1] == pytest.approx(ref, abs=1e-9)
    assert D[0, 2] == pytest.approx(1.0 - _nltk_best_lin(wn, ic, "dog", "tree"), abs=1e-9)
    assert D[1, 2] == pytest.approx(1.0 - _nltk_best_lin(wn, ic, "cat", "tree"), abs=1e-9)
    assert np.all(np.diag(D) == 0.0)
    np.testing.assert_array_equal(D[3, [0, 1, 2, 4]], 1.0)  # no noun sense: Lin 0 against all
    np.testing.assert_array_equal(D[4, :4], 1.0)
    np.testing.assert_array_equal(D, D.T)
    assert D.min() >= 0.0 and D.max() <= 1.0


# ----------------------------------------------------------------------------- preprocessing


#: 10 images; with min_fraction 0.2 a tag must be on >= 2 images.
TAGS = [
    ["dogs", "nikond70s", "sky"],
    ["dog", "Dogs", "project365", "sky"],  # dog counts once here
    ["cat", "sky", "clouds"],
    ["cats", "clouds"],
    ["tree"],  # on 1 image: below the bound
    ["nikond70s"],  # on 2 images, but not in WordNet
    ["project365", "sky"],
    ["beach"],
    ["beach"],
    [],
]


def test_wordnet_lemmatiser_is_memoised_per_factory(wn, monkeypatch):
    calls: list[str] = []
    real = T.lemma_key

    def counting(wn_, tag, pos=None):
        calls.append(tag)
        return real(wn_, tag, pos)

    monkeypatch.setattr(T, "lemma_key", counting)
    lem = T.wordnet_lemmatiser(wn)
    assert [lem(t) for t in ("dogs", "dogs", "Clouds", "nikond70s", "nikond70s")] == [
        "dog", "dog", "cloud", None, None,
    ]
    assert calls == ["dogs", "Clouds", "nikond70s"]
    T.wordnet_lemmatiser(wn)("dogs")  # a new factory call: a new memo
    assert calls[-1] == "dogs" and len(calls) == 4


def test_weak_vocabulary_lemmatises_drops_and_thresholds(wn):
    vocab = T.weak_vocabulary(TAGS, wn, min_fraction=0.2)
    # sky 4; beach, cat, cloud, dog exactly 2 = 0.2·10 (kept: >=), ties alphabetical;
    # tree (1) dropped; nikond70s / project365 (2 each) dropped: not in WordNet
    assert vocab.tokens == ("sky", "beach", "cat", "cloud", "dog")
    # just above: ceil(0.25·10) = 3
    assert T.weak_vocabulary(TAGS, wn, min_fraction=0.25).tokens == ("sky",)
    # counted over the first five images only (N = 5, bound 1)
    sub = T.weak_vocabulary(TAGS, wn, index=np.arange(5), min_fraction=0.2)
    assert sub.tokens == ("sky", "cat", "cloud", "dog", "tree")


def test_weak_vocabulary_exact_decimal_bound(wn):
    # 0.14 · 50 is 7.000000000000001 in floating point; the bound is 7
    lists = [["dog"]] * 7 + [["cat"]] * 6 + [[]] * 37
    assert T.weak_vocabulary(lists, wn, min_fraction=0.14).tokens == ("dog",)


def test_weak_vocabulary_keep(wn):
    vocab = T.weak_vocabulary(TAGS, wn, min_fraction=0.2, keep=["trees", "sky", "horse", "tree"])
    # rare / absent label words appended (lemmatised, once), present ones not repeated
    assert vocab.tokens == ("sky", "beach", "cat", "cloud", "dog", "tree", "horse")
    with pytest.raises(ValueError, match="nikond70s"):
        T.weak_vocabulary(TAGS, wn, min_fraction=0.2, keep=["dog", "nikond70s"])


def test_weak_vocabulary_encode(wn):
    vocab = T.weak_vocabulary(TAGS, wn, min_fraction=0.2, keep=["tree"])
    assert vocab.lemmatiser("nikond70s") not in vocab and vocab.lemmatiser("Dogs") == "dog"
    Z = vocab.encode(TAGS).toarray()
    #                  sky beach cat cloud dog tree
    expected = np.array(
        [
            [1, 0, 0, 0, 1, 0],
            [1, 0, 0, 0, 1, 0],
            [1, 0, 1, 1, 0, 0],
            [0, 0, 1, 1, 0, 0],
            [0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0],
            [1, 0, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
        ]
    )
    np.testing.assert_array_equal(Z, expected)
    # the encoded matrix goes straight into Eq. 3 (every column is used at least once)
    assert T.normalised_google_distance(Z).shape == (6, 6)
