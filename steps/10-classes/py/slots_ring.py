# ANCHOR: all
"""Ring in plain Python, with __slots__: the measure's baseline."""
from collections import deque


class Ring:
    __slots__ = ("_capacity", "_items", "__weakref__")

    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, not {capacity}")
        self._capacity = capacity
        self._items = deque()

    def push(self, item):
        items = self._items
        evicted = items.popleft() if len(items) == self._capacity else None
        items.append(item)
        return evicted

    @property
    def capacity(self):
        return self._capacity
# ANCHOR_END: all
