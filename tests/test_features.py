"""CNN features: strict weight loading, ImageNet sanity on real photos, shapes, determinism, cache.

The weights come from :mod:`neighborlib.resources` (fetched once by ``make test``). The
real photos are scikit-image's bundled sample files, read through our own pipeline.
Everything except the ImageNet and shape checks runs at 64 px to keep the file fast.
"""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image

from neighborlib import features as F
from neighborlib.data.synthetic import make_synthetic_world

SKIMAGE = Path(skimage.data.__file__).parent
CATS = {"tabby, tabby cat", "tiger cat", "Egyptian cat"}
LOW = 64  # resolution of the cache tests: 2 x 2 maps, a few ms per image


def _photo(name: str) -> Path:
    return SKIMAGE / name


@pytest.fixture(scope="module")
def lite0() -> torch.nn.Module:
    return F.load_backbone("efficientnet_lite0")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """10 synthetic 64 px photos (PNG)."""
    return make_synthetic_world(10, seed=3, image_size=64, cache_dir=tmp_path_factory.mktemp("world"))


@pytest.fixture
def counter(monkeypatch) -> list[int]:
    """Counts the images that go through FeatureExtractor (i.e. are actually computed).

    Every extraction - ``__call__``, the caches, the combined pooled + maps pass - runs
    through ``FeatureExtractor.pooled_and_maps``, once per forward pass of an image.
    """
    seen = [0]
    original = F.FeatureExtractor.pooled_and_maps

    def counting(self, paths, *args, **kwargs):
        seen[0] += len(paths)
        return original(self, paths, *args, **kwargs)

    monkeypatch.setattr(F.FeatureExtractor, "pooled_and_maps", counting)
    return seen


# ----------------------------------------------------------------------------- loading


def test_registry_and_defaults():
    assert set(F.BACKBONES) == {"efficientnet_lite0", "efficientnet_lite2"}
    assert F.default_backbone("cpu") == "efficientnet_lite0"
    assert F.default_backbone("cuda") == "efficientnet_lite2"
    assert F.BACKBONES["efficientnet_lite0"].map_size() == 7
    assert F.BACKBONES["efficientnet_lite2"].map_size() == 9
    assert F.BACKBONES["efficientnet_lite0"].map_size(128) == 4
    with pytest.raises(KeyError, match="known"):
        F.load_backbone("resnet50")


def test_strict_positional_load_rejects_wrong_state_dicts(tmp_path):
    import timm

    path = F.weights_file("efficientnet_lite0")
    state = torch.load(path, map_location="cpu", weights_only=True)
    assert len(state) == 296 and next(iter(state)) == "_conv_stem.weight"
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    F.load_state_dict_by_position(model, state)
    torch.testing.assert_close(model.conv_stem.weight, state["_conv_stem.weight"], rtol=0, atol=0)

    dropped = dict(list(state.items())[:-1])
    with pytest.raises(F.WeightsMismatchError, match="295 tensors .* expects 296"):
        F.load_state_dict_by_position(model, dropped)

    reshaped = dict(state)
    reshaped["_conv_stem.weight"] = torch.zeros(32, 3, 5, 5)
    with pytest.raises(F.WeightsMismatchError, match=r"tensor 0 _conv_stem.weight has shape \(32, 3, 5, 5\)"):
        F.load_state_dict_by_position(model, reshaped)

    items = list(state.items())  # swap a BatchNorm weight and bias: same shapes, wrong kinds
    items[1], items[2] = items[2], items[1]
    with pytest.raises(F.WeightsMismatchError, match="does not correspond"):
        F.load_state_dict_by_position(model, dict(items))

    bad_file = tmp_path / "bad.pth"  # through load_backbone: Lite2 weights into Lite0
    shutil.copy(F.weights_file("efficientnet_lite2"), bad_file)
    with pytest.raises(F.WeightsMismatchError, match="386 tensors .* expects 296"):
        F.load_backbone("efficientnet_lite0", weights_path=bad_file)
    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        F.load_backbone("efficientnet_lite0", weights_path=tmp_path / "nowhere.pth")


def test_lite2_loads_and_gives_9x9_maps():
    maps = F.extract_features([_photo("coffee.png")], "efficientnet_lite2", spatial=True, progress=False)
    assert maps.shape == (1, 1280, 9, 9)
    model = F.load_backbone("efficientnet_lite2")
    assert not model.training
    assert F.imagenet_top_k(model, [_photo("coffee.png")], k=1) == [["espresso"]]


# ----------------------------------------------------------------------------- ImageNet sanity


def test_imagenet_top_k_on_real_photos(lite0):
    photos = [_photo(n) for n in ("chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg")]
    top = F.imagenet_top_k(lite0, photos, k=5, with_scores=True)
    names = [[name for name, _ in row] for row in top]
    # chelsea: top 3 are exactly the three domestic-cat classes (measured 0.39/0.33/0.17)
    assert set(names[0][:3]) == CATS
    assert sum(p for n, p in top[0] if n in CATS) > 0.8
    # coffee: espresso with high confidence (measured 0.94), cup in the top 5
    assert names[1][0] == "espresso" and top[1][0][1] > 0.8
    assert "cup" in names[1]
    # motorcycle_left: a moped (0.74), scooter second
    assert names[2][0] == "moped" and "motor scooter, scooter" in names[2][:3]
    # rocket (a JPEG): missile / projectile (0.31 / 0.17) on top
    assert {"missile", "projectile, missile"} == set(names[3][:2])
    # plain names, and numpy input gives the same answer as the file
    assert F.imagenet_top_k(lite0, [skimage.data.chelsea()], k=3) == [names[0][:3]]


# ----------------------------------------------------------------------------- extraction


@pytest.fixture(scope="module")
def photos() -> list[Path]:
    return [_photo(n) for n in ("chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png")]


@pytest.fixture(scope="module")
def extracted(photos):
    kw = dict(backbone="efficientnet_lite0", progress=False, batch_size=4)
    return {
        "pooled": F.extract_features(photos, **kw),
        "pooled_again": F.extract_features(photos, **kw),
        "spatial": F.extract_features(photos, spatial=True, **kw),
    }


def test_shapes_and_dtypes(extracted, photos):
    pooled, spatial = extracted["pooled"], extracted["spatial"]
    assert pooled.shape == (4, 1280) and pooled.dtype == np.float32
    assert spatial.shape == (4, 1280, 7, 7) and spatial.dtype == np.float32
    assert np.isfinite(pooled).all()
    assert spatial.min() >= 0.0 and spatial.max() <= 6.0  # the head ends in ReLU6
    low = F.extract_features(photos[:1], resolution=160, spatial=True, progress=False)
    assert low.shape == (1, 1280, 5, 5)
    assert F.extract_features([], progress=False).shape == (0, 1280)


def test_deterministic_and_pooled_is_mean_of_maps(extracted):
    np.testing.assert_array_equal(extracted["pooled"], extracted["pooled_again"])
    mean_of_maps = extracted["spatial"].mean(axis=(2, 3))
    np.testing.assert_allclose(extracted["pooled"], mean_of_maps, rtol=1e-5, atol=1e-6)


def test_features_are_semantic(tmp_path):
    """A mirrored cat is much closer to the cat than a cup of coffee is."""
    flipped = tmp_path / "chelsea_flipped.png"
    Image.open(_photo("chelsea.png")).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(flipped)
    f = F.extract_features([_photo("chelsea.png"), flipped, _photo("coffee.png")], progress=False)
    f /= np.linalg.norm(f, axis=1, keepdims=True)
    same, other = float(f[0] @ f[1]), float(f[0] @ f[2])
    assert same > 0.9 and other < 0.6, (same, other)


def test_image_transform():
    t = F.image_transform(96)
    x = t(Image.new("L", (300, 200), color=255))  # grayscale, landscape
    assert x.shape == (3, 96, 96) and x.dtype == torch.float32
    torch.testing.assert_close(x, torch.ones(3, 96, 96))  # white -> +1 after 0.5/0.5 normalisation
    black = t(Image.new("RGB", (120, 500)))
    torch.testing.assert_close(black, -torch.ones(3, 96, 96))
    with pytest.raises(ValueError, match="at least 32"):
        F.image_transform(16)
    import torchvision.transforms as T  # the numpy normalisation is torchvision's, bit for bit

    photo = Image.open(_photo("coffee.png")).convert("RGB")
    reference = T.Compose([T.Resize(109, interpolation=T.InterpolationMode.BICUBIC, antialias=True), T.CenterCrop(96),
                           T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])(photo)
    torch.testing.assert_close(t(photo), reference, rtol=0, atol=0)
    assert t(photo).shape == (3, 96, 96)  # 600 x 400 -> 163 x 109 (96 / 0.875) -> centre 96 x 96


def test_image_transform_is_timms_evaluation_transform(lite0):
    """timm's own evaluation transform for the weights (resolve_data_config + create_transform)."""
    import timm.data

    config = timm.data.resolve_data_config({"input_size": (3, 160, 160)}, model=lite0)
    assert config["crop_pct"] == F.EVAL_CROP_PCT and config["interpolation"] == "bicubic"
    assert tuple(config["mean"]) == F.LITE_MEAN and tuple(config["std"]) == F.LITE_STD
    theirs = timm.data.create_transform(**config)
    for name in ("coffee.png", "astronaut.png"):
        photo = Image.open(_photo(name)).convert("RGB")
        torch.testing.assert_close(F.image_transform(160)(photo), theirs(photo), rtol=0, atol=0)


def test_read_errors_name_the_path(tmp_path):
    missing = tmp_path / "gone.jpg"
    with pytest.raises(FileNotFoundError, match="gone.jpg"):
        F.extract_features([_photo("coffee.png"), missing], resolution=LOW, progress=False)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not a PNG" * 100)
    with pytest.raises(F.ImageReadError, match="junk.png") as info:
        F.read_image(junk, image_id=42)
    assert isinstance(info.value, OSError) and isinstance(info.value, ValueError)
    assert "image id 42" in str(info.value) and info.value.path == junk
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(_photo("rocket.jpg").read_bytes()[:5000])
    with pytest.raises(F.ImageReadError, match="truncated.jpg"):
        F.read_image(truncated)


def test_worker_process_keeps_error_type_and_results(world, tmp_path):
    paths = list(world.image_paths[:4])
    in_main = F.extract_features(paths, resolution=LOW, batch_size=2, num_workers=0, progress=False)
    in_worker = F.extract_features(paths, resolution=LOW, batch_size=2, num_workers=1, progress=False)
    np.testing.assert_array_equal(in_main, in_worker)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x00" * 1000)
    with pytest.raises(F.ImageReadError, match="junk.png"):
        F.extract_features([*paths, junk], resolution=LOW, batch_size=2, num_workers=1, progress=False)


# ----------------------------------------------------------------------------- cache


def _cache(world, cache_dir, **kw):
    kw.setdefault("resolution", LOW)
    return F.dataset_features(world, cache_dir=cache_dir, chunk_size=4, batch_size=2, progress=False, **kw)


def test_cache_hit_is_identical_without_recomputation(world, tmp_path, counter):
    first = _cache(world, tmp_path)
    assert counter[0] == 10 and first.shape == (10, 1280) and first.dtype == np.float32
    (entry,) = (tmp_path / "synthetic").iterdir()
    names = sorted(p.name for p in entry.iterdir())
    assert names == ["chunk_00000.npy", "chunk_00001.npy", "chunk_00002.npy", "meta.json"]
    again = _cache(world, tmp_path)
    assert counter[0] == 10  # nothing recomputed
    np.testing.assert_array_equal(first, again)
    # chunks are computed with batches aligned to their start: same numbers as one plain run
    plain = F.extract_features(world.image_paths, resolution=LOW, batch_size=2, progress=False)
    np.testing.assert_array_equal(first, plain)
    # different images really have different features
    assert np.linalg.matrix_rank(first) >= 9


def test_cache_key_changes_with_resolution_backbone_and_paths(world, tmp_path, counter):
    paths = list(world.image_paths[:3])
    kw = dict(cache_dir=tmp_path, progress=False, batch_size=4)
    F.cached_features("k", paths, resolution=LOW, **kw)
    F.cached_features("k", paths, resolution=LOW + 32, **kw)
    F.cached_features("k", paths, resolution=LOW, backbone="efficientnet_lite2", **kw)
    F.cached_features("k", paths[::-1], resolution=LOW, **kw)
    F.cached_features("k", paths[:2], resolution=LOW, **kw)
    F.cached_features("k", paths, resolution=LOW, spatial=True, **kw)
    assert len(list((tmp_path / "k").iterdir())) == 6
    assert counter[0] == 3 + 3 + 3 + 3 + 2 + 3
    F.cached_features("k", paths, resolution=LOW, **kw)  # and the first one is still a hit
    assert counter[0] == 17
    with pytest.raises(ValueError, match="key_name"):
        F.cached_features("../escape", paths, resolution=LOW, **kw)


def test_cpu_numerics_settings_are_separate_cache_entries(world, tmp_path, counter, monkeypatch):
    """Features under other CPU code paths differ in the last bits: never read across settings."""
    paths = list(world.image_paths[:2])
    kw = dict(cache_dir=tmp_path, progress=False, batch_size=2, resolution=LOW)
    monkeypatch.setenv("MKL_CBWR", "AVX2")
    F.cached_features("k", paths, **kw)
    assert F.cpu_numerics()["MKL_CBWR"] == "AVX2"
    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    F.cached_features("k", paths, **kw)
    monkeypatch.delenv("MKL_CBWR")
    F.cached_features("k", paths, **kw)
    assert len(list((tmp_path / "k").iterdir())) == 3 and counter[0] == 6
    recorded = sorted(json.loads((e / "meta.json").read_text())["cpu_numerics"]["MKL_CBWR"]
                      for e in (tmp_path / "k").iterdir())
    assert recorded == ["", "AVX2", "COMPATIBLE"]  # each entry says which settings made it


def test_interrupted_extraction_resumes(world, tmp_path, counter):
    bad = Path(world.image_paths[5])  # in the second chunk (images 4..7)
    good_bytes = bad.read_bytes()
    bad.write_bytes(b"\x00" * 16 + good_bytes[16:])  # same size, so the same cache key
    try:
        with pytest.raises(F.ImageReadError, match=f"{bad.name}.*image id {world.ids[5]}"):
            _cache(world, tmp_path)
        (entry,) = (tmp_path / "synthetic").iterdir()
        assert (entry / "chunk_00000.npy").exists()
        assert not (entry / "chunk_00001.npy").exists() and not (entry / "chunk_00002.npy").exists()
        assert not list(entry.glob(".*tmp"))  # no temporary leftovers
        assert counter[0] == 8  # chunk 0 done, chunk 1 attempted
    finally:
        bad.write_bytes(good_bytes)
    resumed = _cache(world, tmp_path)
    assert counter[0] == 8 + 6  # only chunks 1 and 2
    fresh = _cache(world, tmp_path / "fresh")
    np.testing.assert_array_equal(resumed, fresh)


def test_truncated_chunk_is_recomputed(world, tmp_path, counter, caplog):
    first = _cache(world, tmp_path)
    (entry,) = (tmp_path / "synthetic").iterdir()
    chunk = entry / "chunk_00001.npy"
    chunk.write_bytes(chunk.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING, logger="neighborlib.features"):
        again = _cache(world, tmp_path)
    assert counter[0] == 10 + 4
    assert any("chunk_00001.npy" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(first, again)
    assert np.load(chunk).shape == (4, 1280)


@pytest.mark.parametrize("damage", [b"{not json", b'{"key": "another entry", "n_images": 10, "chunk_size": 4}'])
def test_corrupt_meta_json_restarts_the_entry(world, tmp_path, counter, caplog, damage):
    first = _cache(world, tmp_path)
    (entry,) = (tmp_path / "synthetic").iterdir()
    (entry / "meta.json").write_bytes(damage)
    with caplog.at_level(logging.WARNING, logger="neighborlib.features"):
        again = _cache(world, tmp_path)
    assert counter[0] == 10 + 10  # its chunks were not trusted
    assert any("unusable meta.json" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(first, again)
    assert json.loads((entry / "meta.json").read_text())["n_images"] == 10  # and it is whole again


def test_missing_image_fails_before_any_work(world, tmp_path, counter):
    paths = [*world.image_paths[:5], tmp_path / "not_there.png"]
    with pytest.raises(FileNotFoundError, match="not_there.png"):
        F.cached_features("k", paths, resolution=LOW, cache_dir=tmp_path, progress=False)
    assert counter[0] == 0


def test_spatial_cache_is_float16(world, tmp_path):
    maps = _cache(world, tmp_path, spatial=True, resolution=96)
    assert maps.shape == (10, 1280, 3, 3) and maps.dtype == np.float16
    exact = F.extract_features(world.image_paths, resolution=96, spatial=True, batch_size=2, progress=False)
    np.testing.assert_allclose(maps.astype(np.float32), exact, rtol=1e-3, atol=1e-3)


# ----------------------------------------------------------------------------- pooled + maps in one pass


def _both(world, cache_dir, **kw):
    kw.setdefault("resolution", LOW)
    return F.dataset_features_and_maps(world, cache_dir=cache_dir, chunk_size=4, batch_size=2, progress=False, **kw)


def _entries(cache_dir) -> dict[bool, Path]:
    """The feature cache entries of the world under ``cache_dir``, by their spatial flag."""
    out = {}
    for entry in (Path(cache_dir) / "synthetic").iterdir():
        out[json.loads((entry / "meta.json").read_text())["spatial"]] = entry
    return out


def _stamps(entry: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every chunk file: ``os.replace`` of a rewritten chunk changes both."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(entry.glob("chunk_*.npy"))}


def test_pooled_and_maps_equal_the_single_entries_bit_for_bit(world, tmp_path, counter):
    pooled, maps = _both(world, tmp_path / "both")
    assert counter[0] == 10  # one forward pass per photo for both outputs
    assert pooled.shape == (10, 1280) and pooled.dtype == np.float32
    assert maps.shape == (10, 1280, 2, 2) and maps.dtype == np.float16
    alone = _cache(world, tmp_path / "pooled")
    alone_maps = _cache(world, tmp_path / "maps", spatial=True)
    np.testing.assert_array_equal(pooled, alone)  # the committed notebooks rely on these bits
    np.testing.assert_array_equal(maps, alone_maps)
    # and the same entries (keys) as the single-entry calls
    both = _entries(tmp_path / "both")
    assert both[False].name == _entries(tmp_path / "pooled")[False].name
    assert both[True].name == _entries(tmp_path / "maps")[True].name
    meta = json.loads((both[True] / "meta.json").read_text())
    assert meta["dtype"] == "float16" and meta["feature_shape"] == [1280, 2, 2] and meta["chunk_size"] == 4


def test_a_cold_combined_call_fills_both_entries_once(world, tmp_path, counter):
    pooled, maps = _both(world, tmp_path)
    assert counter[0] == 10
    assert sorted(_entries(tmp_path)) == [False, True]
    np.testing.assert_array_equal(_cache(world, tmp_path), pooled)  # both read from the cache
    np.testing.assert_array_equal(_cache(world, tmp_path, spatial=True), maps)
    again = _both(world, tmp_path)
    assert counter[0] == 10
    np.testing.assert_array_equal(again[0], pooled)
    np.testing.assert_array_equal(again[1], maps)
    # and the other way round: what the single-entry calls wrote is read by the combined call
    _cache(world, tmp_path / "single")
    _cache(world, tmp_path / "single", spatial=True)
    assert counter[0] == 10 + 10 + 10
    read = _both(world, tmp_path / "single")
    assert counter[0] == 30
    np.testing.assert_array_equal(read[0], pooled)
    np.testing.assert_array_equal(read[1], maps)


def test_combined_call_computes_only_what_an_entry_lacks(world, tmp_path, counter, monkeypatch):
    pooled = _cache(world, tmp_path)  # only the pooled entry exists
    assert counter[0] == 10
    (pooled_entry,) = _entries(tmp_path).values()
    before = _stamps(pooled_entry)
    writes = []
    original_write = F._CacheEntry.write

    def recording(self, k, feats):
        writes.append((self.spatial, k))
        return original_write(self, k, feats)

    monkeypatch.setattr(F._CacheEntry, "write", recording)
    again, maps = _both(world, tmp_path)
    assert counter[0] == 10 + 10  # the 3 maps chunks, each photo once
    assert writes == [(True, 0), (True, 1), (True, 2)]  # the pooled chunks are not rewritten
    assert _stamps(pooled_entry) == before
    np.testing.assert_array_equal(again, pooled)
    # a chunk missing from each entry: only those two chunks go through the backbone
    maps_entry = _entries(tmp_path)[True]
    (maps_entry / "chunk_00001.npy").unlink()
    (pooled_entry / "chunk_00002.npy").unlink()
    kept = _stamps(pooled_entry)
    writes.clear()
    third = _both(world, tmp_path)
    assert counter[0] == 20 + 4 + 2
    assert sorted(writes) == [(False, 2), (True, 1)]
    assert {k: v for k, v in _stamps(pooled_entry).items() if k != "chunk_00002.npy"} == kept
    np.testing.assert_array_equal(third[0], pooled)
    np.testing.assert_array_equal(third[1], maps)


def test_combined_call_keeps_the_chunk_size_of_an_existing_entry(world, tmp_path, counter, caplog):
    pooled = _cache(world, tmp_path)  # chunks of 4
    both = F.dataset_features_and_maps(world, cache_dir=tmp_path, resolution=LOW, chunk_size=256,
                                       batch_size=2, progress=False)
    assert counter[0] == 20  # one pass for the maps only
    entries = _entries(tmp_path)
    assert json.loads((entries[True] / "meta.json").read_text())["chunk_size"] == 4
    assert len(list(entries[True].glob("chunk_*.npy"))) == 3
    np.testing.assert_array_equal(both[0], pooled)
    # both entries made separately with other chunk sizes: each is completed on its own
    other = tmp_path / "other"
    kw = dict(cache_dir=other, resolution=LOW, batch_size=1, progress=False)  # batches of 1 divide 4 and 5
    first = F.dataset_features(world, chunk_size=4, **kw)
    maps = F.dataset_features(world, spatial=True, chunk_size=5, **kw)
    assert counter[0] == 40
    entries = _entries(other)
    (entries[False] / "chunk_00001.npy").unlink()
    (entries[True] / "chunk_00000.npy").unlink()
    with caplog.at_level(logging.WARNING, logger="neighborlib.features"):
        p, m = F.dataset_features_and_maps(world, chunk_size=4, **kw)
    assert counter[0] == 40 + 4 + 5
    assert any("separate passes" in r.getMessage() for r in caplog.records)
    assert json.loads((entries[True] / "meta.json").read_text())["chunk_size"] == 5
    np.testing.assert_array_equal(p, first)
    np.testing.assert_array_equal(m, maps)


def test_unreadable_photo_writes_no_chunk_of_it_in_either_entry(world, tmp_path, counter):
    bad = Path(world.image_paths[5])  # in the second chunk (images 4..7)
    good_bytes = bad.read_bytes()
    bad.write_bytes(b"\x00" * 16 + good_bytes[16:])  # same size, so the same cache keys
    try:
        with pytest.raises(F.ImageReadError, match=f"{bad.name}.*image id {world.ids[5]}"):
            _both(world, tmp_path)
        entries = _entries(tmp_path)
        assert sorted(entries) == [False, True]
        for entry in entries.values():
            assert [p.name for p in entry.glob("chunk_*.npy")] == ["chunk_00000.npy"]
            assert not list(entry.glob(".*tmp"))  # no temporary leftovers
        assert counter[0] == 8  # chunk 0 done, chunk 1 attempted
    finally:
        bad.write_bytes(good_bytes)
    pooled, maps = _both(world, tmp_path)
    assert counter[0] == 8 + 6  # only chunks 1 and 2
    fresh = _both(world, tmp_path / "fresh")
    np.testing.assert_array_equal(pooled, fresh[0])
    np.testing.assert_array_equal(maps, fresh[1])


def test_benchmark_maps_reads_the_combined_entries_at_the_extracted_resolution(monkeypatch):
    from neighborlib.extract import CPU_RESOLUTION
    from neighborlib.protocol import benchmark_maps, load_benchmark

    seen = {}

    def fake(ds, **kw):
        seen.update(kw)
        return np.zeros((len(ds), 1280), np.float32), np.ones((len(ds), 1280, 5, 5), np.float16)

    monkeypatch.setattr(F, "dataset_features_and_maps", fake)
    bench = load_benchmark("synthetic", n_images=20, render=False)
    maps = benchmark_maps(bench)
    assert maps.shape == (20, 1280, 5, 5) and maps.dtype == np.float16 and maps.min() == 1
    assert seen["resolution"] == CPU_RESOLUTION == 160
    benchmark_maps(bench, resolution=96)
    assert seen["resolution"] == 96


def test_make_features_extracts_maps_in_the_same_pass(monkeypatch, tmp_path):
    """MIRFlickr and COCO-person: one combined call each; the study subset and synthetic-kinds pooled only."""
    import time as _time

    from neighborlib import extract, protocol

    class FakeSet:
        def __init__(self, name, n):
            self.name, self.n = name, n

        def __len__(self):
            return self.n

        def subset(self, index):
            return FakeSet(f"{self.name}[subset]", len(index))

    class FakeBench:
        def __init__(self, name):
            self.dataset = FakeSet(name, 5000)

    calls = []

    def pooled_only(ds, **kw):
        calls.append(("pooled", ds.name, kw["resolution"]))
        _time.sleep(0.02)  # "computed": slower than reading the cache
        return np.zeros((10, 1280), np.float32)

    def combined(ds, **kw):
        calls.append(("both", ds.name, kw["resolution"]))
        _time.sleep(0.02)
        return np.zeros((10, 1280), np.float32), np.zeros((10, 1280, 5, 5), np.float16)

    monkeypatch.setenv("NEIGHBORLIB_FEATURES", str(tmp_path))
    monkeypatch.setattr(protocol, "load_benchmark", FakeBench)
    monkeypatch.setattr(F, "dataset_features", pooled_only)
    monkeypatch.setattr(F, "dataset_features_and_maps", combined)
    assert extract.MAPS_BENCHMARKS == ("mirflickr", "coco-person")
    timings = extract.extract_benchmarks(extract.DEFAULT_BENCHMARKS, progress=False)
    assert calls == [
        ("both", "mirflickr", 160),
        ("pooled", "mirflickr[subset]", 128),
        ("both", "coco-person", 160),
        ("pooled", "synthetic-kinds", 160),
    ]
    recorded = extract.read_timings()
    assert recorded["mirflickr @ 160 px"]["maps"] is True and recorded["coco-person @ 160 px"]["maps"] is True
    assert recorded["synthetic-kinds @ 160 px"]["maps"] is False
    assert recorded["mirflickr subset of 4,000 @ 128 px"]["maps"] is False
    assert set(recorded) == set(timings)


# ----------------------------------------------------------------------------- fine-tuning


def test_fine_tunable_backbone(lite0):
    x = torch.randn(2, 3, LOW, LOW, generator=torch.Generator().manual_seed(0))
    frozen = F.FineTunableBackbone("efficientnet_lite0", trainable_blocks=0)
    assert frozen.n_blocks == 9 and frozen.training
    assert not any(p.requires_grad for p in frozen.parameters())
    bns = [m for m in frozen.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)  # frozen BN stays in eval mode under .train()
    pooled, maps = frozen(x)
    assert pooled.shape == (2, 1280) and maps.shape == (2, 1280, 2, 2)
    with torch.inference_mode():
        ref = lite0.forward_features(x)
    torch.testing.assert_close(maps, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(pooled, ref.mean((2, 3)), rtol=1e-5, atol=1e-5)

    tuned = F.FineTunableBackbone("efficientnet_lite0", trainable_blocks=2)
    stats_before = tuned.model.bn1.running_mean.clone()
    pooled, _ = tuned(x)
    pooled.sum().backward()
    trainable = {n for n, p in tuned.named_parameters() if p.requires_grad}
    last_units = ("model.blocks.6.", "model.conv_head", "model.bn2")
    assert trainable and all(n.startswith(last_units) for n in trainable)
    assert all((p.grad is not None) == p.requires_grad for p in tuned.parameters())
    assert tuned.model.bn2.training and not tuned.model.bn1.training
    torch.testing.assert_close(tuned.model.bn1.running_mean, stats_before, rtol=0, atol=0)
    tuned.eval()
    assert not tuned.model.bn2.training
    with pytest.raises(ValueError, match="0..9"):
        F.FineTunableBackbone("efficientnet_lite0", trainable_blocks=10)


# ----------------------------------------------------------------------------- CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_matches_cpu(photos):
    cpu = F.extract_features(photos, "efficientnet_lite0", device="cpu", progress=False)
    gpu = F.extract_features(photos, "efficientnet_lite0", device="cuda", progress=False)
    cos = (cpu * gpu).sum(1) / np.linalg.norm(cpu, axis=1) / np.linalg.norm(gpu, axis=1)
    assert cos.min() > 0.999, cos  # TF32 convolutions by default: close, not bit-equal
    np.testing.assert_allclose(gpu, cpu, atol=0.05)
    again = F.extract_features(photos, "efficientnet_lite0", device="cuda", progress=False)
    np.testing.assert_allclose(gpu, again, rtol=1e-5, atol=1e-6)
    assert F.default_backbone("cuda") == "efficientnet_lite2"
