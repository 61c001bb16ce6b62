"""Where real data is read from.

Order: an explicit argument, then the ``NEIGHBORLIB_DATA`` environment variable,
then ``../shared/data`` beside the project checkout when that folder exists (an installed
package, outside a checkout, has no default: see :mod:`neighborlib.paths`).
Nothing is ever downloaded; without a data root the book runs on the synthetic world.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PROJECT_ROOT", "cache_root", "data_root", "describe_data_root", "display_path"]

from ..paths import checkout_root, default_cache_dir

#: The project checkout (``None`` for an installed package); see :mod:`neighborlib.paths`.
PROJECT_ROOT = checkout_root()
ENV_VAR = "NEIGHBORLIB_DATA"


def data_root(explicit: str | os.PathLike | None = None) -> Path | None:
    """The data root in force, or ``None`` when no real data is available.

    Raises:
        FileNotFoundError: if a root is named explicitly or by ``NEIGHBORLIB_DATA``
            but does not exist (a typo should not silently fall back to synthetic data).
    """
    for source, value in (("data_root argument", explicit), (ENV_VAR, os.environ.get(ENV_VAR))):
        if value not in (None, ""):
            path = Path(value).expanduser().resolve()
            if not path.is_dir():
                raise FileNotFoundError(f"{source} points at {path}, which is not a folder")
            return path
    if PROJECT_ROOT is None:
        return None
    default = (PROJECT_ROOT.parent / "shared" / "data").resolve()
    return default if default.is_dir() else None


def display_path(path: str | os.PathLike, base: str | os.PathLike) -> str:
    """``path`` relative to ``base`` when inside it, else its last component.

    Descriptions and notebook outputs show this instead of absolute paths, so that a
    committed output does not depend on the machine that produced it.
    """
    path, base = Path(path), Path(base)
    try:
        return path.relative_to(base).as_posix() or "."
    except ValueError:
        return path.name


def cache_root() -> Path:
    """Folder for derived, regenerable files (rendered synthetic photos, features).

    ``NEIGHBORLIB_CACHE`` if set, else ``<checkout>/.cache`` in a project checkout, else the
    user cache directory (:func:`neighborlib.paths.default_cache_dir`). Never inside the
    data root.
    """
    value = os.environ.get("NEIGHBORLIB_CACHE")
    path = Path(value).expanduser() if value else default_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def describe_data_root(explicit: str | os.PathLike | None = None) -> str:
    """A Markdown paragraph saying which data a build or run uses.

    Lists each dataset folder under the data root with the title line of its
    ``SOURCE.md``; says plainly when there is none and the synthetic world is used.
    """
    root = data_root(explicit)
    if root is None:
        return (
            "**No real data was found** (no `NEIGHBORLIB_DATA` and no `../shared/data` beside the "
            "project). Every chapter of this build ran on the **SYNTHETIC social-image world** that "
            "`neighborlib.data.synthetic` generates from a seed; its numbers say nothing about real photos."
        )
    beside = PROJECT_ROOT is not None and root == (PROJECT_ROOT.parent / "shared" / "data").resolve()
    shown = "../shared/data` (beside the project" if beside else f"{root.name}` (the data root"
    lines = [f"This build read real data from `{shown}):", ""]
    found = False
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        source = folder / "SOURCE.md"
        title = ""
        if source.is_file():
            first = source.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            title = first[0].lstrip("# ").strip() if first else ""
        lines.append(f"- `{folder.name}/`" + (f": {title}" if title else ""))
        found = True
    if not found:
        lines.append("- (the folder is empty: chapters fall back to the SYNTHETIC world)")
    return "\n".join(lines)
