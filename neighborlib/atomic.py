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

__all__ = ["STALE_AFTER_S", "atomic_write", "remove_stale_temporaries"]


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


#: A temporary file older than this (seconds) belongs to a write that was killed
#: (SIGKILL, power loss), never to one still running: every cache write takes seconds.
STALE_AFTER_S = 3600.0


def remove_stale_temporaries(folder: str | os.PathLike, max_age_s: float = STALE_AFTER_S) -> int:
    """Remove the leftovers of killed writes in ``folder``: ``.<name>.*.tmp`` files or folders
    (the names :func:`atomic_write` and the folder writers use) last modified over
    ``max_age_s`` seconds ago. Younger ones may belong to a concurrent writer and stay.

    Returns:
        How many were removed (0 when ``folder`` does not exist).
    """
    import shutil
    import time

    folder = Path(folder)
    if not folder.is_dir():
        return 0
    now, removed = time.time(), 0
    for entry in folder.iterdir():
        if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
            continue
        try:
            if now - entry.lstat().st_mtime <= max_age_s:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except FileNotFoundError:  # another process cleaned it first
            continue
    return removed
