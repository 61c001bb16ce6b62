"""Independent, named random streams.

Every random draw in the library comes from a generator made here::

    rng = stream(seed, "splits", k)            # split k of a base seed
    rng = stream(seed, "synthetic.metadata")   # the synthetic world's users, tags, groups
    rng = stream(seed, "init", split, run)     # a model's initialisation

The generator is ``numpy.random.default_rng(SeedSequence(entropy))`` with
``entropy = [seed, STREAMS[name], len(keys), *keys]``. Two different streams differ
in the second word, and two key tuples of different lengths differ in the third, so
no two calls with different arguments share a ``SeedSequence`` state (before this
module, split ``k = 1`` and the synthetic world both started from ``[seed, 1]``).
:func:`torch_seed` gives a 63-bit integer from the same scheme for ``torch.Generator``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["STREAMS", "entropy", "stream", "torch_seed"]

#: stream name -> its fixed id. Never renumber: the ids are part of every committed number.
STREAMS: dict[str, int] = {
    "splits": 101,
    "synthetic.metadata": 201,
    "synthetic.render": 202,
    "init": 301,
    "sampling": 302,
    "dropout": 303,
    "negatives": 304,
    "subset": 401,
    "vocabulary": 402,
    "label-splits": 403,
    "fraction": 404,
}


def entropy(seed: int, name: str, *keys: int) -> list[int]:
    """The ``SeedSequence`` entropy of stream ``name`` with ``keys`` (see the module docstring)."""
    if name not in STREAMS:
        raise ValueError(f"unknown random stream {name!r}; known: {sorted(STREAMS)}")
    words = [int(seed), STREAMS[name], len(keys), *(int(k) for k in keys)]
    if any(w < 0 for w in words):
        raise ValueError(f"seeds and keys must be non-negative integers, got {words}")
    return words


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """A numpy ``Generator`` for stream ``name`` of base ``seed`` and ``keys``."""
    return np.random.default_rng(np.random.SeedSequence(entropy(seed, name, *keys)))


def torch_seed(seed: int, name: str, *keys: int) -> int:
    """A non-negative 63-bit seed for ``torch.Generator().manual_seed`` from the same scheme."""
    state = np.random.SeedSequence(entropy(seed, name, *keys)).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)
