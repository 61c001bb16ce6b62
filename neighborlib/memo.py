"""A small bounded, least-recently-used memo for expensive objects kept between calls.

The library keeps no unbounded process-wide state: a WordNet reader or graph that took
seconds to build is kept for the next call, but only the ``maxsize`` most recently used
ones are (each memo says its bound), and :meth:`BoundedMemo.clear` forgets them.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

__all__ = ["BoundedMemo"]

V = TypeVar("V")


class BoundedMemo(Generic[V]):
    """``key -> value``, at most ``maxsize`` entries, the least recently used dropped first."""

    def __init__(self, maxsize: int):
        if int(maxsize) < 1:
            raise ValueError(f"maxsize must be positive, got {maxsize}")
        self.maxsize = int(maxsize)
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def get(self, key: Hashable) -> V | None:
        """The value for ``key`` (marking it recently used), or ``None``."""
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: Hashable, value: V) -> V:
        """Keep ``value`` for ``key``, dropping the least recently used entry beyond the bound."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value for ``key``, made by ``make()`` and kept when absent."""
        got = self.get(key)
        return got if got is not None else self.put(key, make())

    def clear(self) -> None:
        self._items.clear()
