"""The real sample photos bundled with scikit-image (used to check the backbone)."""
from __future__ import annotations

import numpy as np
import pytest

from neighborlib.data import samples


def test_sample_photos_are_rgb_uint8():
    photos = samples.sample_photos()
    assert list(photos) == list(samples.SAMPLE_PHOTOS)
    assert photos["chelsea (a cat)"].shape == (300, 451, 3)
    for img in photos.values():
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and img.std() > 10


def test_missing_sample_photo_is_named(monkeypatch):
    monkeypatch.setitem(samples.SAMPLE_PHOTOS, "nothing", "no_such_photo.png")
    with pytest.raises(FileNotFoundError, match="no_such_photo.png"):
        samples.sample_photo_paths()
