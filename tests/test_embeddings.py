"""Word vectors and the semantic embedding ρ(o; β) = Σ_i o_i β(t_i) (neighborlib.embeddings)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from gensim.models import KeyedVectors

from neighborlib.data import Vocabulary
from neighborlib.data.base import DataFormatError
from neighborlib.data.mirflickr import MIRFLICKR_POTENTIAL_LABELS, MIRFLICKR_RELEVANT_LABELS
from neighborlib.embeddings import (
    OOVReport,
    coverage_table,
    embed_metadata,
    label_vectors,
    label_words,
    load_word_vectors,
    lookup,
    nearest_words,
)
from neighborlib.neighbours import cosine_neighbours

# ----------------------------------------------------------------------------- a tiny, known embedding

WORDS = {
    "cat": [1.0, 0.0, 0.0],
    "dog": [0.0, 2.0, 0.0],
    "sky": [0.0, 0.0, 3.0],
    "blue": [1.0, 1.0, 1.0],
}


@pytest.fixture
def kv() -> KeyedVectors:
    k = KeyedVectors(3)
    k.add_vectors(list(WORDS), np.array(list(WORDS.values()), dtype=np.float32))
    return k


# vocabulary: "Dog" is found lower-cased, "zzz" and "qqq" have no vector
VOCAB = ("cat", "Dog", "sky", "zzz", "qqq")
ROWS = [
    ("cat", "Dog"),  # 0: [1, 2, 0]
    (),  # 1: no metadata
    ("zzz",),  # 2: metadata but only OOV -> zero vector
    ("sky", "zzz", "qqq"),  # 3: [0, 0, 3]
    ("cat", "Dog", "sky"),  # 4: [1, 2, 3]
]
EXPECTED = np.array([[1, 2, 0], [0, 0, 0], [0, 0, 0], [0, 0, 3], [1, 2, 3]], dtype=np.float32)


def _Z() -> sp.csr_matrix:
    return Vocabulary(VOCAB).encode(ROWS)


def test_rho_is_the_sum_of_tag_vectors(kv):
    X, report = embed_metadata(_Z(), VOCAB, kv)
    assert X.dtype == np.float32 and X.shape == (5, 3)
    np.testing.assert_array_equal(X, EXPECTED)


def test_rho_accepts_a_vocabulary_object_and_dense_input(kv):
    X, _ = embed_metadata(_Z().toarray(), Vocabulary(VOCAB), kv)
    np.testing.assert_array_equal(X, EXPECTED)


def test_rho_uses_the_weights_of_z(kv):
    Z = sp.csr_matrix(np.array([[2.0, 0, 0.5, 1, 0]], dtype=np.float32))
    X, report = embed_metadata(Z, VOCAB, kv)
    np.testing.assert_allclose(X, [[2.0, 0.0, 1.5]])
    assert report.covered_mass == pytest.approx(2.5 / 3.5)


def test_rho_normalised(kv):
    X, _ = embed_metadata(_Z(), VOCAB, kv, normalise=True)
    expected = np.array(
        [
            [1 / 5**0.5, 2 / 5**0.5, 0],
            [0, 0, 0],
            [0, 0, 0],
            [0, 0, 1],
            [1 / 14**0.5, 2 / 14**0.5, 3 / 14**0.5],
        ]
    )
    np.testing.assert_allclose(X, expected, rtol=1e-6, atol=1e-7)
    assert X.dtype == np.float32


def test_oov_report_hand_checked(kv):
    _, r = embed_metadata(_Z(), VOCAB, kv)
    assert isinstance(r, OOVReport)
    assert (r.n_tokens, r.n_covered) == (5, 3)
    assert r.coverage == pytest.approx(0.6)
    # occurrences: 2 + 0 + 1 + 3 + 3 = 9, covered 2 + 0 + 0 + 1 + 3 = 6
    assert r.covered_mass == pytest.approx(6 / 9)
    assert r.oov == ("zzz", "qqq")
    assert r.images_without_vector == 1  # row 2
    assert r.images_without_metadata == 1  # row 1
    assert r.n_images == 5
    text = str(r)
    assert "3/5" in text and "60.0%" in text and "66.7%" in text and "zzz" in text
    with pytest.raises(Exception):
        r.coverage = 1.0  # frozen


def test_rho_rejects_a_vocabulary_of_the_wrong_size(kv):
    with pytest.raises(ValueError, match="5 columns but the vocabulary has 4"):
        embed_metadata(_Z(), VOCAB[:4], kv)


def test_rho_feeds_cosine_neighbours(kv):
    X, _ = embed_metadata(_Z(), VOCAB, kv)
    table = cosine_neighbours(X, M=2)
    # row 0 = [1,2,0]: cos with row 4 = 5/sqrt(70), with row 3 = 0, zero rows 0
    assert table.indices[0, 0] == 4
    assert table.distances[0, 0] == pytest.approx(1 - 5 / 70**0.5)
    assert table.isolated.tolist() == [False, True, True, False, False]


def test_lookup_tries_the_token_then_lower_case():
    k = KeyedVectors(2)
    k.add_vectors(["Apple", "apple", "pear"], np.eye(3, 2, dtype=np.float32))
    assert lookup(k, "Apple") == 0  # as is first
    assert lookup(k, "APPLE") == 1  # then lower-cased
    assert lookup(k, "PEAR") == 2
    assert lookup(k, "Pears") is None


# ----------------------------------------------------------------------------- labels


def test_label_words():
    assert label_words("plant_life") == ["plant", "life"]
    assert label_words("tree_r1") == ["tree"]
    assert label_words("traffic light") == ["traffic", "light"]
    assert label_words("plant_life_r1") == ["plant", "life"]


def test_label_vectors_average_strip_and_missing(kv):
    names = ["cat", "cat_dog", "dog_r1", "blue sky", "zzz_cat", "plant_life", "Sky"]
    V, missing = label_vectors(names, kv)
    assert V.shape == (7, 3) and V.dtype == np.float32
    expected = np.array(
        [
            [1, 0, 0],
            [0.5, 1, 0],  # (cat + dog) / 2
            [0, 2, 0],  # "_r1" stripped
            [0.5, 0.5, 2],  # (blue + sky) / 2
            [1, 0, 0],  # "zzz" has no vector: mean over "cat" alone, not missing
            [0, 0, 0],  # no word has a vector
            [0, 0, 3],  # lower-cased
        ]
    )
    np.testing.assert_allclose(V, expected)
    assert missing == ["plant_life"]


# ----------------------------------------------------------------------------- coverage, neighbours


def test_coverage_table(kv):
    tokens = ["cat", "Dog", "zzz", "sky"]
    table = coverage_table(
        tokens,
        {"vectors": kv, "lower": lambda t: t.islower(), "set": {"zzz"}},
        counts=[1, 2, 3, 4],
    )
    assert isinstance(table, pd.DataFrame)
    assert list(table.index) == ["vectors", "lower", "set"]
    assert table["covered"].tolist() == [3, 3, 1]
    assert table["n_tokens"].tolist() == [4, 4, 4]
    np.testing.assert_allclose(table["fraction"], [0.75, 0.75, 0.25])
    np.testing.assert_allclose(table["covered_mass"], [0.7, 0.8, 0.3])
    assert table.loc["vectors", "missing_examples"] == "zzz"
    assert table.loc["set", "missing_examples"] == "cat, Dog, sky"
    assert "covered_mass" not in coverage_table(tokens, {"v": kv}).columns


def test_nearest_words(kv):
    (word, sim), = nearest_words(kv, "CAT", k=1)
    assert word == "blue" and sim == pytest.approx(1 / 3**0.5, rel=1e-6)
    with pytest.raises(KeyError, match="zzz"):
        nearest_words(kv, "zzz")


# ----------------------------------------------------------------------------- loaders on small files


def test_load_glove_layout(tmp_path):
    emb = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.save(tmp_path / "glove_6B_50d_emb.npy", emb)
    pd.DataFrame({"index": ["the", "nan", "dog", "null"]}).to_parquet(tmp_path / "glove_6B_index.parquet")
    k = load_word_vectors("glove", tmp_path)
    assert k.vectors.dtype == np.float32 and k.vectors.shape == (4, 3)
    assert k.index_to_key == ["the", "nan", "dog", "null"]
    np.testing.assert_array_equal(k["dog"], [6, 7, 8])
    np.testing.assert_array_equal(k["nan"], [3, 4, 5])  # read as a word, not a missing value
    assert k.most_similar("dog", topn=1)[0][0] in {"the", "nan", "null"}
    # either file of the pair locates the folder
    k2 = load_word_vectors("glove", tmp_path / "glove_6B_index.parquet")
    np.testing.assert_array_equal(k2.vectors, k.vectors)


def test_load_glove_rejects_mismatched_files(tmp_path):
    np.save(tmp_path / "glove_6B_50d_emb.npy", np.zeros((3, 2), dtype=np.float32))
    pd.DataFrame({"index": ["a", "b"]}).to_parquet(tmp_path / "glove_6B_index.parquet")
    with pytest.raises(DataFormatError, match="2 words for 3 vectors"):
        load_word_vectors("glove", tmp_path)


def test_load_word2vec_binary(tmp_path, kv):
    f = tmp_path / "GoogleNews-vectors-negative300-bolukbasi.bin"
    kv.save_word2vec_format(str(f), binary=True)
    k = load_word_vectors("word2vec", f)
    assert k.index_to_key == list(WORDS)
    np.testing.assert_array_equal(k.vectors, kv.vectors)
    np.testing.assert_array_equal(load_word_vectors("word2vec", tmp_path).vectors, kv.vectors)


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown word vectors"):
        load_word_vectors("fasttext", tmp_path)
    with pytest.raises(FileNotFoundError):
        load_word_vectors("glove", tmp_path)
    with pytest.raises(FileNotFoundError):
        load_word_vectors("word2vec", tmp_path / "nowhere")


# ----------------------------------------------------------------------------- the real resources


def _need_resources() -> None:
    if importlib.util.find_spec("neighborlib.resources") is None:
        pytest.skip("neighborlib.resources is not available")


@pytest.fixture(scope="module")
def word2vec() -> KeyedVectors:
    _need_resources()
    return load_word_vectors("word2vec")


@pytest.fixture(scope="module")
def glove() -> KeyedVectors:
    _need_resources()
    return load_word_vectors("glove")


DOGGY = {"dogs", "puppy", "pet", "cat", "pup", "pooch", "canine", "canines", "puppies", "horse", "rabbit"}


def test_real_word2vec(word2vec):
    assert word2vec.vectors.shape == (26_423, 300)
    assert word2vec.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(word2vec.vectors, axis=1), 1.0, atol=1e-5)
    near = [w for w, _ in nearest_words(word2vec, "dog", k=5)]
    assert len(DOGGY.intersection(near)) >= 2, near


def test_real_glove(glove):
    assert glove.vectors.shape == (400_000, 50)
    assert glove.vectors.dtype == np.float32
    assert glove.index_to_key[0] == "the" and glove.key_to_index["the"] == 0
    near = [w for w, _ in nearest_words(glove, "dog", k=5)]
    assert len(DOGGY.intersection(near)) >= 2, near


@pytest.mark.parametrize("which", ["word2vec", "glove"])
def test_real_rho_of_a_single_tag_is_its_vector(which, request):
    vectors = request.getfixturevalue(which)
    vocab = ("sunset", "beach", "notawordxyz")
    Z = Vocabulary(vocab).encode([("sunset",), ("sunset", "beach"), ("notawordxyz",)])
    X, r = embed_metadata(Z, vocab, vectors)
    np.testing.assert_allclose(X[0], vectors["sunset"])
    np.testing.assert_allclose(X[1], vectors["sunset"] + vectors["beach"], rtol=1e-6)
    assert not X[2].any() and r.oov == ("notawordxyz",) and r.images_without_vector == 1


@pytest.mark.parametrize("which", ["word2vec", "glove"])
def test_real_mirflickr_label_names_are_covered(which, request):
    vectors = request.getfixturevalue(which)
    V, missing = label_vectors(MIRFLICKR_POTENTIAL_LABELS + MIRFLICKR_RELEVANT_LABELS, vectors)
    assert missing == []  # all 24 potential labels (plant_life via "plant" and "life") and the 14 _r1
    assert (np.abs(V).sum(axis=1) > 0).all()
    # "dog" and "dog_r1" get the same vector
    i, j = MIRFLICKR_POTENTIAL_LABELS.index("dog"), 24 + MIRFLICKR_RELEVANT_LABELS.index("dog_r1")
    np.testing.assert_array_equal(V[i], V[j])


@pytest.fixture(scope="module")
def mirflickr_tags():
    from neighborlib.data import load_dataset

    return load_dataset("mirflickr25k").tokens("tags")


@pytest.mark.realdata
def test_real_mirflickr_top1000_tag_coverage(word2vec, glove, mirflickr_tags):
    """Measured: word2vec covers 531/1000 tags (58.6% of occurrences), GloVe 841 (87.0%)."""
    vocab = Vocabulary.top_frequent(mirflickr_tags, 1000)
    Z = vocab.encode(mirflickr_tags)
    _, r_w2v = embed_metadata(Z, vocab, word2vec)
    _, r_glove = embed_metadata(Z, vocab, glove)
    assert 0.50 <= r_w2v.coverage <= 0.56, str(r_w2v)
    assert 0.81 <= r_glove.coverage <= 0.87, str(r_glove)
    assert 0.55 <= r_w2v.covered_mass <= 0.62, str(r_w2v)
    assert 0.84 <= r_glove.covered_mass <= 0.90, str(r_glove)
    # Flickr jargon is out of vocabulary for both
    assert {"abigfave", "selfportrait", "interestingness"} <= set(r_w2v.oov) & set(r_glove.oov)
    assert r_glove.images_without_vector < r_w2v.images_without_vector
    table = coverage_table(vocab.tokens, {"word2vec": word2vec, "glove": glove})
    assert table["covered"].tolist() == [r_w2v.n_covered, r_glove.n_covered]
