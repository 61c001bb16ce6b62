"""The synthetic social-image world: determinism, statistics, informativeness, rendering."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neighborlib.data import SocialImageDataset, load_dataset
from neighborlib.data.synthetic import (
    GENERATOR_VERSION,
    LABELS,
    SCENES,
    default_cache_dir,
    make_synthetic_world,
    render_image,
)

N = 2000


@pytest.fixture(scope="module")
def world() -> SocialImageDataset:
    return make_synthetic_world(N, seed=7, render=False)


def _pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.uint8)


def _col(name: str) -> int:
    return LABELS.index(name)


# ---------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------


def test_same_seed_same_world(world):
    again = make_synthetic_world(N, seed=7, render=False)
    np.testing.assert_array_equal(world.labels, again.labels)
    for kind in ("tags", "groups", "sets"):
        assert list(world.tokens(kind)) == list(again.tokens(kind))
    np.testing.assert_array_equal(world.extras["owner"], again.extras["owner"])
    np.testing.assert_array_equal(world.extras["hard"], again.extras["hard"])
    for i in (0, 17, N - 1):
        np.testing.assert_array_equal(_pixels(render_image(world, i)), _pixels(render_image(again, i)))


def test_different_seed_differs(world):
    other = make_synthetic_world(N, seed=8, render=False)
    assert (world.labels != other.labels).any(axis=1).mean() > 0.5
    assert sum(a != b for a, b in zip(world.tokens("tags"), other.tokens("tags"))) > N // 2
    assert not np.array_equal(_pixels(render_image(world, 0)), _pixels(render_image(other, 0)))


def test_render_depends_on_index_and_survives_subset(world):
    a, b = _pixels(render_image(world, 3)), _pixels(render_image(world, 4))
    assert a.shape == (96, 96, 3) and a.dtype == np.uint8
    assert not np.array_equal(a, b)
    sub = world.subset([4, 3])
    np.testing.assert_array_equal(_pixels(render_image(sub, 1)), a)  # looked up by id
    assert render_image(world, 3, image_size=48).size == (48, 48)


# ---------------------------------------------------------------------------------------
# Shapes and statistics
# ---------------------------------------------------------------------------------------


def test_says_it_is_synthetic(world):
    assert world.synthetic is True and world.name == "synthetic"
    assert world.description.startswith(f"SYNTHETIC social-image world (seed=7, n={N})")
    assert "SYNTHETIC" in repr(world)
    assert world.extras["generator_version"] == GENERATOR_VERSION
    assert world.image_paths is None and world.root is None


def test_shapes_and_labels(world):
    n = len(world)
    assert n == N
    np.testing.assert_array_equal(world.ids, np.arange(1, N + 1))
    assert world.labels.shape == (N, len(LABELS)) and world.labels.dtype == np.uint8
    assert set(np.unique(world.labels)) == {0, 1}
    assert 16 <= len(LABELS) <= 24 and len(set(LABELS)) == len(LABELS)
    assert (world.labels.sum(axis=1) >= 1).all()
    assert world.kinds == ("tags", "groups", "sets")
    for kind in world.kinds:
        for t in world.tokens(kind):
            assert isinstance(t, tuple) and all(isinstance(s, str) and s for s in t)
    assert world.extras["owner"].shape == (N,) and world.extras["owner"].dtype.kind == "i"
    assert world.extras["hard"].shape == (N,) and world.extras["hard"].dtype == bool
    assert set(world.extras["scene"]) <= set(SCENES)
    assert 0.08 < world.extras["hard"].mean() < 0.22


def test_untagged_fraction_like_mirflickr(world):
    untagged = 1.0 - world.has_metadata("tags").mean()
    assert 0.04 <= untagged <= 0.11, untagged


def test_label_imbalance_and_cooccurrence(world):
    y = world.labels.astype(bool)
    freq = y.sum(axis=0)
    assert freq.min() > 0
    assert freq.max() / freq.min() > 10, freq
    # scene structure: sunsets and seas are under the sky, boats mostly at sea, cats mostly indoors
    assert y[y[:, _col("sunset")], _col("sky")].all()
    assert y[y[:, _col("sea")], _col("sky")].all()
    assert y[y[:, _col("boat")], _col("sea")].mean() > 0.4
    assert y[y[:, _col("cat")], _col("indoor")].mean() > 0.5
    assert not (y[:, _col("night")] & y[:, _col("clouds")]).any()
    # one scene per image
    assert (y[:, [_col(s) for s in ("sea", "sunset", "night", "snow", "indoor")]].sum(axis=1) <= 1).all()


def test_tags_are_noisy_like_flickr(world):
    tags = world.tokens("tags")
    vocab = {t for ts in tags for t in ts}
    assert {"puppy", "ocean", "nikon", "canon", "explore"} <= vocab  # synonyms and junk
    assert any(t.isdigit() and len(t) == 4 for t in vocab)  # years
    # true labels are often, but far from always, tagged with their own name
    y = world.labels.astype(bool)
    tagged = world.has_metadata("tags")
    hit = [LABELS[j] in tags[i] for i in np.flatnonzero(tagged) for j in np.flatnonzero(y[i])]
    assert 0.15 < np.mean(hit) < 0.8
    # and tags name labels that are not there (bulk-tagged albums, mistakes)
    wrong = [LABELS[j] in tags[i] for i in range(N) for j in np.flatnonzero(~y[i])]
    assert 0.0 < np.mean(wrong) < 0.05
    # groups and sets are shared between images; owners own several images
    for kind in ("groups", "sets"):
        counts: dict[str, int] = {}
        for ts in world.tokens(kind):
            for t in ts:
                counts[t] = counts.get(t, 0) + 1
        assert np.mean(list(counts.values())) > 2, kind
    assert np.bincount(world.extras["owner"]).max() >= 10


def _jaccard_matrix(token_lists) -> np.ndarray:
    vocab = {t: k for k, t in enumerate(sorted({t for ts in token_lists for t in ts}))}
    z = np.zeros((len(token_lists), len(vocab)), dtype=np.float64)
    for i, ts in enumerate(token_lists):
        z[i, [vocab[t] for t in ts]] = 1.0
    inter = z @ z.T
    size = z.sum(axis=1)
    union = size[:, None] + size[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _label_jaccard(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    inter = (y[a] & y[b]).sum(axis=1)
    union = (y[a] | y[b]).sum(axis=1)
    return inter / union


@pytest.mark.parametrize("kinds", [("tags",), ("tags", "groups", "sets")])
def test_metadata_neighbours_share_labels(world, kinds):
    """Jaccard nearest neighbours on metadata agree on labels far more than random pairs."""
    sub = world.subset(np.arange(500))
    y = sub.labels.astype(bool)
    sim = _jaccard_matrix(sub.combined_tokens(list(kinds)))
    np.fill_diagonal(sim, -1.0)
    nn = sim.argmax(axis=1)
    has = sim.max(axis=1) > 0
    assert has.mean() > 0.85
    rows = np.flatnonzero(has)
    nn_agree = _label_jaccard(y, rows, nn[rows]).mean()
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 500, 5000), rng.integers(0, 500, 5000)
    keep = a != b
    random_agree = _label_jaccard(y, a[keep], b[keep]).mean()
    assert nn_agree > random_agree + 0.12, (nn_agree, random_agree)
    assert nn_agree > 1.8 * random_agree, (nn_agree, random_agree)

    # control: the same measure on metadata shuffled across images is at chance
    perm = rng.permutation(500)
    tokens = sub.combined_tokens(list(kinds))
    sim = _jaccard_matrix([tokens[i] for i in perm])
    np.fill_diagonal(sim, -1.0)
    nn = sim.argmax(axis=1)
    rows = np.flatnonzero(sim.max(axis=1) > 0)
    shuffled_agree = _label_jaccard(y, rows, nn[rows]).mean()  # labels stay: metadata is now noise
    assert shuffled_agree < random_agree + 0.05, (shuffled_agree, random_agree)


def test_metadata_at_mirflickr_scale():
    """25,000 images of metadata (its speed is measured in benchmarks/bench_loaders.py)."""
    big = make_synthetic_world(25_000, seed=1, render=False)
    assert len(big) == 25_000 and big.labels.shape == (25_000, 20)
    n_tags = np.array([len(t) for t in big.tokens("tags")])
    assert 0 < n_tags.mean() < 40 and (n_tags == 0).mean() < 0.5


def test_load_dataset_synthetic():
    ds = load_dataset("synthetic", n_images=30, seed=2, render=False)
    assert ds.synthetic and len(ds) == 30
    np.testing.assert_array_equal(ds.labels, make_synthetic_world(30, seed=2, render=False).labels)


def test_bad_arguments():
    with pytest.raises(ValueError):
        make_synthetic_world(0, render=False)
    with pytest.raises(ValueError):
        make_synthetic_world(10, n_users=0, render=False)
    with pytest.raises(ValueError, match="not a synthetic world"):
        render_image(SocialImageDataset("x", np.arange(1), ("a",), np.ones((1, 1)), {}), 0)


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------


def test_render_writes_valid_pngs_and_resumes(tmp_path):
    n = 24
    ds = make_synthetic_world(n, seed=5, cache_dir=tmp_path)
    assert ds.image_paths is not None and len(ds.image_paths) == n
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"im{i}.png" for i in range(1, n + 1))
    for i, path in enumerate(ds.image_paths):
        assert Path(path).parent == tmp_path
        with Image.open(path) as im:
            assert im.format == "PNG" and im.size == (96, 96) and im.mode == "RGB"
            assert im.info["Comment"].startswith(f"neighborlib synthetic world, seed=5, index={i},")
            if i < 3:
                np.testing.assert_array_equal(_pixels(im), _pixels(render_image(ds, i)))
    mtimes = {p: p.stat().st_mtime_ns for p in ds.image_paths}

    # a re-run keeps every valid file
    again = make_synthetic_world(n, seed=5, cache_dir=tmp_path)
    assert again.image_paths == ds.image_paths
    assert {p: p.stat().st_mtime_ns for p in ds.image_paths} == mtimes

    # a truncated (interrupted) file is detected and re-rendered; the others are kept
    broken = ds.image_paths[5]
    broken.write_bytes(broken.read_bytes()[:300])
    missing = ds.image_paths[9]
    missing.unlink()
    make_synthetic_world(n, seed=5, cache_dir=tmp_path)
    for p in (broken, missing):
        with Image.open(p) as im:
            im.load()
            np.testing.assert_array_equal(_pixels(im), _pixels(render_image(ds, ds.image_paths.index(p))))
    assert all(p.stat().st_mtime_ns == mtimes[p] for p in ds.image_paths if p not in (broken, missing))
    assert not [p for p in tmp_path.iterdir() if p.suffix != ".png"]  # no temp files left behind


def test_stale_file_from_another_world_is_replaced(tmp_path):
    make_synthetic_world(4, seed=1, cache_dir=tmp_path)
    ds = make_synthetic_world(4, seed=2, cache_dir=tmp_path)
    with Image.open(ds.image_paths[0]) as im:
        assert "seed=2," in im.info["Comment"]
        np.testing.assert_array_equal(_pixels(im), _pixels(render_image(ds, 0)))


def test_render_false_writes_nothing(tmp_path):
    ds = make_synthetic_world(10, seed=1, render=False, cache_dir=tmp_path / "photos")
    assert ds.image_paths is None and not ds.has_images
    assert list(tmp_path.iterdir()) == []


def test_default_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NEIGHBORLIB_CACHE", str(tmp_path))
    folder = default_cache_dir(3, 5, 32)
    assert folder == tmp_path / "synthetic" / f"seed3-n5-s32-v{GENERATOR_VERSION}"
    ds = make_synthetic_world(5, seed=3, image_size=32, progress=True)
    assert all(Path(p).parent == folder and Path(p).is_file() for p in ds.image_paths)
    with Image.open(ds.image_paths[0]) as im:
        assert im.size == (32, 32)


def test_images_show_their_labels(world):
    """Simple image statistics separate scenes: night is dark, snow bright, sea blue."""
    scene = world.extras["scene"]
    idx = {s: np.flatnonzero(scene == s)[:25] for s in ("night", "snow", "sea", "indoor")}
    assert all(len(v) >= 10 for v in idx.values())
    photos = {s: [_pixels(render_image(world, i)) for i in v] for s, v in idx.items()}
    mean = {s: np.stack([p.reshape(-1, 3).mean(axis=0) for p in ps]) for s, ps in photos.items()}
    brightness = {s: m.mean(axis=1) for s, m in mean.items()}
    assert brightness["night"].mean() + 80 < brightness["snow"].mean()
    assert np.median(brightness["night"]) < np.percentile(brightness["indoor"], 10)
    blue_minus_red = {s: m[:, 2] - m[:, 0] for s, m in mean.items()}
    assert blue_minus_red["sea"].mean() > blue_minus_red["indoor"].mean() + 30

    # a nearest-centroid classifier on 8x8 thumbnails beats chance (25%) by far
    def thumbs(ids):
        small = [render_image(world, i).resize((8, 8), Image.BILINEAR) for i in ids]
        return np.stack([_pixels(im).ravel() / 255.0 for im in small])

    feats = {s: thumbs(v) for s, v in idx.items()}
    centroids = {s: f[:12].mean(axis=0) for s, f in feats.items()}
    names = list(centroids)
    correct = []
    for s, f in feats.items():
        d = np.stack([((f[12:] - centroids[c]) ** 2).sum(axis=1) for c in names], axis=1)
        correct.extend(np.array(names)[d.argmin(axis=1)] == s)
    assert np.mean(correct) > 0.75, np.mean(correct)
