"""Dataset loaders on small official-layout fixtures (built in tmp_path) and on the real data."""
from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import require_real_data
from neighborlib.data import DataFormatError, MissingPhotoError, load_dataset
from neighborlib.data.coco import STOP_WORDS, caption_words, load_coco
from neighborlib.data.mirflickr import (
    KNOWN_LABEL_ERRATA,
    MIRFLICKR_POTENTIAL_LABELS,
    MIRFLICKR_RELEVANT_LABELS,
    load_mirflickr25k,
)
from neighborlib.data.nuswide import load_nuswide


def _error_names(exc: pytest.ExceptionInfo, name: str, line: int | None = None) -> str:
    msg = str(exc.value)
    assert name in msg, msg
    if line is not None:
        assert f"line {line}:" in msg, msg
        assert exc.value.line == line
    return msg


# =========================================================================================
# MIRFlickr-25K
# =========================================================================================
MIR_N = 12
MIR_LABELS = {
    "animals": [3, 4, 5],
    "dog": [4, 5, 12],
    "dog_r1": [5, 12],
    "sky": [1, 2, 7, 9],
}
MIR_TAGS = {  # image -> file content (bytes); images 6, 8, 10, 11 have no tags file
    1: b"sky\nblue\nsky\n\nclouds\n",
    2: b"  sunset \r\nbeach\r\n",
    3: b"cat\n",
    4: b"dog\npuppy\n",
    5: b"dog\n",
    7: b"",  # an empty file: no tags
    9: b"blue\n",
    12: b"dog\ncaf\xc3\xa9\n",
}
MIR_EXPECTED_TAGS = {
    1: ("sky", "blue", "clouds"),
    2: ("sunset", "beach"),
    3: ("cat",),
    4: ("dog", "puppy"),
    5: ("dog",),
    9: ("blue",),
    12: ("dog", "café"),
}


def make_mirflickr(root: Path, labels=MIR_LABELS, tags=MIR_TAGS) -> Path:
    ann = root / "annotations"
    ann.mkdir(parents=True)
    for name, numbers in labels.items():
        (ann / f"{name}.txt").write_text("".join(f"{n}\n" for n in numbers))
    (ann / "README.txt").write_text("The MIRFlickr annotations.\nnot a label file\n")
    tag_dir = root / "meta" / "tags"
    tag_dir.mkdir(parents=True)
    for n, content in tags.items():
        (tag_dir / f"tags{n}.txt").write_bytes(content)
    return root


def test_mirflickr_fixture_labels_tags_ids(tmp_path):
    ds = load_mirflickr25k(make_mirflickr(tmp_path / "mir"), n_images=MIR_N)
    assert ds.name == "mirflickr25k" and not ds.synthetic
    assert ds.ids.tolist() == list(range(1, MIR_N + 1))
    assert ds.label_names == ("animals", "dog", "sky")
    for j, name in enumerate(ds.label_names):
        assert np.flatnonzero(ds.labels[:, j]).tolist() == [n - 1 for n in MIR_LABELS[name]]
    assert ds.kinds == ("tags",)
    for n in range(1, MIR_N + 1):
        assert ds.metadata["tags"][n - 1] == MIR_EXPECTED_TAGS.get(n, ()), n
    assert ds.image_paths is None and not ds.has_images
    assert ds.extras["n_tag_files"] == len(MIR_TAGS)
    assert ds.description.startswith("MIRFlickr-25K (real): 12 images, 3 labels, user tags for 7 images")
    assert "no photos" in ds.description


def test_mirflickr_label_sets(tmp_path):
    root = make_mirflickr(tmp_path / "mir")
    rel = load_mirflickr25k(root, label_set="relevant", n_images=MIR_N)
    assert rel.label_names == ("dog_r1",)
    assert np.flatnonzero(rel.labels[:, 0]).tolist() == [4, 11]
    every = load_mirflickr25k(root, label_set="all", n_images=MIR_N)
    assert every.label_names == ("animals", "dog", "dog_r1", "sky")
    assert every.labels.sum(0).tolist() == [3, 3, 2, 4]
    with pytest.raises(ValueError, match="label_set"):
        load_mirflickr25k(root, label_set="usual", n_images=MIR_N)


def test_mirflickr_constants():
    assert len(MIRFLICKR_POTENTIAL_LABELS) == 24 and len(set(MIRFLICKR_POTENTIAL_LABELS)) == 24
    assert list(MIRFLICKR_POTENTIAL_LABELS) == sorted(MIRFLICKR_POTENTIAL_LABELS)
    assert len(MIRFLICKR_RELEVANT_LABELS) == 14
    assert all(r[:-3] in MIRFLICKR_POTENTIAL_LABELS for r in MIRFLICKR_RELEVANT_LABELS)


def test_mirflickr_through_load_dataset(tmp_path):
    make_mirflickr(tmp_path / "mirflickr25k")
    ds = load_dataset("mirflickr25k", root=tmp_path, n_images=MIR_N, label_set="all")
    assert len(ds) == MIR_N and ds.n_labels == 4


@pytest.mark.parametrize(
    "content, line, fragment",
    [
        ("3\n4\nfive\n", 3, "expected an image number"),
        ("3\n+4\n", 2, "expected an image number"),
        ("3\n4\n5\n13\n", 4, "outside 1..12"),
        ("0\n", 1, "outside 1..12"),
        ("3\n4\n\n3\n", 4, "listed twice (first on line 1)"),
    ],
)
def test_mirflickr_bad_annotation_lines(tmp_path, content, line, fragment):
    root = make_mirflickr(tmp_path / "mir")
    (root / "annotations" / "animals.txt").write_text(content)
    with pytest.raises(DataFormatError) as exc:
        load_mirflickr25k(root, n_images=MIR_N)
    assert fragment in _error_names(exc, "animals.txt", line)


def test_mirflickr_stray_text_file_in_annotations_is_not_a_label(tmp_path):
    root = make_mirflickr(tmp_path / "mir")
    (root / "annotations" / "notes.txt").write_text("3\n")
    with pytest.raises(DataFormatError) as exc:
        load_mirflickr25k(root, n_images=MIR_N)
    assert "not one of MIRFlickr-25K's 38 label files" in _error_names(exc, "notes.txt", None)


def test_mirflickr_undecodable_annotation(tmp_path):
    root = make_mirflickr(tmp_path / "mir")
    (root / "annotations" / "sky.txt").write_bytes(b"1\n2\n\xff7\n")
    with pytest.raises(DataFormatError) as exc:
        load_mirflickr25k(root, n_images=MIR_N)
    _error_names(exc, "sky.txt", 3)


def test_mirflickr_relevant_must_be_subset_of_base(tmp_path):
    labels = dict(MIR_LABELS, dog_r1=[5, 7, 12])  # image 7 is dog_r1 but not dog
    root = make_mirflickr(tmp_path / "mir", labels=labels)
    for label_set in ("potential", "relevant", "all"):  # checked whatever is loaded
        with pytest.raises(DataFormatError) as exc:
            load_mirflickr25k(root, n_images=MIR_N, label_set=label_set)
        msg = _error_names(exc, "dog_r1.txt", 2)
        assert "dog.txt" in msg and "image 7" in msg and "disagree" in msg


def test_mirflickr_known_erratum_is_tolerated_and_only_that(tmp_path):
    known = sorted(KNOWN_LABEL_ERRATA["people_r1"])
    labels = {"people": [1, 2], "people_r1": [2, known[0]]}
    root = make_mirflickr(tmp_path / "mir", labels=labels, tags={})
    ds = load_mirflickr25k(root, label_set="all")
    assert ds.labels[known[0] - 1].tolist() == [0, 1]  # kept as annotated
    assert "people_r1.txt" in ds.extras["errata"][0] and str(known[0]) in ds.extras["errata"][0]
    (root / "annotations" / "people_r1.txt").write_text(f"2\n{known[0]}\n3\n")
    with pytest.raises(DataFormatError) as exc:
        load_mirflickr25k(root, label_set="all")
    assert "image 3 " in _error_names(exc, "people_r1.txt", 3)


@pytest.mark.parametrize(
    "content, line",
    [(b"sky\nblue sky\n", 2), (b"sky\n\n\nbad\xfe\n", 4), (b"\xc3\n", 1)],
)
def test_mirflickr_bad_tag_lines(tmp_path, content, line):
    root = make_mirflickr(tmp_path / "mir", tags={**MIR_TAGS, 9: content})
    with pytest.raises(DataFormatError) as exc:
        load_mirflickr25k(root, n_images=MIR_N)
    _error_names(exc, "tags9.txt", line)


def test_mirflickr_tags_file_out_of_range(tmp_path):
    root = make_mirflickr(tmp_path / "mir", tags={**MIR_TAGS, 13: b"x\n"})
    with pytest.raises(DataFormatError) as exc:
        load_mirflickr25k(root, n_images=MIR_N)
    _error_names(exc, "tags13.txt")


def test_mirflickr_missing_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="annotation"):
        load_mirflickr25k(tmp_path, n_images=MIR_N)
    (tmp_path / "annotations").mkdir()
    with pytest.raises(FileNotFoundError, match="tags"):
        load_mirflickr25k(tmp_path, n_images=MIR_N)


def test_mirflickr_images(tmp_path):
    root = make_mirflickr(tmp_path / "mir")
    with pytest.raises(FileNotFoundError, match="require_images"):
        load_mirflickr25k(root, n_images=MIR_N, require_images=True)
    photos = root / "mirflickr"
    photos.mkdir()
    for n in range(1, MIR_N + 1):
        (photos / f"im{n}.jpg").write_bytes(b"\xff\xd8")
    ds = load_mirflickr25k(root, n_images=MIR_N, require_images=True)
    assert ds.image_paths == tuple(photos / f"im{n}.jpg" for n in range(1, MIR_N + 1))
    assert ds.has_images and "photos for 12 images (mirflickr/)" in ds.description
    assert str(tmp_path) not in ds.description  # no machine paths in descriptions
    # a partial photo set is a normal state: the dataset knows which images have one
    (photos / "im7.jpg").unlink()
    ds = load_mirflickr25k(root, n_images=MIR_N)
    assert ds.has_photo.tolist() == [n != 7 for n in range(1, MIR_N + 1)]
    assert ds.image_paths[6] is None and "photos for 11 images" in ds.description
    assert ds.photo_path(5) == photos / "im6.jpg"
    with pytest.raises(MissingPhotoError, match=re.escape(f"image 7 has no photo in {photos}")):
        ds.photo_path(6)
    with pytest.raises(MissingPhotoError, match=r"image 7 .*\(1 of 12 images have no photo\)"):
        ds.require_photos()
    sub = ds.with_photos()
    assert len(sub) == 11 and 7 not in sub.ids and sub.has_photo.all() and len(sub.require_photos()) == 11
    np.testing.assert_array_equal(sub.labels, ds.labels[ds.ids != 7])
    other = tmp_path / "elsewhere"
    other.mkdir()
    for n in range(1, MIR_N + 1):
        (other / f"im{n}.jpg").write_bytes(b"\xff\xd8")
    ds = load_mirflickr25k(root, n_images=MIR_N, image_dir=other)
    assert ds.image_paths[6] == other / "im7.jpg"


# =========================================================================================
# NUS-WIDE
# =========================================================================================
NUS_CONCEPTS = ["airport", "lake", "sky"]
NUS_ALL = np.array(  # 10 images x 3 concepts, in the official image order
    [[1, 0, 1], [0, 0, 1], [0, 1, 0], [1, 1, 1], [0, 0, 0],
     [0, 0, 1], [1, 0, 0], [0, 1, 1], [0, 0, 1], [1, 0, 0]],
    dtype=np.uint8,
)  # fmt: skip
NUS_TRAIN_POS = [0, 2, 3, 5, 7, 8]  # official positions of the train images, in train-file order
NUS_TEST_POS = [1, 4, 6, 9]
NUS_NAMES = [f"{'actor' if i < 5 else 'zebra'}/{i:04d}_{1000 + i}.jpg" for i in range(10)]


def _column(values, eol=b"\n") -> bytes:
    return b"".join(b"%d" % v + eol for v in values)


def nus_files(concepts=NUS_CONCEPTS, all_m=NUS_ALL) -> dict[str, bytes]:
    files = {}
    for j, c in enumerate(concepts):
        files[f"AllLabels/Labels_{c}.txt"] = _column(all_m[:, j])
        files[f"TrainTestLabels/Labels_{c}_Train.txt"] = _column(all_m[NUS_TRAIN_POS, j])
        files[f"TrainTestLabels/Labels_{c}_Test.txt"] = _column(all_m[NUS_TEST_POS, j])
    return files


def make_nuswide(root: Path, files: dict[str, bytes] | None = None, zipped: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    files = nus_files() if files is None else files
    concepts = "".join(c + "\r\n" for c in NUS_CONCEPTS).encode()
    if zipped:
        with zipfile.ZipFile(root / "Groundtruth.zip", "w") as zf:
            for name, data in files.items():
                zf.writestr(name, data)
        with zipfile.ZipFile(root / "ConceptsList.zip", "w") as zf:
            zf.writestr("Concepts81.txt", concepts)
    else:
        for name, data in files.items():
            path = root / "Groundtruth" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (root / "Concepts81.txt").write_bytes(concepts)
    return root


def add_nus_image_list(root: Path) -> None:
    il = root / "ImageList"
    il.mkdir()
    win = lambda k: k.replace("/", "\\")  # noqa: E731
    (il / "Imagelist.txt").write_text(
        "".join(f"C:\\ImageData\\Flickr\\{win(k)}\r\n" for k in NUS_NAMES)
    )
    (il / "TrainImagelist.txt").write_text("".join(win(NUS_NAMES[i]) + "\n" for i in NUS_TRAIN_POS))
    (il / "TestImagelist.txt").write_text("".join(win(NUS_NAMES[i]) + "\n" for i in NUS_TEST_POS))


NUS_TAGLIST = ["beach", "city", "night", "sun"]
NUS_TAGS_1K = np.array(
    [[1, 0, 0, 1], [0, 0, 0, 0], [0, 1, 1, 0], [1, 1, 1, 1], [0, 0, 1, 0],
     [0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0]],
    dtype=np.uint8,
)  # fmt: skip


def add_nus_tags_1k(root: Path, rows: bytes | None = None) -> None:
    tags = root / "NUS_WID_Tags"
    tags.mkdir(exist_ok=True)
    (tags / "TagList1k.txt").write_text("".join(t + "\r\n" for t in NUS_TAGLIST))
    if rows is None:
        rows = b"".join((" ".join(map(str, r)) + " \r\n").encode() for r in NUS_TAGS_1K)
    (tags / "AllTags1k.txt").write_bytes(rows)


def _tags_of(row) -> tuple[str, ...]:
    return tuple(t for t, v in zip(NUS_TAGLIST, row) if v)


@pytest.mark.parametrize("zipped", [True, False])
def test_nuswide_fixture_all(tmp_path, zipped):
    ds = load_nuswide(make_nuswide(tmp_path / "nus", zipped=zipped))
    assert ds.name == "nuswide" and ds.label_names == tuple(NUS_CONCEPTS)
    np.testing.assert_array_equal(ds.labels, NUS_ALL)
    assert ds.ids.tolist() == list(range(10))
    assert ds.metadata == {} and ds.image_paths is None
    assert "labels only (no tags, no images)" in ds.description
    assert ds.description.startswith("NUS-WIDE (real): 10 images (all), 3 concepts")
    assert ds.extras["errata"] == ()


def test_nuswide_fixture_splits_without_image_list(tmp_path):
    root = make_nuswide(tmp_path / "nus")
    train = load_nuswide(root, split="train")
    test = load_nuswide(root, split="test")
    np.testing.assert_array_equal(train.labels, NUS_ALL[NUS_TRAIN_POS])
    np.testing.assert_array_equal(test.labels, NUS_ALL[NUS_TEST_POS])
    assert train.ids.tolist() == list(range(6)) and test.ids.tolist() == list(range(4))
    assert "line" in train.extras["id_space"]
    with pytest.raises(ValueError, match="split"):
        load_nuswide(root, split="val")


def test_nuswide_image_list_gives_official_ids_and_photos(tmp_path):
    root = make_nuswide(tmp_path / "nus")
    add_nus_image_list(root)
    train = load_nuswide(root, split="train")
    assert train.ids.tolist() == NUS_TRAIN_POS
    assert train.extras["id_space"] == "position in the official image order"
    assert load_nuswide(root, split="test").ids.tolist() == NUS_TEST_POS
    assert load_nuswide(root).image_paths is None  # no photo folder
    for k in NUS_NAMES:
        p = root / "Flickr" / k
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"\xff\xd8")
    test = load_nuswide(root, split="test")
    assert test.image_paths == tuple(root / "Flickr" / NUS_NAMES[i] for i in NUS_TEST_POS)
    (root / "Flickr" / NUS_NAMES[9]).unlink()
    test = load_nuswide(root, split="test")
    assert [p is None for p in test.image_paths] == [i == 9 for i in NUS_TEST_POS]
    (il := root / "ImageList" / "TrainImagelist.txt").write_text("actor\\0000_1000.jpg\nactor\\9999_1.jpg\n"
                                                                 + "actor\\0000_1000.jpg\n" * 4)
    with pytest.raises(DataFormatError) as exc:
        load_nuswide(root, split="train")
    assert "not in Imagelist.txt" in _error_names(exc, il.name, 2)


def test_nuswide_tags_1k_and_alignment(tmp_path):
    root = make_nuswide(tmp_path / "nus")
    add_nus_tags_1k(root)
    ds = load_nuswide(root)
    assert ds.metadata["tags"] == [_tags_of(r) for r in NUS_TAGS_1K]
    assert "AllTags1k" in ds.description and "labels only" not in ds.description
    with pytest.warns(UserWarning, match="cannot be aligned"):
        train = load_nuswide(root, split="train")
    assert train.metadata == {}
    add_nus_image_list(root)
    train = load_nuswide(root, split="train")
    assert train.metadata["tags"] == [_tags_of(NUS_TAGS_1K[i]) for i in NUS_TRAIN_POS]
    assert load_nuswide(root, tags="none").metadata == {}


def test_nuswide_all_tags_file(tmp_path):
    root = make_nuswide(tmp_path / "nus")
    add_nus_tags_1k(root)
    lines = [f"{1000 + i}      " + " ".join(["t%d" % i, "common", "t%d" % i]) for i in range(10)]
    lines[4] = "1004"  # an image without tags
    (root / "NUS_WID_Tags" / "All_Tags.txt").write_text("\n".join(lines) + "\n")
    ds = load_nuswide(root)  # auto prefers All_Tags.txt
    assert ds.metadata["tags"][0] == ("t0", "common") and ds.metadata["tags"][4] == ()
    assert load_nuswide(root, tags="1k").metadata["tags"][0] == ("beach", "sun")
    (root / "NUS_WID_Tags" / "All_Tags.txt").write_text("\n".join(lines[:9]) + "\n")
    with pytest.raises(DataFormatError) as exc:
        load_nuswide(root, tags="all_tags")
    assert "9 lines" in _error_names(exc, "All_Tags.txt")


def test_nuswide_bad_tags_1k_row(tmp_path):
    root = make_nuswide(tmp_path / "nus")
    rows = b"".join((" ".join(map(str, r)) + "\n").encode() for r in NUS_TAGS_1K)
    rows = rows.replace(b"0 0 1 0\n", b"0 0 2 0\n")  # row 5
    add_nus_tags_1k(root, rows)
    with pytest.raises(DataFormatError) as exc:
        load_nuswide(root)
    _error_names(exc, "AllTags1k.txt", 5)
    add_nus_tags_1k(root, rows.replace(b"0 0 2 0\n", b"0 0 1\n"))
    with pytest.raises(DataFormatError) as exc:
        load_nuswide(root)
    assert "expected 4 values" in _error_names(exc, "AllTags1k.txt", 5)
    with pytest.raises(FileNotFoundError, match="All_Tags.txt"):
        load_nuswide(root, tags="all_tags")


def test_nuswide_top_concepts(tmp_path):
    ds = load_nuswide(make_nuswide(tmp_path / "nus"), n_concepts=2)
    assert ds.label_names == ("airport", "sky")  # 4 and 6 positives; lake has 3
    np.testing.assert_array_equal(ds.labels, NUS_ALL[:, [0, 2]])
    assert load_nuswide(tmp_path / "nus", n_concepts=4).label_names == tuple(NUS_CONCEPTS)
    with pytest.raises(ValueError, match="n_concepts"):
        load_nuswide(tmp_path / "nus", n_concepts=0)


def test_nuswide_missing_label_file(tmp_path):
    files = nus_files()
    del files["AllLabels/Labels_lake.txt"]
    root = make_nuswide(tmp_path / "nus", files)
    with pytest.raises(FileNotFoundError, match=re.escape("AllLabels/Labels_lake.txt")):
        load_nuswide(root)
    with pytest.raises(FileNotFoundError, match="Concepts81"):
        load_nuswide(tmp_path)


@pytest.mark.parametrize("zipped", [True, False])
def test_nuswide_bad_label_value(tmp_path, zipped):
    files = nus_files()
    files["AllLabels/Labels_sky.txt"] = b"1\n1\n0\n1\n0\n1\n0\n1\n2\n0\n"
    root = make_nuswide(tmp_path / "nus", files, zipped=zipped)
    with pytest.raises(DataFormatError) as exc:
        load_nuswide(root)
    assert "expected 0 or 1" in _error_names(exc, "Labels_sky.txt", 9)


def test_nuswide_crlf_and_blank_line(tmp_path):
    files = nus_files()
    files["AllLabels/Labels_sky.txt"] = _column(NUS_ALL[:, 2], b"\r\n")
    np.testing.assert_array_equal(load_nuswide(make_nuswide(tmp_path / "a", files)).labels, NUS_ALL)
    files["AllLabels/Labels_sky.txt"] = b"1\n1\n\n1\n0\n1\n0\n1\n1\n0\n"
    with pytest.raises(DataFormatError) as exc:
        load_nuswide(make_nuswide(tmp_path / "b", files))
    _error_names(exc, "Labels_sky.txt", 3)


def test_nuswide_length_mismatch(tmp_path):
    files = nus_files()
    files["AllLabels/Labels_lake.txt"] += b"0\n"
    with pytest.raises(DataFormatError) as exc:
        load_nuswide(make_nuswide(tmp_path / "a", files))
    assert "11 lines" in _error_names(exc, "Labels_lake.txt") and "10" in str(exc.value)
    files = nus_files()
    for c in NUS_CONCEPTS:  # consistent among themselves, but Train + Test != All
        files[f"TrainTestLabels/Labels_{c}_Test.txt"] += b"0\n"
    with pytest.raises(DataFormatError) as exc:
        load_nuswide(make_nuswide(tmp_path / "b", files), split="test")
    assert "do not add up" in _error_names(exc, "Labels_airport_Train.txt")
    files = nus_files()  # same lengths, but a positive moved
    files["TrainTestLabels/Labels_sky_Test.txt"] = b"1\n1\n1\n0\n"
    with pytest.raises(DataFormatError) as exc:
        load_nuswide(make_nuswide(tmp_path / "c", files))
    assert "positives" in _error_names(exc, "Labels_sky_Train.txt")


def test_nuswide_known_erratum(tmp_path):
    n_train = 78400
    rng = np.random.default_rng(0)
    train = rng.integers(0, 2, size=n_train).astype(np.uint8)
    train[78372] = 0
    test = np.array([1, 0, 1], dtype=np.uint8)
    lines = _column(train).split(b"\n")
    lines[78372] = b"-1130179"
    raw_train = b"\n".join(lines)
    files = {
        "AllLabels/Labels_lake.txt": _column(np.concatenate([train, test])),
        "TrainTestLabels/Labels_lake_Train.txt": raw_train,
        "TrainTestLabels/Labels_lake_Test.txt": _column(test),
    }
    root = tmp_path / "nus"
    root.mkdir()
    with zipfile.ZipFile(root / "Groundtruth.zip", "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    (root / "Concepts81.txt").write_text("lake\n")
    ds = load_nuswide(root, split="train")
    np.testing.assert_array_equal(ds.labels[:, 0], train)
    assert "Labels_lake_Train.txt line 78373" in ds.extras["errata"][0]
    lines[78372] = b"-7"  # not the known erratum: an error
    with zipfile.ZipFile(root / "Groundtruth.zip", "w") as zf:
        for name, data in dict(files, **{"TrainTestLabels/Labels_lake_Train.txt": b"\n".join(lines)}).items():
            zf.writestr(name, data)
    with pytest.raises(DataFormatError) as exc:
        load_nuswide(root, split="train")
    _error_names(exc, "Labels_lake_Train.txt", 78373)


# =========================================================================================
# MS-COCO
# =========================================================================================
COCO_CATS = [{"id": 10, "name": "traffic light"}, {"id": 1, "name": "person"}, {"id": 3, "name": "car"}]
COCO_IMAGES = [
    {"id": 42, "file_name": "COCO_train2014_000000000042.jpg"},
    {"id": 7, "file_name": "COCO_train2014_000000000007.jpg"},
    {"id": 19, "file_name": "COCO_train2014_000000000019.jpg"},
    {"id": 100, "file_name": "COCO_train2014_000000000100.jpg"},
]
COCO_ANNS = [  # (image, category)
    (42, 1), (42, 1), (42, 10), (7, 3), (19, 1), (19, 3), (19, 10),
]  # fmt: skip
COCO_CAPTIONS = [  # (annotation id, image, caption)
    (5, 7, "A red car parked on the street."),
    (1, 7, "The car is red, and a dog sits in it"),
    (2, 42, "A man waits at a traffic light; the man's dog waits too."),
    (3, 19, "Cars and people at a traffic light at night"),
    (4, 100, "An empty street at NIGHT"),
    (6, 100, "a 2 x 4 street-sign"),
]
COCO_EXPECTED_WORDS = {  # all words, per image, first-appearance order, annotation-id order
    7: ("car", "red", "dog", "sits", "parked", "street"),
    42: ("man", "waits", "traffic", "light", "dog"),
    19: ("cars", "people", "traffic", "light", "night"),
    100: ("empty", "street", "night", "sign"),
}


def make_coco(root: Path, split: str = "train2014", instances: dict | None = None) -> Path:
    ann = root / "annotations"
    ann.mkdir(parents=True)
    if instances is None:
        instances = {
            "info": {"year": 2014},
            "images": COCO_IMAGES,
            "categories": COCO_CATS,
            "annotations": [
                {"id": 900 + k, "image_id": i, "category_id": c, "iscrowd": 0}
                for k, (i, c) in enumerate(COCO_ANNS)
            ],
        }
    (ann / f"instances_{split}.json").write_text(json.dumps(instances, indent=1))
    captions = {
        "images": COCO_IMAGES,
        "annotations": [{"id": a, "image_id": i, "caption": t} for a, i, t in COCO_CAPTIONS],
    }
    (ann / f"captions_{split}.json").write_text(json.dumps(captions, indent=1))
    return root


def test_coco_tokeniser():
    assert caption_words("A man's dog, at the Traffic-Light!") == ["man", "dog", "traffic", "light"]
    assert caption_words("x 2 yy") == ["yy"]
    assert {"a", "the", "and", "of", "on", "is"} <= STOP_WORDS
    # unlike scikit-learn's ENGLISH_STOP_WORDS, words that say what and where things are stay
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    kept = {"top", "front", "side", "fire", "back", "full", "empty"}
    assert kept <= set(ENGLISH_STOP_WORDS) and not kept & STOP_WORDS
    assert caption_words("A fire hydrant in front of a full bus") == ["fire", "hydrant", "front", "full", "bus"]


def test_coco_fixture_labels_ids_captions(tmp_path):
    ds = load_coco(make_coco(tmp_path / "coco"), tau=None)
    assert ds.name == "coco"
    assert ds.ids.tolist() == [7, 19, 42, 100]
    assert ds.label_names == ("person", "car", "traffic light")  # category-id order
    np.testing.assert_array_equal(ds.labels, [[0, 1, 0], [1, 1, 1], [1, 0, 1], [0, 0, 0]])
    got = dict(zip(ds.ids.tolist(), ds.metadata["captions"]))
    assert got == COCO_EXPECTED_WORDS
    assert ds.image_paths is None
    assert ds.description.startswith("MS-COCO train2014 (real): 4 images, 3 labels")


def test_coco_tau_keeps_most_frequent_ties_alphabetical(tmp_path):
    ds = load_coco(make_coco(tmp_path / "coco"), tau=4)
    # df: dog 2, light 2, night 2, street 2, traffic 2, then 1s; top 4 by (-df, word)
    assert ds.extras["caption_vocabulary"] == ("dog", "light", "night", "street")
    got = dict(zip(ds.ids.tolist(), ds.metadata["captions"]))
    assert got == {
        7: ("dog", "street"), 19: ("light", "night"), 42: ("light", "dog"), 100: ("street", "night")
    }
    fixed = load_coco(tmp_path / "coco", vocabulary=["red", "sign"])
    assert fixed.metadata["captions"] == [("red",), (), (), ("sign",)]
    custom = load_coco(tmp_path / "coco", tau=None, stop_words=frozenset({"car"}))
    assert custom.metadata["captions"][0][:4] == ("the", "is", "red", "and")


def test_coco_images(tmp_path):
    root = make_coco(tmp_path / "coco")
    folder = root / "train2014"
    folder.mkdir()
    for im in COCO_IMAGES:
        (folder / im["file_name"]).write_bytes(b"\xff\xd8")
    ds = load_coco(root)
    assert ds.image_paths[0] == folder / "COCO_train2014_000000000007.jpg" and ds.has_images
    (folder / "COCO_train2014_000000000019.jpg").unlink()
    ds = load_coco(root)
    assert ds.has_photo.sum() == len(COCO_IMAGES) - 1 and ds.photo_dir == folder
    missing = int(np.flatnonzero(~ds.has_photo)[0])
    assert ds.ids[missing] == 19
    with pytest.raises(MissingPhotoError, match=re.escape(f"image 19 has no photo in {folder}")):
        ds.photo_path(missing)
    assert len(ds.with_photos()) == len(COCO_IMAGES) - 1


def test_coco_malformed_json(tmp_path):
    root = make_coco(tmp_path / "coco")
    path = root / "annotations" / "instances_train2014.json"
    lines = path.read_text().splitlines()
    assert lines[5].strip() == "{"
    lines[5] = lines[5] + ","  # "{," on line 6: the parser fails there
    bad_line = 6
    path.write_text("\n".join(lines))
    with pytest.raises(DataFormatError) as exc:
        load_coco(root)
    assert "malformed JSON" in _error_names(exc, "instances_train2014.json", bad_line)


@pytest.mark.parametrize(
    "ann, fragment",
    [
        ({"image_id": 8, "category_id": 1}, "unknown image id 8"),
        ({"image_id": 7, "category_id": 2}, "unknown category id 2"),
    ],
)
def test_coco_unknown_references(tmp_path, ann, fragment):
    instances = {"images": COCO_IMAGES, "categories": COCO_CATS, "annotations": [ann]}
    root = make_coco(tmp_path / "coco", instances=instances)
    with pytest.raises(DataFormatError) as exc:
        load_coco(root)
    assert fragment in _error_names(exc, "instances_train2014.json")


def test_coco_caption_unknown_image_and_missing_files(tmp_path):
    root = make_coco(tmp_path / "coco")
    cap = root / "annotations" / "captions_train2014.json"
    cap.write_text(json.dumps({"annotations": [{"id": 1, "image_id": 5, "caption": "a cat"}]}))
    with pytest.raises(DataFormatError) as exc:
        load_coco(root)
    assert "image id 5" in _error_names(exc, "captions_train2014.json")
    cap.unlink()
    ds = load_coco(root)
    assert ds.metadata == {} and "no captions" in ds.description
    with pytest.raises(FileNotFoundError, match="instances_val2014.json"):
        load_coco(root, split="val2014")


# =========================================================================================
# Real data (skipped with a reason when absent)
# =========================================================================================


@pytest.mark.realdata
def test_real_mirflickr25k():
    folder = require_real_data("mirflickr25k")
    ds = load_mirflickr25k(folder)
    assert len(ds) == 25000 and ds.label_names == MIRFLICKR_POTENTIAL_LABELS
    assert ds.ids[0] == 1 and ds.ids[-1] == 25000
    assert ds.extras["n_tag_files"] == 22861
    # 18 of the 22,861 tag files are empty (their tags were non-ASCII, stripped upstream)
    assert int(ds.has_metadata("tags").sum()) == 22843
    df = Counter(t for tags in ds.metadata["tags"] for t in tags)
    assert len(df) == 67207
    assert sum(c >= 50 for c in df.values()) == 457
    for j, name in enumerate(ds.label_names):
        n_lines = sum(1 for line in (folder / "annotations" / f"{name}.txt").read_text().splitlines() if line)
        assert int(ds.labels[:, j].sum()) == n_lines, name
    assert int(ds.labels[:, ds.label_names.index("sky")].sum()) == 7912
    # all 25,000 photos are there (128x128 crops, SOURCE.md), one per image, in id order
    assert ds.has_photo.all() and ds.photo_dir == folder / "mirflickr"
    assert ds.photo_path(0) == folder / "mirflickr" / "im1.jpg"
    assert ds.image_paths[-1].name == "im25000.jpg"
    assert ds.description.startswith("MIRFlickr-25K (real): 25,000 images, 24 labels, user tags for 22,843")
    assert "photos for 25,000 images (mirflickr/)" in ds.description
    from neighborlib.features import read_image

    assert read_image(ds.photo_path(0)).size == (128, 128)
    every = load_mirflickr25k(folder, label_set="all")
    assert every.n_labels == 38 and len(load_mirflickr25k(folder, label_set="relevant").label_names) == 14
    assert set(MIRFLICKR_RELEVANT_LABELS) <= set(every.label_names)
    assert len(every.extras["errata"]) == 1  # the 4 people_r1-but-not-people images


@pytest.mark.realdata
def test_real_coco_val2017_partial_photo_set():
    folder = require_real_data("coco")
    ds = load_dataset("coco", split="val2017")
    assert len(ds) == 5000 and ds.n_labels == 80 and ds.label_names[0] == "person"
    assert int((ds.labels.sum(axis=1) > 0).sum()) == 4952  # SOURCE.md: 4,952 images have a box
    assert int(ds.has_photo.sum()) == 2693
    # the photos are exactly the images with a person (SOURCE.md)
    np.testing.assert_array_equal(ds.has_photo, ds.labels[:, 0] == 1)
    assert "photos for 2,693 images (val2017/)" in ds.description
    without = int(np.flatnonzero(~ds.has_photo)[0])
    with pytest.raises(MissingPhotoError, match=re.escape(f"image {ds.ids[without]} has no photo in {folder / 'val2017'}")):
        ds.photo_path(without)
    people = ds.with_photos()
    assert len(people) == 2693 and all(p.is_file() for p in people.image_paths[:5])
    assert sum(len(c) > 0 for c in ds.metadata["captions"]) == 5000


@pytest.mark.realdata
def test_real_nuswide():
    folder = require_real_data("nuswide")
    ds = load_nuswide(folder)
    assert len(ds) == 269648 and ds.n_labels == 81
    assert ds.label_names[:3] == ("airport", "animal", "beach") and ds.label_names[-1] == "zebra"
    assert ds.metadata == {} and "labels only (no tags, no images)" in ds.description
    assert int(ds.labels[:, ds.label_names.index("sky")].sum()) == 74190
    train, test = load_nuswide(folder, split="train"), load_nuswide(folder, split="test")
    assert len(train) == 161789 and len(test) == 107859
    np.testing.assert_array_equal(train.labels.sum(0).astype(int) + test.labels.sum(0), ds.labels.sum(0))
    assert any("Labels_lake_Train.txt line 78373" in e for e in train.extras["errata"])


def test_loaders_through_load_dataset_and_alternative_layouts(tmp_path):
    make_nuswide(tmp_path / "nuswide")
    make_coco(tmp_path / "coco", split="val2014")
    nus = load_dataset("nuswide", root=tmp_path, split="test")
    np.testing.assert_array_equal(nus.labels, NUS_ALL[NUS_TEST_POS])
    coco = load_dataset("coco", root=tmp_path, split="val2014", tau=2)
    assert coco.extras["caption_vocabulary"] == ("dog", "light")
    # the official mirflickr25k.zip unpacks its tags under mirflickr/meta/tags/
    root = make_mirflickr(tmp_path / "mir")
    (root / "mirflickr").mkdir()
    (root / "meta").rename(root / "mirflickr" / "meta")
    ds = load_mirflickr25k(root, n_images=MIR_N)
    assert ds.metadata["tags"][0] == MIR_EXPECTED_TAGS[1] and ds.image_paths is None
