"""Results a converter computes from a speaker's speech, kept while it serves a job's lines."""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


class ReferenceCache(Generic[T]):
    """``compute(samples)`` once per distinct speech (keyed by its samples); the least recently
    used results are dropped once their summed ``size`` passes ``capacity``, so a job with many
    speakers keeps them all while a long-lived worker does not grow without bound."""

    def __init__(self, capacity: float, size: Callable[[T], float] = lambda _: 1.0) -> None:
        self.capacity, self.size = capacity, size
        self._kept: OrderedDict[str, T] = OrderedDict()
        self.computed = 0  # how many results were computed (not found)

    def get(self, samples: np.ndarray, compute: Callable[[np.ndarray], T]) -> T:
        key = hashlib.sha1(np.ascontiguousarray(samples, np.float32).tobytes()).hexdigest()
        if key not in self._kept:
            self._kept[key] = compute(samples)
            self.computed += 1
            while len(self._kept) > 1 and sum(map(self.size, self._kept.values())) \
                    > self.capacity:
                self._kept.popitem(last=False)
        self._kept.move_to_end(key)
        return self._kept[key]

    def __len__(self) -> int:
        return len(self._kept)
