"""Dataset statistics (LTN Table 1) and the label-neighbour curve (LTN Figure 6) against hand and loop computations."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from neighborlib.stats import base_rates, dataset_statistics, label_neighbour_curve


def test_dataset_statistics_hand_example():
    labels = np.array([[1, 0], [1, 1], [0, 0]])
    Z = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]))
    s = dataset_statistics(labels, Z, name="toy")
    assert s["images"] == 3 and s["labels"] == 2 and s["tag vocabulary (τ)"] == 4
    assert s["images without tags"] == 1
    assert s["labels per image (mean)"] == pytest.approx(1.0) and s["labels per image (median)"] == 1.0
    assert s["tags per image (mean)"] == pytest.approx(1.0) and s["tags per image (median)"] == 1.0
    assert s["images per label (mean)"] == pytest.approx(1.5)
    # only the two tags in use count: tag 0 on 1 image, tag 1 on 2 images
    assert s["images per tag (mean)"] == pytest.approx(1.5) and s["images per tag (median)"] == 1.5


def test_dataset_statistics_labels_only():
    s = dataset_statistics(np.array([[1, 0], [1, 1], [0, 0], [1, 0]]), None, name="labels only")
    assert s["images"] == 4 and s["labels per image (median)"] == 1.0 and s["images per label (mean)"] == 2.0  # labels on 3 and 1 images
    assert np.isnan(s["tags per image (mean)"]) and np.isnan(s["tag vocabulary (τ)"])


def test_curve_matches_loop():
    rng = np.random.default_rng(0)
    labels = (rng.random((60, 5)) < 0.3).astype(np.uint8)
    labels[:, 4] = 0  # nobody carries label 4 -> NaN row
    nbr = rng.integers(0, 60, size=(60, 7))
    mask = rng.random(60) < 0.8
    curve = label_neighbour_curve(nbr, labels, mask=mask)
    assert curve.shape == (5, 7)
    for j in range(4):
        for k in range(7):
            has = [i for i in range(60) if mask[i] and labels[i, j]]
            expected = np.mean([labels[nbr[i, k], j] for i in has])
            assert curve[j, k] == pytest.approx(expected)
    assert np.all(np.isnan(curve[4]))


def test_curve_with_a_per_entry_mask_matches_loop():
    rng = np.random.default_rng(1)
    labels = (rng.random((50, 4)) < 0.4).astype(np.uint8)
    nbr = rng.integers(0, 50, size=(50, 6))
    entry = rng.random((50, 6)) < 0.6
    curve = label_neighbour_curve(nbr, labels, mask=entry)
    for j in range(4):
        for k in range(6):
            has = [i for i in range(50) if entry[i, k] and labels[i, j]]
            assert curve[j, k] == pytest.approx(np.mean([labels[nbr[i, k], j] for i in has]))
    with pytest.raises(ValueError, match="mask must have shape"):
        label_neighbour_curve(nbr, labels, mask=entry[:, :3])


def test_filler_neighbours_are_left_out_per_entry():
    """Images 0 and 1 share a tag; the tags of images 2 and 3 are shared by nobody, so their
    "neighbours" are fillers at distance 1 (the lowest indices, 0 and 1). A per-query mask
    counts the fillers; the per-entry mask ``distances < 1`` drops them."""
    from neighborlib.neighbours import jaccard_neighbours

    Z = sp.csr_matrix(np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]))
    labels = np.array([[0, 1], [0, 1], [1, 0], [1, 0]])
    table = jaccard_neighbours(Z, M=2)
    assert not table.isolated.any()
    assert table.distances[2].tolist() == [1.0, 1.0] and table.indices[2].tolist() == [0, 1]
    per_query = label_neighbour_curve(table.indices, labels, mask=~table.isolated)
    per_entry = label_neighbour_curve(table.indices, labels, mask=table.distances < 1)
    # label 0 (images 2, 3): only fillers, which never carry it
    assert per_query[0].tolist() == [0.0, 0.0] and np.isnan(per_entry[0]).all()
    # label 1 (images 0, 1): true neighbours agree at rank 1; rank 2 is a filler (image 2)
    assert per_query[1].tolist() == [1.0, 0.0]
    assert per_entry[1, 0] == 1.0 and np.isnan(per_entry[1, 1])


def test_curve_with_query_index_and_perfect_neighbours():
    labels = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    # queries 0 and 2, each pointing at an image with identical labels first, then a different one
    curve = label_neighbour_curve(np.array([[1, 3], [3, 0]]), labels, query_index=np.array([0, 2]))
    np.testing.assert_array_equal(curve, [[1.0, 0.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="query_index"):
        label_neighbour_curve(np.zeros((2, 2), int), labels, query_index=np.array([0]))


def test_base_rates():
    labels = np.array([[1, 0], [1, 1], [0, 0], [1, 0]])
    np.testing.assert_allclose(base_rates(labels), [0.75, 0.25])
    np.testing.assert_allclose(base_rates(labels, mask=[True, True, False, False]), [1.0, 0.5])
