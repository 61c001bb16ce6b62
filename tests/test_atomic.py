"""atomic_write: readers see the old file or the whole new one, and failures leave nothing behind."""
from __future__ import annotations

import stat

import pytest

from neighborlib.atomic import atomic_write


@pytest.mark.parametrize("durable", [True, False])
def test_writes_and_replaces(tmp_path, durable):
    target = tmp_path / "a.bin"
    atomic_write(target, lambda f: f.write(b"first"), durable=durable)
    atomic_write(target, lambda f: f.write(b"second"), durable=durable)
    assert target.read_bytes() == b"second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_failure_keeps_old_content_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def broken(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_stale_temporaries_of_killed_writes_are_removed_young_ones_kept(tmp_path):
    import os
    import time

    from neighborlib.atomic import STALE_AFTER_S, remove_stale_temporaries

    old = time.time() - STALE_AFTER_S - 60
    stale_file = tmp_path / ".chunk_00001.npy.abc123.tmp"
    stale_file.write_bytes(b"partial")
    stale_dir = tmp_path / ".entry.123.456.tmp"
    (stale_dir / "sub").mkdir(parents=True)
    for p in (stale_file, stale_dir):
        os.utime(p, (old, old))
    young = tmp_path / ".meta.json.xyz.tmp"  # a concurrent writer's, still running
    young.write_bytes(b"{")
    keep = [tmp_path / "chunk_00000.npy", tmp_path / "notes.tmp", tmp_path / ".hidden"]
    for p in keep:
        p.write_bytes(b"x")
        os.utime(p, (old, old))
    assert remove_stale_temporaries(tmp_path) == 2
    assert not stale_file.exists() and not stale_dir.exists()
    assert young.exists() and all(p.exists() for p in keep)
    assert remove_stale_temporaries(tmp_path / "absent") == 0


def test_feature_cache_cleans_a_killed_extractions_leftovers(tmp_path):
    """Every cache cleans up, not only the resources: here the feature cache's entry folder."""
    import os
    import time

    import numpy as np

    from neighborlib import features as F
    from neighborlib.data.synthetic import make_synthetic_world

    world = make_synthetic_world(4, seed=0, image_size=64, cache_dir=tmp_path / "photos")
    X = F.dataset_features(world, resolution=64, cache_dir=tmp_path / "f", progress=False)
    (entry,) = (tmp_path / "f" / "synthetic").iterdir()
    leftover = entry / ".chunk_00000.npy.dead.tmp"
    leftover.write_bytes(b"\x93NUMPY partial")
    old = time.time() - 2 * 3600
    os.utime(leftover, (old, old))
    again = F.dataset_features(world, resolution=64, cache_dir=tmp_path / "f", progress=False)
    np.testing.assert_array_equal(X, again)
    assert not leftover.exists()
