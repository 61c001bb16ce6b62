"""A few real photographs that ship inside scikit-image's wheel (no download).

Used to check a pretrained backbone on real photos wherever no photo set is under the
data root (the MIRFlickr-25K copy here has tags and labels only).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["SAMPLE_PHOTOS", "sample_photo_paths", "sample_photos"]

#: display name -> file name inside ``skimage/data``; all are bundled in the wheel
SAMPLE_PHOTOS: dict[str, str] = {
    "chelsea (a cat)": "chelsea.png",
    "coffee": "coffee.png",
    "motorcycle": "motorcycle_left.png",
    "rocket": "rocket.jpg",
    "astronaut": "astronaut.png",
}


def sample_photo_paths() -> dict[str, Path]:
    """Paths of the bundled sample photos, keyed by display name.

    Raises:
        FileNotFoundError: naming the file, if an installed scikit-image lacks one.
    """
    import skimage.data

    folder = Path(skimage.data.__file__).parent
    paths = {name: folder / fname for name, fname in SAMPLE_PHOTOS.items()}
    for path in paths.values():
        if not path.is_file():
            raise FileNotFoundError(f"scikit-image sample photo {path} is missing from the installed wheel")
    return paths


def sample_photos() -> dict[str, np.ndarray]:
    """The bundled sample photos as ``(H, W, 3)`` uint8 RGB arrays, keyed by display name."""
    return {name: np.asarray(Image.open(p).convert("RGB")) for name, p in sample_photo_paths().items()}
