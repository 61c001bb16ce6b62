"""Root test configuration: what nbval's kernels see.

``tests/conftest.py`` points ``NEIGHBORLIB_CACHE`` at a throw-away test cache, for the whole
test process. nbval's kernels inherit the environment when it starts them, and the chapters
must run as ``make book`` runs them: with the book's cache, where ``make features`` rendered
the synthetic photos and extracted their features. In the test cache, the synthetic-kinds
photos sit at other paths, so their features were extracted again inside the kernel, at one
thread instead of two. They differed by 6e-6 and moved page 03b's Table 4 in the third digit.
While a notebook's kernel starts, the variable is therefore put back to what it was before
the tests changed it.
"""
from __future__ import annotations

import os

import pytest

#: ``NEIGHBORLIB_CACHE`` as the test run found it ("" for unset). This file is imported before
#: tests/conftest.py; xdist workers inherit the controller's environment after tests/conftest.py
#: has changed it, so the original value travels in a variable of its own.
_BOOK_CACHE = os.environ.setdefault("_NEIGHBORLIB_BOOK_CACHE", os.environ.get("NEIGHBORLIB_CACHE", "")) or None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    if not str(item.fspath).endswith(".ipynb"):
        yield
        return
    saved = os.environ.get("NEIGHBORLIB_CACHE")
    if _BOOK_CACHE is None:
        os.environ.pop("NEIGHBORLIB_CACHE", None)
    else:
        os.environ["NEIGHBORLIB_CACHE"] = _BOOK_CACHE
    try:
        yield  # nbval starts the notebook's kernel while its first cell is set up
    finally:
        if saved is None:
            os.environ.pop("NEIGHBORLIB_CACHE", None)
        else:
            os.environ["NEIGHBORLIB_CACHE"] = saved
