"""NUS-WIDE in its official layout.

Expected under ``root`` (archives as downloaded, or unpacked)::

    Groundtruth.zip             AllLabels/Labels_<concept>.txt            one 0/1 per image
                                TrainTestLabels/Labels_<concept>_Train.txt
                                TrainTestLabels/Labels_<concept>_Test.txt
    ConceptsList.zip            Concepts81.txt                            one concept per line
    ImageList/                  Imagelist.txt, TrainImagelist.txt, TestImagelist.txt (optional)
    NUS_WID_Tags/               All_Tags.txt, or AllTags1k.txt + TagList1k.txt (optional)
    Flickr/<folder>/<file>.jpg  the photos (optional)

Unpacked forms are accepted too: ``Groundtruth/AllLabels/`` or ``AllLabels/`` (and
the same for ``TrainTestLabels/``), ``ConceptsList/Concepts81.txt`` or
``Concepts81.txt``, and ``ImageList.zip`` / ``NUS_WID_Tags.zip`` for the
optional parts. CRLF and LF line endings both work.

Conventions:

* Label columns follow ``Concepts81.txt`` (alphabetical in the official list).
* ``split="all"``: ``ids`` are the 0-based positions in the official image order
  (the order of ``AllLabels`` and ``ImageList/Imagelist.txt``).
* ``split="train"`` / ``"test"``: labels come from ``TrainTestLabels`` (the
  official split). With ``ImageList/`` present, ``ids`` are again positions in the
  official order (``TrainImagelist.txt`` names are looked up in ``Imagelist.txt``);
  without it the mapping is unknown and ``ids`` are the 0-based line numbers of the
  ``_Train`` / ``_Test`` files, so train and test ids then overlap
  (``extras["id_space"]`` says which applies).
* Known erratum: ``TrainTestLabels/Labels_lake_Train.txt`` line 78373 reads
  ``-1130179`` in the official archive. It is read as 0, the only value for which
  Train + Test positives equal ``AllLabels/Labels_lake.txt``'s (checked at load
  time whenever both are present), and listed in ``extras["errata"]``. Any other
  value that is not 0 or 1 raises :class:`DataFormatError`.
"""
from __future__ import annotations

import re
import warnings
import zipfile
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np

from .base import DataFormatError, SocialImageDataset, decode_utf8, photo_paths, photos_note

__all__ = ["KNOWN_LABEL_ERRATA", "SPLITS", "TAG_SOURCES", "load_nuswide"]

SPLITS = ("all", "train", "test")
TAG_SOURCES = ("auto", "all_tags", "1k", "none")

#: (file name, 1-based line) -> (bytes found there in the official archive, value used)
KNOWN_LABEL_ERRATA: dict[tuple[str, int], tuple[bytes, int]] = {
    ("Labels_lake_Train.txt", 78373): (b"-1130179", 0),
}

_PREFIXES = ("Groundtruth/", "ConceptsList/", "ImageList/", "NUS_WID_Tags/", "NUS-WIDE/")


class _Files:
    """Files of one archive or folder, addressed by their relative path (``AllLabels/x.txt``)."""

    def __init__(self, origin: Path, files: dict[str, tuple[Path, Callable[[], bytes]]]):
        self.origin = origin  # the zip or folder, for messages
        self._files = files

    @classmethod
    def from_zip(cls, path: Path) -> "_Files":
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataFormatError(path, f"not a readable zip archive ({exc})") from None
        files = {}
        for info in zf.infolist():
            if info.is_dir():
                continue
            rel = info.filename.replace("\\", "/")
            stripped = True
            while stripped:  # tolerate archives that wrap everything in a folder
                stripped = False
                for prefix in _PREFIXES:
                    if rel.startswith(prefix):
                        rel, stripped = rel[len(prefix) :], True
            files[rel] = (path / info.filename, lambda name=info.filename: zf.read(name))
        return cls(path, files)

    @classmethod
    def from_dir(cls, folder: Path, subdirs: tuple[str, ...]) -> "_Files":
        files = {}
        for sub in subdirs:
            d = folder / sub
            if d.is_dir():
                for p in d.iterdir():
                    if p.is_file():
                        files[f"{sub}/{p.name}"] = (p, p.read_bytes)
        for p in folder.iterdir():
            if p.is_file():
                files[p.name] = (p, p.read_bytes)
        return cls(folder, files)

    def has_dir(self, sub: str) -> bool:
        return any(k.startswith(sub + "/") for k in self._files)

    def find(self, rel: str) -> tuple[Path, Callable[[], bytes]] | None:
        return self._files.get(rel)

    def find_name(self, name: str) -> tuple[Path, Callable[[], bytes]] | None:
        """A file by base name, wherever it sits."""
        for rel, value in self._files.items():
            if rel.rsplit("/", 1)[-1] == name:
                return value
        return None


def _source(root: Path, archive: str, folders: tuple[str, ...], subdirs: tuple[str, ...]) -> _Files | None:
    """The zip ``root/archive`` if present, else the first of ``folders`` that holds any of ``subdirs``."""
    zpath = root / archive
    if zpath.is_file():
        return _Files.from_zip(zpath)
    for name in folders:
        folder = root / name if name else root
        if folder.is_dir():
            files = _Files.from_dir(folder, subdirs)
            if any(files.has_dir(s) for s in subdirs) or not subdirs:
                return files
    return None


def _text_lines(path: Path, data: bytes) -> list[str]:
    return decode_utf8(path, data).splitlines()


def _read_names(path: Path, data: bytes, what: str) -> list[str]:
    """One name per line (concepts, tag list); blank lines skipped, repeats rejected."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(_text_lines(path, data), start=1):
        name = raw.strip()
        if not name:
            continue
        if len(name.split()) != 1:
            raise DataFormatError(path, f"a {what} must be one word, got {name[:60]!r}", lineno)
        if name in seen:
            raise DataFormatError(path, f"{what} {name!r} repeats line {seen[name]}", lineno)
        seen[name] = lineno
        names.append(name)
    if not names:
        raise DataFormatError(path, f"no {what} names")
    return names


def _binary_column(path: Path, data: bytes, errata: list[str]) -> np.ndarray:
    """A ``Labels_*.txt`` file (one 0/1 per line) as a uint8 vector, parsed with numpy."""
    arr = np.frombuffer(data, dtype=np.uint8)
    for width, tail in ((2, b"\n"), (3, b"\r\n")):  # fast paths: "0\n" / "0\r\n" per line
        if arr.size % width == 0:
            rows = arr.reshape(-1, width)
            if (rows[:, 1:] == np.frombuffer(tail, np.uint8)).all():
                digits = rows[:, 0]
                if ((digits == 48) | (digits == 49)).all():
                    return digits - 48
                break
    lines = data.split(b"\n")
    if lines and lines[-1].strip() == b"":
        lines.pop()
    values = np.char.strip(np.array(lines, dtype=bytes)) if lines else np.array([], dtype="S1")
    out = np.zeros(len(lines), dtype=np.uint8)
    out[values == b"1"] = 1
    bad = np.flatnonzero((values != b"0") & (values != b"1"))
    for i in bad:
        found = bytes(values[i])
        known = KNOWN_LABEL_ERRATA.get((path.name, int(i) + 1))
        if known is not None and known[0] == found:
            out[i] = known[1]
            errata.append(f"{path.name} line {i + 1}: {found.decode()!r} read as {known[1]} (known erratum)")
            continue
        raise DataFormatError(path, f"expected 0 or 1, got {found[:40]!r}", int(i) + 1)
    return out


def _read_matrix(files: _Files, kind: str, concepts: list[str], expected_at: Path, errata: list[str]):
    """Columns ``<kind>/Labels_<c>[suffix].txt`` for every concept; kind e.g. ``AllLabels``."""
    sub, suffix = kind.split(":") if ":" in kind else (kind, "")
    cols, paths = [], []
    for c in concepts:
        rel = f"{sub}/Labels_{c}{suffix}.txt"
        hit = files.find(rel)
        if hit is None:
            raise FileNotFoundError(f"NUS-WIDE: concept {c!r} has no label file {expected_at / rel}")
        path, read = hit
        cols.append(_binary_column(path, read(), errata))
        paths.append(path)
    lengths = [len(col) for col in cols]
    expected = Counter(lengths).most_common(1)[0][0]
    for path, n in zip(paths, lengths):
        if n != expected:
            raise DataFormatError(path, f"has {n:,} lines but the other {sub} files have {expected:,}")
    return (np.stack(cols, axis=1) if cols else np.zeros((0, 0), np.uint8)), paths


def _image_key(name: str) -> str:
    """``C:\\ImageData\\Flickr\\actor\\0001_2124494179.jpg`` -> ``actor/0001_2124494179.jpg``."""
    parts = [p for p in re.split(r"[\\/]", name.strip()) if p]
    return "/".join(parts[-2:])


def _read_image_list(path: Path, data: bytes) -> list[str]:
    """Image names, one per line, as ``<folder>/<file>`` keys; blank lines only at the end."""
    lines = _text_lines(path, data)
    while lines and not lines[-1].strip():
        lines.pop()
    keys = []
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            raise DataFormatError(path, "blank line inside the image list", lineno)
        keys.append(_image_key(raw))
    return keys


def _tags_1k(path: Path, data: bytes, taglist: list[str], n: int) -> list[tuple[str, ...]]:
    """``AllTags1k.txt``: one row of ``len(taglist)`` whitespace-separated 0/1 per image."""
    k = len(taglist)
    names = np.array(taglist, dtype=object)
    lines = data.split(b"\n")
    if lines and not lines[-1].strip():
        lines.pop()
    if len(lines) != n:
        raise DataFormatError(path, f"has {len(lines):,} rows but the labels have {n:,} images")
    out: list[tuple[str, ...]] = []
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        row = np.frombuffer(line, dtype=np.uint8)
        if row.size == 2 * k - 1 and np.isin(row[1::2], (32, 9)).all():
            digits = row[0::2]
        else:  # irregular spacing: split properly
            tokens = [t if len(t) == 1 else b"?" for t in line.split()]
            digits = np.array(tokens, dtype="S1").view(np.uint8)
            if digits.size != k:
                raise DataFormatError(path, f"expected {k} values (one per tag), got {digits.size}", lineno)
        ok = (digits == 48) | (digits == 49)
        if not ok.all():
            j = int(np.argmin(ok))
            raise DataFormatError(path, f"value {j + 1} (tag {taglist[j]!r}) is not 0 or 1", lineno)
        out.append(tuple(names[digits == 49]))
    return out


def _all_tags(path: Path, data: bytes, n: int) -> list[tuple[str, ...]]:
    """``All_Tags.txt``: ``<image name> tag1 tag2 ...`` per image, in the official order."""
    lines = _text_lines(path, data)
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) != n:
        raise DataFormatError(path, f"has {len(lines):,} lines but the labels have {n:,} images")
    out = []
    for lineno, raw in enumerate(lines, start=1):
        fields = raw.split()
        if not fields:
            raise DataFormatError(path, "blank line (expected '<image name> tags...')", lineno)
        out.append(tuple(dict.fromkeys(fields[1:])))
    return out


def load_nuswide(
    root: Path,
    split: str = "all",
    n_concepts: int = 81,
    tags: str = "auto",
    image_dir: Path | None = None,
) -> SocialImageDataset:
    """Load NUS-WIDE ground truth, and tags / photo paths when those parts are present.

    Args:
        root: the dataset folder (see the module docstring for the layout).
        split: ``"all"`` (269,648 images), ``"train"`` (161,789) or ``"test"`` (107,859),
            the official split of ``TrainTestLabels``.
        n_concepts: keep the ``n_concepts`` most frequent concepts (positives over all
            images, ties in list order), columns still in ``Concepts81.txt`` order;
            81 (or any number at least the list's length) keeps all; 21 gives the
            common "NUS-WIDE-21" label set.
        tags: ``"auto"`` (``All_Tags.txt`` if present, else ``AllTags1k.txt`` +
            ``TagList1k.txt``, else none), ``"all_tags"``, ``"1k"`` or ``"none"``.
        image_dir: the photo folder (``<folder>/<file>.jpg`` inside); default
            ``root/Flickr`` or ``root/images`` when present. Needs ``ImageList``.

    Raises:
        DataFormatError: a malformed file, or files that disagree in length (the
            message names the file and, where it applies, the line).
        FileNotFoundError: a missing required file (named), or a missing photo.
    """
    root = Path(root)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if tags not in TAG_SOURCES:
        raise ValueError(f"tags must be one of {TAG_SOURCES}, got {tags!r}")
    if n_concepts < 1:
        raise ValueError(f"n_concepts must be positive, got {n_concepts}")
    errata: list[str] = []
    concepts = _read_concepts(root)
    all_m, part = _read_ground_truth(root, split, concepts, errata)
    counts = all_m.sum(0) if all_m is not None else part["Train"].sum(0) + part["Test"].sum(0)
    keep = np.sort(np.argsort(-counts.astype(np.int64), kind="stable")[:n_concepts])
    labels = (all_m if split == "all" else part[split.capitalize()])[:, keep]
    label_names = tuple(concepts[j] for j in keep)
    n_total = len(all_m) if all_m is not None else len(part["Train"]) + len(part["Test"])
    n = len(labels)
    il = _source(root, "ImageList.zip", ("ImageList",), ())
    ids, id_space, keys, all_keys = _image_ids(il, split, n, n_total)
    image_paths, folder = _photo_paths(root, image_dir, keys)
    metadata, tag_note = _read_tags_for(root, tags, split, ids, all_keys, n_total)

    if not metadata and image_paths is None:
        content = "labels only (no tags, no images)"
    else:
        photos = photos_note(image_paths, folder, root) if image_paths is not None else "no images"
        content = f"{tag_note}, {photos}"
    description = f"NUS-WIDE (real): {n:,} images ({split}), {len(label_names)} concepts, {content}"
    if errata:
        description += f"; {len(errata)} known data errata handled (see extras['errata'])"
    return SocialImageDataset(
        name="nuswide",
        ids=ids,
        label_names=label_names,
        labels=labels,
        metadata=metadata,
        image_paths=image_paths,
        synthetic=False,
        root=root,
        description=description,
        photo_dir=folder if image_paths is not None else None,
        extras={"split": split, "id_space": id_space, "errata": tuple(errata), "n_official_images": n_total},
    )


def _read_concepts(root: Path) -> list[str]:
    """The 81 concept names of ``Concepts81.txt`` (in ``ConceptsList.zip`` or a folder)."""
    hit = None
    if (root / "ConceptsList.zip").is_file():
        hit = _Files.from_zip(root / "ConceptsList.zip").find_name("Concepts81.txt")
    for path in (root / "ConceptsList" / "Concepts81.txt", root / "Concepts81.txt"):
        if hit is None and path.is_file():
            hit = (path, path.read_bytes)
    if hit is None:
        raise FileNotFoundError(
            f"NUS-WIDE: no concept list {root / 'ConceptsList.zip'} (or {root / 'Concepts81.txt'})"
        )
    return _read_names(hit[0], hit[1](), "concept")


def _read_ground_truth(
    root: Path, split: str, concepts: list[str], errata: list[str]
) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
    """``(AllLabels matrix or None, {"Train": ..., "Test": ...} when TrainTestLabels exist)``.

    When both are present, the Train and Test files must add up to AllLabels, line count
    and positives per concept (else :class:`DataFormatError` naming the files).
    """
    gt = _source(root, "Groundtruth.zip", ("Groundtruth", ""), ("AllLabels", "TrainTestLabels"))
    if gt is None:
        raise FileNotFoundError(
            f"NUS-WIDE: no ground truth {root / 'Groundtruth.zip'} (or Groundtruth/AllLabels/)"
        )
    gt_at = gt.origin
    have_all, have_tt = gt.has_dir("AllLabels"), gt.has_dir("TrainTestLabels")
    if split == "all" and not have_all:
        raise FileNotFoundError(f"NUS-WIDE: no {gt_at / 'AllLabels'} folder")
    if split != "all" and not have_tt:
        raise FileNotFoundError(f"NUS-WIDE: split={split!r} needs {gt_at / 'TrainTestLabels'}")
    all_m = all_paths = None
    if have_all:
        all_m, all_paths = _read_matrix(gt, "AllLabels", concepts, gt_at, errata)
    part: dict[str, np.ndarray] = {}
    if not have_tt:
        return all_m, part
    part_paths = {}
    for s in ("Train", "Test"):
        part[s], part_paths[s] = _read_matrix(gt, f"TrainTestLabels:_{s}", concepts, gt_at, errata)
    if all_m is None:
        return all_m, part
    for j, c in enumerate(concepts):
        n_tr, n_te, n_all = len(part["Train"]), len(part["Test"]), len(all_m)
        if n_tr + n_te != n_all:
            raise DataFormatError(
                part_paths["Train"][j],
                f"{n_tr:,} Train + {n_te:,} Test lines ({part_paths['Test'][j].name}) do not add up "
                f"to the {n_all:,} lines of {all_paths[j]}",
            )
        pos = (int(part["Train"][:, j].sum()), int(part["Test"][:, j].sum()), int(all_m[:, j].sum()))
        if pos[0] + pos[1] != pos[2]:
            raise DataFormatError(
                part_paths["Train"][j],
                f"{pos[0]:,} Train + {pos[1]:,} Test positives for {c!r} do not add up to the "
                f"{pos[2]:,} positives of {all_paths[j]}",
            )
    return all_m, part


def _image_ids(
    il: "_Files | None", split: str, n: int, n_total: int
) -> tuple[np.ndarray, str, list[str] | None, list[str] | None]:
    """``(ids, what the ids mean, the split's image keys, all image keys)`` from ``ImageList``."""
    all_keys = None
    if il is not None and (hit := il.find_name("Imagelist.txt")) is not None:
        all_keys = _read_image_list(hit[0], hit[1]())
        if len(all_keys) != n_total:
            raise DataFormatError(hit[0], f"lists {len(all_keys):,} images but the labels have {n_total:,}")
    if split == "all":
        return np.arange(n, dtype=np.int64), "position in the official image order", all_keys, all_keys
    if all_keys is None:
        return (np.arange(n, dtype=np.int64),
                f"0-based line of the TrainTestLabels _{split.capitalize()} files (no ImageList)", None, None)
    name = f"{split.capitalize()}Imagelist.txt"
    hit = il.find_name(name)
    if hit is None:
        raise FileNotFoundError(f"NUS-WIDE: ImageList has Imagelist.txt but no {name}")
    keys = _read_image_list(hit[0], hit[1]())
    if len(keys) != n:
        raise DataFormatError(hit[0], f"lists {len(keys):,} images but the {split} labels have {n:,}")
    position = {k: i for i, k in enumerate(all_keys)}
    ids = np.empty(n, dtype=np.int64)
    for i, k in enumerate(keys):
        if k not in position:
            raise DataFormatError(hit[0], f"image {k!r} is not in Imagelist.txt", i + 1)
        ids[i] = position[k]
    return ids, "position in the official image order", keys, all_keys


def _photo_paths(
    root: Path, image_dir: Path | None, keys: list[str] | None
) -> tuple[tuple[Path | None, ...] | None, Path | None]:
    """``(per-image photo path or None, the photo folder)``; a photo missing from the folder
    is a partial set, not an error."""
    folder = None
    if image_dir is not None:
        folder = Path(image_dir)
        if not folder.is_dir():
            raise FileNotFoundError(f"NUS-WIDE image_dir {folder} is not a folder")
        if keys is None:
            raise FileNotFoundError(
                f"NUS-WIDE: photos need the image list {root / 'ImageList' / 'Imagelist.txt'}"
            )
    elif keys is not None:
        folder = next((f for f in (root / "Flickr", root / "images") if f.is_dir()), None)
    if folder is None:
        return None, None
    return photo_paths(folder, keys), folder


def _read_tags_for(
    root: Path, tags: str, split: str, ids: np.ndarray, all_keys: list[str] | None, n_total: int
) -> tuple[dict[str, list[tuple[str, ...]]], str]:
    """``({"tags": per-image tags} or {}, a note for the description)``."""
    if tags == "none":
        return {}, "no tags"
    tsrc = _source(root, "NUS_WID_Tags.zip", ("NUS_WID_Tags",), ())
    all_tags_file = tsrc.find_name("All_Tags.txt") if tsrc is not None else None
    k1 = (None, None)
    if tsrc is not None:
        k1 = (tsrc.find_name("AllTags1k.txt"), tsrc.find_name("TagList1k.txt"))
    if tags in ("auto", "all_tags") and all_tags_file is not None:
        per_image = _all_tags(all_tags_file[0], all_tags_file[1](), n_total)
        tag_note = "tags from All_Tags.txt"
    elif tags in ("auto", "1k") and None not in k1:
        taglist = _read_names(k1[1][0], k1[1][1](), "tag")
        per_image = _tags_1k(k1[0][0], k1[0][1](), taglist, n_total)
        tag_note = f"tags from AllTags1k.txt ({len(taglist)} tags)"
    elif tags != "auto":
        want = "All_Tags.txt" if tags == "all_tags" else "AllTags1k.txt and TagList1k.txt"
        raise FileNotFoundError(f"NUS-WIDE: tags={tags!r} needs {want} in {root / 'NUS_WID_Tags'}")
    else:
        return {}, "no tags"
    if split == "all":
        return {"tags": per_image}, tag_note
    if all_keys is not None:
        return {"tags": [per_image[i] for i in ids]}, tag_note
    warnings.warn(
        f"NUS-WIDE split={split!r}: tags are in the official image order and cannot be "
        "aligned with the split without ImageList/; loading labels only",
        stacklevel=3,
    )
    return {}, "no tags (no ImageList to align them with the split)"
