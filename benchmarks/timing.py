"""The timing rule of every benchmark here: the best of ``repeat`` wall-clock runs."""
from __future__ import annotations

import time
from typing import Callable


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Seconds of the fastest of ``repeat`` calls of ``fn`` (the least disturbed by other load)."""
    times = []
    for _ in range(max(1, int(repeat))):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
