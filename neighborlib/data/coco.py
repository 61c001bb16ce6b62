"""MS-COCO (2014/2017) in its official layout, with captions as user metadata.

Expected under ``root``::

    annotations/instances_<split>.json   images, categories, instance annotations
    annotations/captions_<split>.json    five captions per image (optional)
    <split>/<file_name>                  the photos (optional; names from the JSON)

Conventions:

* Images are those of the ``"images"`` list of ``instances_<split>.json``, sorted
  by COCO image id; ``ids`` are the COCO image ids.
* Labels are the instance categories (80 in COCO), columns in category-id order,
  named as in the file (``"traffic light"`` keeps its space). An image carries a
  label when it has at least one instance annotation of it (crowd ones included).
* ``metadata["captions"]``: caption words as metadata, the way MangoNet uses MS-COCO.
  Every caption of an image (in annotation-id order) is lower-cased and split on
  non-letters; English stop words (:data:`STOP_WORDS`) and one-letter tokens are
  dropped; each word is kept once per image, in order of first appearance. Then
  only the ``tau`` most frequent words over the loaded split are kept (document
  frequency, ties alphabetical); the kept words in rank order are in
  ``extras["caption_vocabulary"]``. Pass that as ``vocabulary=`` when loading
  another split so both use the training vocabulary.
* Without ``captions_<split>.json`` the dataset has no metadata and says so.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .base import DataFormatError, SocialImageDataset, photo_paths, photos_note

__all__ = ["STOP_WORDS", "caption_words", "load_coco"]

#: A modest English stop-word list for captions (articles, pronouns, auxiliaries,
#: prepositions, conjunctions and a few caption fillers). Not scikit-learn's
#: ``ENGLISH_STOP_WORDS``: that list (318 words, for topic-style text) drops content words
#: that COCO captions use to say what and where things are - in the 25,014 val2017
#: captions "top" occurs in 948, "front" in 820, "side" in 553, "fire" (as in fire hydrant,
#: a label) in 287, "back" in 207, "full" in 187 and "empty" in 131.
STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all am an and any are as at be been being below
    between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself
    yourselves onto upon near next beside behind toward towards across along around inside
    outside another one two three four five several many lot lots also
    """.split()
)

_WORD = re.compile(r"[^\W\d_]+")


def caption_words(text: str, stop_words: frozenset[str] = STOP_WORDS) -> list[str]:
    """Lower-cased letter runs of ``text`` without stop words and one-letter tokens."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in stop_words]


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"MS-COCO: no annotation file {path}") from None
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as exc:
        raise DataFormatError(path, f"malformed JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataFormatError(path, "not valid UTF-8 JSON", line) from None
    if not isinstance(obj, dict):
        raise DataFormatError(path, "expected a JSON object at the top level")
    return obj


def _records(path: Path, obj: dict[str, Any], key: str, fields: Sequence[str]) -> list[dict[str, Any]]:
    """``obj[key]``: a list of objects that each have ``fields``."""
    items = obj.get(key)
    if not isinstance(items, list):
        raise DataFormatError(path, f"no {key!r} list")
    for k, item in enumerate(items):
        if not isinstance(item, dict) or any(f not in item for f in fields):
            raise DataFormatError(path, f"{key}[{k}] lacks one of the fields {list(fields)}")
    return items


def _int_id(path: Path, value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataFormatError(path, f"{what} must be an integer, got {value!r}")
    return value


def load_coco(
    root: Path,
    split: str = "train2014",
    tau: int | None = 1000,
    stop_words: frozenset[str] | None = None,
    image_dir: Path | None = None,
    vocabulary: Sequence[str] | None = None,
) -> SocialImageDataset:
    """Load MS-COCO instance labels and caption-word metadata.

    Args:
        root: the dataset folder (see the module docstring for the layout).
        split: e.g. ``"train2014"``, ``"val2014"``, ``"train2017"``.
        tau: keep the ``tau`` most frequent caption words of this split (``None``: all).
        stop_words: words to drop (default :data:`STOP_WORDS`).
        image_dir: photo folder; default ``root/<split>`` when it exists.
        vocabulary: keep exactly these caption words instead of this split's top
            ``tau`` (e.g. the training split's ``extras["caption_vocabulary"]``).

    Raises:
        DataFormatError: malformed JSON (file and line), or an annotation that refers
            to an unknown image or category (file named).
        FileNotFoundError: a missing instances file or ``image_dir``. Images whose photo is
            not in the photo folder get ``image_paths[i] = None`` (a partial set is normal).
    """
    root = Path(root)
    if tau is not None and tau < 1:
        raise ValueError(f"tau must be positive or None, got {tau}")
    stop = STOP_WORDS if stop_words is None else frozenset(stop_words)
    ann_dir = root / "annotations"
    inst_path = ann_dir / f"instances_{split}.json"
    cap_path = ann_dir / f"captions_{split}.json"

    # --- instances: images, categories, labels --------------------------------------------
    inst = _load_json(inst_path)
    images = _records(inst_path, inst, "images", ("id", "file_name"))
    cats = _records(inst_path, inst, "categories", ("id", "name"))
    anns = _records(inst_path, inst, "annotations", ("image_id", "category_id"))
    images = sorted(images, key=lambda im: _int_id(inst_path, im["id"], "image id"))
    ids = np.array([im["id"] for im in images], dtype=np.int64)
    if len(np.unique(ids)) != len(ids):
        dup = int(ids[np.flatnonzero(np.diff(ids) == 0)[0]])
        raise DataFormatError(inst_path, f"image id {dup} appears twice in 'images'")
    row = {int(i): r for r, i in enumerate(ids)}
    cats = sorted(cats, key=lambda c: _int_id(inst_path, c["id"], "category id"))
    col: dict[int, int] = {}
    for c in cats:
        if c["id"] in col:
            raise DataFormatError(inst_path, f"category id {c['id']} appears twice in 'categories'")
        col[c["id"]] = len(col)
    label_names = tuple(str(c["name"]) for c in cats)
    labels = np.zeros((len(ids), len(cats)), dtype=np.uint8)
    for k, a in enumerate(anns):
        r = row.get(a["image_id"]) if isinstance(a["image_id"], int) else None
        if r is None:
            raise DataFormatError(
                inst_path, f"annotations[{k}] (id {a.get('id')}) refers to unknown image id {a['image_id']!r}"
            )
        j = col.get(a["category_id"]) if isinstance(a["category_id"], int) else None
        if j is None:
            raise DataFormatError(
                inst_path,
                f"annotations[{k}] (id {a.get('id')}) refers to unknown category id {a['category_id']!r}",
            )
        labels[r, j] = 1

    # --- captions -------------------------------------------------------------------------
    metadata: dict[str, list[tuple[str, ...]]] = {}
    kept: tuple[str, ...] = ()
    if cap_path.is_file():
        cap = _load_json(cap_path)
        caps = _records(cap_path, cap, "annotations", ("image_id", "caption"))
        caps = sorted(caps, key=lambda a: (a.get("id") if isinstance(a.get("id"), int) else 0))
        words: list[dict[str, None]] = [{} for _ in range(len(ids))]
        for k, a in enumerate(caps):
            r = row.get(a["image_id"]) if isinstance(a["image_id"], int) else None
            if r is None:
                raise DataFormatError(
                    cap_path,
                    f"caption id {a.get('id')} refers to image id {a['image_id']!r}, which is not in "
                    f"the images of {inst_path.name}",
                )
            if not isinstance(a["caption"], str):
                raise DataFormatError(cap_path, f"caption id {a.get('id')} is not a string")
            for w in caption_words(a["caption"], stop):
                words[r][w] = None
        if vocabulary is not None:
            kept = tuple(dict.fromkeys(vocabulary))
        else:
            df = Counter(w for ws in words for w in ws)
            ranked = sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))
            kept = tuple(w for w, _ in (ranked if tau is None else ranked[:tau]))
        keep = set(kept)
        metadata["captions"] = [tuple(w for w in ws if w in keep) for ws in words]

    # --- photos ---------------------------------------------------------------------------
    image_paths = None
    folder = Path(image_dir) if image_dir is not None else root / split
    if image_dir is not None and not folder.is_dir():
        raise FileNotFoundError(f"MS-COCO image_dir {folder} is not a folder")
    if folder.is_dir():
        image_paths = photo_paths(folder, [str(im["file_name"]) for im in images])

    if metadata:
        meta_note = f"caption words ({len(kept):,}-word vocabulary)"
    else:
        meta_note = f"no captions ({cap_path.name} absent)"
    photos = photos_note(image_paths, folder, root)
    description = f"MS-COCO {split} (real): {len(ids):,} images, {len(label_names)} labels, {meta_note}, {photos}"
    return SocialImageDataset(
        name="coco",
        ids=ids,
        label_names=label_names,
        labels=labels,
        metadata=metadata,
        image_paths=image_paths,
        synthetic=False,
        root=root,
        description=description,
        photo_dir=folder if image_paths is not None else None,
        extras={"split": split, "caption_vocabulary": kept, "category_ids": tuple(col)},
    )
