"""The dataset container, seeded splits, vocabularies and the data-root rule."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neighborlib.data import (
    DataFormatError,
    SocialImageDataset,
    Vocabulary,
    data_root,
    random_splits,
    simple_lemmatise,
    vocabulary_shift,
)
from neighborlib.data.root import describe_data_root


def _toy() -> SocialImageDataset:
    return SocialImageDataset(
        name="toy",
        ids=np.array([10, 11, 12]),
        label_names=("a", "b"),
        labels=np.array([[1, 0], [0, 1], [1, 1]]),
        metadata={"tags": [("x", "y"), (), ("y",)], "groups": [("g1",), ("g1",), ()]},
    )


def test_dataset_validation_and_subset():
    ds = _toy()
    assert len(ds) == 3 and ds.kinds == ("tags", "groups") and not ds.has_images
    sub = ds.subset([2, 0])
    assert list(sub.ids) == [12, 10] and sub.tokens("tags") == [("y",), ("x", "y")]
    np.testing.assert_array_equal(sub.labels, [[1, 1], [1, 0]])
    np.testing.assert_array_equal(ds.has_metadata("tags"), [True, False, True])
    assert ds.with_labels(["b"]).labels[:, 0].tolist() == [0, 1, 1]
    with_extras = SocialImageDataset(
        "toy", ds.ids, ds.label_names, ds.labels, ds.metadata, extras={"owner": np.array([5, 6, 7]), "version": 2}
    )
    assert with_extras.subset([2, 0]).extras["owner"].tolist() == [7, 5]
    assert with_extras.subset([2, 0]).extras["version"] == 2
    assert ds.combined_tokens(["tags", "groups"])[0] == ("tags:x", "tags:y", "groups:g1")
    with pytest.raises(KeyError, match="no metadata kind 'sets'"):
        ds.tokens("sets")
    with pytest.raises(ValueError, match="binary"):
        SocialImageDataset("bad", np.arange(1), ("a",), np.array([[2]]), {})
    with pytest.raises(ValueError, match="metadata kind 'tags' has 1 entries for 2 images"):
        SocialImageDataset("bad", np.arange(2), ("a",), np.zeros((2, 1)), {"tags": [()]})


def test_data_format_error_names_file_and_line():
    err = DataFormatError(Path("/d/tags7.txt"), "bad tag", line=3)
    assert str(err) == "/d/tags7.txt, line 3: bad tag" and err.line == 3


def test_splits_are_disjoint_seeded_and_stable():
    a = random_splits(100, n_splits=3, seed=7)
    b = random_splits(100, n_splits=5, seed=7)
    for s, t in zip(a, b):  # adding splits never changes earlier ones
        assert np.array_equal(s.train, t.train) and np.array_equal(s.test, t.test)
    s = a[0]
    assert (len(s.train), len(s.val), len(s.test)) == (50, 10, 40)
    assert len(np.union1d(np.union1d(s.train, s.val), s.test)) == 100
    assert not np.array_equal(a[0].train, a[1].train)
    assert not np.array_equal(random_splits(100, 1, seed=8)[0].train, s.train)
    eligible = np.arange(100) % 2 == 0
    e = random_splits(100, 1, seed=0, eligible=eligible)[0]
    assert np.all(np.concatenate([e.train, e.val, e.test]) % 2 == 0) and len(e.train) == 25
    with pytest.raises(ValueError, match="sum"):
        random_splits(10, fractions=(0.5, 0.5, 0.5))


def test_vocabulary_frequency_ties_and_encoding():
    lists = [("b", "a", "a"), ("a", "c"), ("c", "b"), ("d",)]
    v = Vocabulary.top_frequent(lists, 3)
    assert v.tokens == ("a", "b", "c")  # a,b,c on 2 images each: alphabetical; d on 1
    Z = v.encode(lists + [("zzz",)])
    np.testing.assert_array_equal(Z.toarray(), [[1, 1, 0], [1, 0, 1], [0, 1, 1], [0, 0, 0], [0, 0, 0]])
    assert Z.dtype == np.float32 and Z.has_sorted_indices
    only_train = Vocabulary.top_frequent(lists, None, index=np.array([3]))
    assert only_train.tokens == ("d",)
    assert Vocabulary.top_frequent(lists, None, min_count=2).tokens == ("a", "b", "c")
    with pytest.raises(ValueError, match="unique"):
        Vocabulary(("a", "a"))


def test_lemmatiser():
    cases = {"flowers": "flower", "puppies": "puppy", "glasses": "glass", "bus": "bus", "grass": "grass",
             "iris": "iris", "cats": "cat", "boxes": "box", "sky": "sky", "365days": "365days"}
    for word, lemma in cases.items():
        assert simple_lemmatise(word) == lemma, word
    v = Vocabulary.top_frequent([("dogs",), ("dog",)], None, lemmatiser=simple_lemmatise)
    assert v.tokens == ("dog",) and v.encode([("dogs",)]).toarray().tolist() == [[1.0]]


def test_vocabulary_shift_overlap():
    lists = [tuple(f"t{i}" for i in range(k, k + 5)) for k in range(200)]
    for overlap, shared in ((0.0, 0), (0.5, 50), (1.0, 100)):
        train, test = vocabulary_shift(lists, overlap, seed=1, n_top=200)
        assert len(train) == len(test) == 100
        assert len(set(train.tokens) & set(test.tokens)) == shared
    a, _ = vocabulary_shift(lists, 0.0, seed=1, n_top=200)
    b, _ = vocabulary_shift(lists, 0.0, seed=2, n_top=200)
    assert a.tokens != b.tokens
    with pytest.raises(ValueError):
        vocabulary_shift(lists, 1.5)


def test_data_root_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("NEIGHBORLIB_DATA", str(tmp_path))
    assert data_root() == tmp_path.resolve()
    assert data_root(tmp_path / ".") == tmp_path.resolve()
    monkeypatch.setenv("NEIGHBORLIB_DATA", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="NEIGHBORLIB_DATA points at"):
        data_root()
    (tmp_path / "mirflickr25k").mkdir()
    (tmp_path / "mirflickr25k" / "SOURCE.md").write_text("# MIRFlickr test copy\n")
    text = describe_data_root(tmp_path)
    assert "`mirflickr25k/`: MIRFlickr test copy" in text


def test_describe_without_data_says_synthetic(monkeypatch):
    import neighborlib.data.root as root

    monkeypatch.delenv("NEIGHBORLIB_DATA", raising=False)
    monkeypatch.setattr(root, "PROJECT_ROOT", Path("/nonexistent/project"))
    assert root.data_root() is None
    assert "SYNTHETIC" in root.describe_data_root()


def test_checkout_and_installed_package_paths(tmp_path, monkeypatch):
    """In a checkout the caches live in ``<checkout>/.cache``; an installed package (no
    pyproject.toml + notebooks/ above it) uses the platform's user cache, never site-packages."""
    import platformdirs

    from neighborlib import paths

    project = Path(__file__).resolve().parents[1]
    assert paths.checkout_root() == project and paths.default_cache_dir() == project / ".cache"
    installed = tmp_path / "site-packages" / "neighborlib"
    installed.mkdir(parents=True)
    assert paths.checkout_root(installed) is None
    assert paths.default_cache_dir(installed) == Path(platformdirs.user_cache_dir("neighborlib"))
    fake = tmp_path / "clone"
    (fake / "notebooks").mkdir(parents=True)
    (fake / "pyproject.toml").write_text("[project]\nname = 'neighborlib'\n")
    assert paths.checkout_root(fake / "neighborlib") == fake


def test_photo_paths_partial_set_and_subfolders(tmp_path):
    from neighborlib.data.base import photo_paths, photos_note

    (tmp_path / "actor").mkdir()
    for name in ("im1.jpg", "im3.jpg", "actor/0001_7.jpg"):
        (tmp_path / name).write_bytes(b"x")
    paths = photo_paths(tmp_path, ["im1.jpg", "im2.jpg", "im3.jpg", "actor/0001_7.jpg", "actor/0002_8.jpg"])
    assert paths == (tmp_path / "im1.jpg", None, tmp_path / "im3.jpg", tmp_path / "actor/0001_7.jpg", None)
    assert photos_note(paths, tmp_path, tmp_path.parent) == f"photos for 3 images ({tmp_path.name}/)"
    assert photos_note(None, None, tmp_path) == "no photos"
