"""Atomic file writes for every cache the library keeps (features, photos, graphs, manifests).

A reader sees either the old file or the complete new one, never a partial write: the
data goes to a temporary file in the same folder (``.<name>.<random>.tmp``), which is then
renamed over the target with ``os.replace``. On any failure the temporary file is removed.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any], durable: bool = True) -> None:
    """Write ``path`` atomically.

    Args:
        path: the target file; its folder must exist.
        write: called with a binary file object to write the content into.
        durable: ``fsync`` before the rename, so the content survives a crash too. Files
            that are cheap to regenerate and validated on reuse may skip it.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; cache files are ordinary files
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
