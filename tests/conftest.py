"""Shared test configuration.

The committed notebook outputs were computed on the real data; nbval re-executes the
notebooks and compares, so without the real data under the data root those items are
skipped with a stated reason (the synthetic papermill runs in test_notebooks.py still run).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from neighborlib.data import data_root

PROJECT = Path(__file__).resolve().parents[1]

# Tests must never depend on the developer's cache; each session gets its own.
os.environ.setdefault("NEIGHBORLIB_CACHE", str(PROJECT / "_build" / "test-cache"))


def real_data_folder(name: str) -> Path | None:
    root = data_root()
    if root is None or not (root / name).is_dir():
        return None
    return root / name


def pytest_collection_modifyitems(config, items):
    mirflickr = real_data_folder("mirflickr25k")
    for item in items:
        if str(item.fspath).endswith(".ipynb") and mirflickr is None:
            item.add_marker(
                pytest.mark.skip(
                    reason="nbval: committed outputs were computed on the real MIRFlickr-25K data, "
                    "which is not under the data root (set NEIGHBORLIB_DATA or place ../shared/data)"
                )
            )
        if "realdata" in item.keywords and mirflickr is None:
            item.add_marker(pytest.mark.skip(reason="real MIRFlickr-25K data not under the data root"))


def require_real_data(name: str) -> Path:
    """The real dataset folder ``<data root>/<name>``; skips the calling test with a reason if absent."""
    folder = real_data_folder(name)
    if folder is None:
        pytest.skip(f"real {name} data not under the data root (set NEIGHBORLIB_DATA or place ../shared/data)")
    return folder


@pytest.fixture(scope="session")
def wordnet_root() -> Path:
    """The WordNet resource folder: ``$NEIGHBORLIB_WORDNET_ROOT``, else the one ``make resources``
    fetched; the test is skipped without either."""
    env = os.environ.get("NEIGHBORLIB_WORDNET_ROOT")
    if env:
        return Path(env)
    try:
        from neighborlib.resources import resource_dir

        return Path(resource_dir("wordnet"))
    except Exception as exc:  # the resource package is not installed / not unpacked
        pytest.skip(f"WordNet resource unavailable: {exc!r}")
