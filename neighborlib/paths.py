"""Where the project's own files live: the checkout, when the package runs from one, and caches.

Defined once here (and light: nothing heavy is imported), used by the data root, the cache
of derived files and the resources:

- :func:`checkout_root` is the project checkout that holds this package (an editable
  install or ``PYTHONPATH``), recognised by its ``pyproject.toml`` and ``notebooks/``;
  ``None`` for an installed package (site-packages), whose caches then never land inside
  the installation.
- :func:`default_cache_dir` is ``<checkout>/.cache`` in a checkout, else the user cache
  directory of the platform (``platformdirs.user_cache_dir("neighborlib")``, e.g.
  ``~/.cache/neighborlib`` on Linux). ``NEIGHBORLIB_CACHE`` overrides it
  (:func:`neighborlib.data.root.cache_root`).
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["PACKAGE_DIR", "checkout_root", "default_cache_dir"]

#: The ``neighborlib`` package folder.
PACKAGE_DIR = Path(__file__).resolve().parent


def checkout_root(package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The project checkout that contains ``package_dir``, or ``None`` for an installed package."""
    root = package_dir.parent
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir():
        return root
    return None


def default_cache_dir(package_dir: Path = PACKAGE_DIR) -> Path:
    """``<checkout>/.cache`` in a checkout, else the platform's user cache for ``neighborlib``."""
    root = checkout_root(package_dir)
    if root is not None:
        return root / ".cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("neighborlib"))
