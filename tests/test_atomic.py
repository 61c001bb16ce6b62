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
