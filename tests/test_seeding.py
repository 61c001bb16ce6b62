"""Named random streams: distinct arguments never share a generator state."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from neighborlib.data import random_splits
from neighborlib.data.synthetic import make_synthetic_world
from neighborlib.seeding import STREAMS, entropy, stream, torch_seed


def test_streams_are_distinct_across_names_keys_and_lengths():
    calls = [(s, name, *keys) for s in (0, 1) for name in STREAMS for keys in ((), (0,), (1,), (0, 0), (1, 0))]
    firsts = {c: stream(*c).integers(0, 2**63) for c in calls}
    assert len(set(firsts.values())) == len(calls)
    # the old collision: split k=1 started from [seed, 1], the synthetic world's metadata too
    assert entropy(0, "splits", 1) != entropy(0, "synthetic.metadata")


def test_stream_is_reproducible_and_validated():
    a, b = stream(3, "init", 2, 5).random(4), stream(3, "init", 2, 5).random(4)
    np.testing.assert_array_equal(a, b)
    assert stream(3, "init", 2, 5).random() != stream(3, "init", 5, 2).random()
    with pytest.raises(ValueError, match="unknown random stream 'splitz'"):
        stream(0, "splitz")
    with pytest.raises(ValueError, match="non-negative"):
        stream(-1, "splits")
    assert 0 <= torch_seed(0, "init") < 2**63 and torch_seed(0, "init") != torch_seed(0, "init", 0)


def test_split_permutation_is_not_the_synthetic_worlds_stream():
    """Split k draws from stream(seed, "splits", k): check against an independent permutation."""
    n = 50
    for seed, k in itertools.product((0, 4), range(3)):
        split = random_splits(n, 3, seed=seed, fractions=(0.5, 0.1, 0.4))[k]
        perm = stream(seed, "splits", k).permutation(n)
        np.testing.assert_array_equal(split.train, np.sort(perm[:25]))
        np.testing.assert_array_equal(split.test, np.sort(perm[30:]))
    world = make_synthetic_world(n_images=200, seed=0, render=False)
    again = make_synthetic_world(n_images=200, seed=0, render=False)
    np.testing.assert_array_equal(world.labels, again.labels)
