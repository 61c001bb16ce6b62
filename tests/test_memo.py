"""BoundedMemo: least-recently-used eviction at the bound, against a hand trace."""
from __future__ import annotations

import pytest

from neighborlib.memo import BoundedMemo


def test_least_recently_used_is_dropped_at_the_bound():
    m: BoundedMemo[str] = BoundedMemo(2)
    m.put("a", "A")
    m.put("b", "B")
    assert m.get("a") == "A"  # a is now the most recent
    m.put("c", "C")  # drops b, the least recently used
    assert "b" not in m and m.get("a") == "A" and m.get("c") == "C" and len(m) == 2
    made = []
    assert m.get_or_make("d", lambda: made.append(1) or "D") == "D" and made == [1]
    assert m.get_or_make("d", lambda: made.append(1) or "X") == "D" and made == [1]
    assert "a" not in m  # a was older than c
    m.clear()
    assert len(m) == 0 and m.get("c") is None


def test_bound_must_be_positive():
    with pytest.raises(ValueError, match="maxsize"):
        BoundedMemo(0)
