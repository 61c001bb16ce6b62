"""Datasets: official-layout loaders, the synthetic world, splits and vocabularies."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .base import DataFormatError, MissingPhotoError, SocialImageDataset
from .root import cache_root, data_root, describe_data_root
from .splits import Split, random_splits
from .vocab import Vocabulary, document_frequency, simple_lemmatise, vocabulary_shift

__all__ = [
    "DATASETS",
    "DataFormatError",
    "MissingPhotoError",
    "SocialImageDataset",
    "Split",
    "Vocabulary",
    "cache_root",
    "data_root",
    "describe_data_root",
    "document_frequency",
    "load_dataset",
    "random_splits",
    "resolve_dataset_name",
    "simple_lemmatise",
    "vocabulary_shift",
]

#: dataset name -> folder name under the data root (``None``: generated, needs no folder)
DATASETS: dict[str, str | None] = {
    "mirflickr25k": "mirflickr25k",
    "nuswide": "nuswide",
    "coco": "coco",
    "synthetic": None,
}


def resolve_dataset_name(name: str, root: str | os.PathLike | None = None) -> str:
    """Turn ``"auto"`` into a concrete dataset: MIRFlickr-25K when its folder exists, else synthetic."""
    if name != "auto":
        if name not in DATASETS:
            raise ValueError(f"unknown dataset {name!r}; choose one of {['auto', *DATASETS]}")
        return name
    base = data_root(root)
    return "mirflickr25k" if base is not None and (base / "mirflickr25k").is_dir() else "synthetic"


def load_dataset(name: str = "auto", root: str | os.PathLike | None = None, **kwargs: Any) -> SocialImageDataset:
    """Load a dataset by name from the data root (see :func:`data_root`).

    Args:
        name: ``"mirflickr25k"``, ``"nuswide"``, ``"coco"``, ``"synthetic"`` or ``"auto"``.
        root: the data root; overrides ``NEIGHBORLIB_DATA`` (see :func:`data_root`).
        **kwargs: passed to the loader (e.g. ``n_images`` and ``seed`` for the synthetic world).
    """
    name = resolve_dataset_name(name, root)
    if name == "synthetic":
        from .synthetic import make_synthetic_world

        return make_synthetic_world(**kwargs)
    base = data_root(root)
    if base is None:
        raise FileNotFoundError(
            f"dataset {name!r} needs a data root: set NEIGHBORLIB_DATA or pass data_root "
            "(or use dataset='synthetic')"
        )
    folder = Path(base) / DATASETS[name]  # type: ignore[operator]
    if not folder.is_dir():
        raise FileNotFoundError(f"dataset {name!r}: no folder {folder}")
    if name == "mirflickr25k":
        from .mirflickr import load_mirflickr25k

        return load_mirflickr25k(folder, **kwargs)
    if name == "nuswide":
        from .nuswide import load_nuswide

        return load_nuswide(folder, **kwargs)
    from .coco import load_coco

    return load_coco(folder, **kwargs)
