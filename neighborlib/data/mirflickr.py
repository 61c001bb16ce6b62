"""MIRFlickr-25K in its official layout.

Expected under ``root`` (the official ``mirflickr25k.zip`` and
``mirflickr25k_annotations_v080.zip`` unpacked side by side)::

    annotations/<label>.txt        one image number (1..25000) per line
    annotations/<label>_r1.txt     the "relevant" variant of 14 of the labels
    meta/tags/tags<N>.txt          processed user tags of image N, one per line
    mirflickr/im<N>.jpg            the photos (optional)

``mirflickr/meta/tags/`` and ``mirflickr25k_annotations_v080/`` are accepted
in place of ``meta/tags/`` and ``annotations/``. ``README*`` files in the
annotations folder are ignored.

Conventions:

* ``ids`` are the official image numbers ``1..n_images`` (``ids[i] == i + 1``).
* Label columns are in alphabetical file-name order (``baby`` before ``baby_r1``).
* ``metadata["tags"][i]`` is the tuple of tags of image ``i + 1`` in file order,
  with repeats dropped (the first occurrence is kept). An image without a
  ``tags<N>.txt`` file has no tags (an empty tuple): the official distribution
  has a file for every image, but a redistribution may omit the empty ones.
* Every ``<label>_r1`` annotation must also carry ``<label>`` whenever both
  files exist, whichever ``label_set`` is loaded. One known exception is let
  through (see :data:`KNOWN_LABEL_ERRATA`): four images annotated ``people_r1``
  but not ``people`` in the annotation files we have; the labels are kept as
  the files say and the exception is listed in ``extras["errata"]``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from .base import DataFormatError, SocialImageDataset, decode_utf8, photo_paths, photos_note

__all__ = [
    "MIRFLICKR_POTENTIAL_LABELS",
    "MIRFLICKR_RELEVANT_LABELS",
    "KNOWN_LABEL_ERRATA",
    "LABEL_SETS",
    "RELEVANT_SUFFIX",
    "load_mirflickr25k",
]

#: The 24 "potential" labels of MIRFlickr-25K (annotation file stems, alphabetical).
MIRFLICKR_POTENTIAL_LABELS: tuple[str, ...] = (
    "animals", "baby", "bird", "car", "clouds", "dog", "female", "flower", "food", "indoor",
    "lake", "male", "night", "people", "plant_life", "portrait", "river", "sea", "sky",
    "structures", "sunset", "transport", "tree", "water",
)  # fmt: skip

#: The 14 "relevant" labels (``<label>_r1``): the label is salient, not merely visible.
MIRFLICKR_RELEVANT_LABELS: tuple[str, ...] = (
    "baby_r1", "bird_r1", "car_r1", "clouds_r1", "dog_r1", "female_r1", "flower_r1", "male_r1",
    "night_r1", "people_r1", "portrait_r1", "river_r1", "sea_r1", "tree_r1",
)  # fmt: skip

LABEL_SETS = ("potential", "relevant", "all")

#: ``<label>_r1`` -> image numbers known to be annotated ``<label>_r1`` but not ``<label>``
#: in the annotation files at hand (``people_r1``: 4 of its 7,849 images). Only these
#: exact images are tolerated by the subset check; any other disagreement raises.
KNOWN_LABEL_ERRATA: dict[str, frozenset[int]] = {
    "people_r1": frozenset({4252, 4262, 20392, 24768}),
}

#: The file-name suffix of the 14 "relevant" labels (``people_r1`` ...).
RELEVANT_SUFFIX = "_r1"
_TAGS_NAME = re.compile(r"tags(\d+)\.txt")
_IMAGE_NAME = re.compile(r"im(\d+)\.jpg")


def _first_existing(candidates: list[Path]) -> Path | None:
    for path in candidates:
        if path.is_dir():
            return path
    return None


def _read_annotation(path: Path, n_images: int) -> tuple[np.ndarray, np.ndarray]:
    """Image numbers listed in one annotation file, and the 1-based line of each."""
    text = decode_utf8(path, path.read_bytes())
    numbers: list[int] = []
    lines: list[int] = []
    seen: dict[int, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        if not s:
            continue
        if not (s.isascii() and s.isdigit()):
            raise DataFormatError(path, f"expected an image number, got {s[:40]!r}", lineno)
        n = int(s)
        if not 1 <= n <= n_images:
            raise DataFormatError(path, f"image number {n} is outside 1..{n_images}", lineno)
        if n in seen:
            raise DataFormatError(path, f"image {n} is listed twice (first on line {seen[n]})", lineno)
        seen[n] = lineno
        numbers.append(n)
        lines.append(lineno)
    return np.asarray(numbers, dtype=np.int64), np.asarray(lines, dtype=np.int64)


def _read_tags(path: Path) -> tuple[str, ...]:
    data = path.read_bytes()
    if not data:
        return ()
    text = decode_utf8(path, data)
    tags: dict[str, None] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        tag = raw.strip()
        if not tag:
            continue
        if len(tag.split()) != 1:
            raise DataFormatError(path, f"a tag must be one word, got {tag[:60]!r}", lineno)
        tags[tag] = None
    return tuple(tags)


def _label_files(ann_dir: Path) -> dict[str, Path]:
    """Label name -> annotation file, alphabetical by file name; README files skipped.

    Raises:
        DataFormatError: a ``.txt`` file that is not one of the 38 official label files
            (a stray file would otherwise become a label column).
    """
    official = set(MIRFLICKR_POTENTIAL_LABELS) | set(MIRFLICKR_RELEVANT_LABELS)
    files = {}
    for entry in sorted(os.scandir(ann_dir), key=lambda e: e.name):
        name = entry.name
        if not name.endswith(".txt") or name.lower().startswith("readme") or not entry.is_file():
            continue
        label = name[: -len(".txt")]
        if label not in official:
            raise DataFormatError(
                entry.path,
                f"not one of MIRFlickr-25K's {len(official)} label files ({', '.join(sorted(official)[:4])}, ...); "
                "move it out of the annotations folder",
            )
        files[label] = Path(entry.path)
    return files


def _find_image_dir(root: Path, image_dir: Path | None, require: bool) -> Path | None:
    if image_dir is not None:
        image_dir = Path(image_dir)
        if not image_dir.is_dir():
            raise FileNotFoundError(f"MIRFlickr image_dir {image_dir} is not a folder")
        return image_dir
    candidates = [root / "images", root / "mirflickr", root]
    for folder in candidates:
        if not folder.is_dir():
            continue
        with os.scandir(folder) as it:
            if any(_IMAGE_NAME.fullmatch(e.name) for e in it):
                return folder
    if require:
        raise FileNotFoundError(
            "require_images=True but no folder with MIRFlickr photos (im<N>.jpg) was found; looked in "
            + ", ".join(str(c) for c in candidates)
        )
    return None


def load_mirflickr25k(
    root: Path,
    label_set: str = "potential",
    n_images: int = 25000,
    image_dir: Path | None = None,
    require_images: bool = False,
) -> SocialImageDataset:
    """Load MIRFlickr-25K labels, user tags and (when present) photo paths.

    Args:
        root: the dataset folder (see the module docstring for the layout).
        label_set: ``"potential"`` (the 24 base labels), ``"relevant"`` (the 14
            ``<label>_r1`` labels) or ``"all"`` (38 columns).
        n_images: size of the collection (25,000 for the official download); image
            numbers in the files must lie in ``1..n_images``. To work on fewer
            images load everything and call :meth:`SocialImageDataset.subset`.
        image_dir: folder holding ``im<N>.jpg``; default: the first of
            ``root/images``, ``root/mirflickr``, ``root`` that holds any.
        require_images: raise if no photo folder is found.

    Returns:
        A dataset with ``ids = 1..n_images``, binary labels, ``metadata["tags"]``
        and ``image_paths`` (``None`` when there is no photo folder; ``None`` for each image
        whose ``im<N>.jpg`` is not in the folder - a partial photo set is normal).

    Raises:
        DataFormatError: a malformed annotation or tags file, or ``<label>_r1`` and
            ``<label>`` files that disagree (the message names file and line).
        FileNotFoundError: a missing annotation or tags folder, or ``require_images`` without photos.
    """
    root = Path(root)
    if label_set not in LABEL_SETS:
        raise ValueError(f"label_set must be one of {LABEL_SETS}, got {label_set!r}")
    if int(n_images) < 1:
        raise ValueError(f"n_images must be positive, got {n_images}")
    n_images = int(n_images)

    ann_dir = _first_existing([root / "annotations", root / "mirflickr25k_annotations_v080"])
    if ann_dir is None:
        raise FileNotFoundError(f"MIRFlickr-25K: no annotation folder {root / 'annotations'}")
    tags_dir = _first_existing([root / "meta" / "tags", root / "mirflickr" / "meta" / "tags"])
    if tags_dir is None:
        raise FileNotFoundError(f"MIRFlickr-25K: no tags folder {root / 'meta' / 'tags'}")

    # --- labels ---------------------------------------------------------------------------
    files = _label_files(ann_dir)
    parsed = {name: _read_annotation(path, n_images) for name, path in files.items()}
    errata: list[str] = []
    for name in files:
        if not name.endswith(RELEVANT_SUFFIX):
            continue
        base = name[: -len(RELEVANT_SUFFIX)]
        if base not in files:
            continue
        numbers, lines = parsed[name]
        outside = ~np.isin(numbers, parsed[base][0])
        known = KNOWN_LABEL_ERRATA.get(name, frozenset())
        tolerated = outside & np.isin(numbers, list(known))
        if tolerated.any():
            errata.append(
                f"{files[name].name}: images {sorted(int(n) for n in numbers[tolerated])} are "
                f"'{name}' but not '{base}' (known discrepancy, kept as annotated)"
            )
        outside &= ~tolerated
        if outside.any():
            k = int(np.argmax(outside))
            raise DataFormatError(
                files[name],
                f"label files that disagree: image {int(numbers[k])} is annotated '{name}' but not "
                f"'{base}' in {files[base]} (every '{name}' image must also be '{base}'); "
                f"{int(outside.sum())} such images",
                int(lines[k]),
            )
    if label_set == "potential":
        names = [n for n in files if not n.endswith(RELEVANT_SUFFIX)]
    elif label_set == "relevant":
        names = [n for n in files if n.endswith(RELEVANT_SUFFIX)]
    else:
        names = list(files)
    if not names:
        raise FileNotFoundError(f"MIRFlickr-25K: no {label_set} label files (<label>.txt) in {ann_dir}")
    labels = np.zeros((n_images, len(names)), dtype=np.uint8)
    for j, name in enumerate(names):
        labels[parsed[name][0] - 1, j] = 1

    # --- tags -----------------------------------------------------------------------------
    tags: list[tuple[str, ...]] = [()] * n_images
    n_files = 0
    with os.scandir(tags_dir) as it:
        entries = [(m, e.path) for e in it if (m := _TAGS_NAME.fullmatch(e.name))]
    for m, path in entries:
        n = int(m.group(1))
        if not 1 <= n <= n_images:
            raise DataFormatError(path, f"tags file for image {n}, outside 1..{n_images}")
        tags[n - 1] = _read_tags(Path(path))
        n_files += 1
    n_tagged = sum(1 for t in tags if t)

    # --- photos ---------------------------------------------------------------------------
    image_paths = None
    folder = _find_image_dir(root, image_dir, require_images)
    if folder is not None:
        image_paths = photo_paths(folder, [f"im{n}.jpg" for n in range(1, n_images + 1)])
    photos = photos_note(image_paths, folder, root)
    description = (
        f"MIRFlickr-25K (real): {n_images:,} images, {len(names)} labels, user tags for "
        f"{n_tagged:,} images ({n_files:,} tag files), {photos}"
    )
    if errata:
        description += f"; {len(errata)} known data errata handled (see extras['errata'])"
    return SocialImageDataset(
        name="mirflickr25k",
        ids=np.arange(1, n_images + 1, dtype=np.int64),
        label_names=tuple(names),
        labels=labels,
        metadata={"tags": tags},
        image_paths=image_paths,
        synthetic=False,
        root=root,
        description=description,
        photo_dir=folder,
        extras={
            "label_set": label_set,
            "annotation_dir": ann_dir,
            "tags_dir": tags_dir,
            "n_tag_files": n_files,
            "image_dir": folder,
            "errata": tuple(errata),
        },
    )
