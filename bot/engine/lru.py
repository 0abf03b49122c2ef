"""A small bounded mapping for caches that must not grow with every learner forever."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def discard_if(self, doomed: Callable[[K, V], bool]) -> int:
        """Drop every entry ``doomed`` says is stale (a workspace purged, a person forgotten)."""
        keys = [key for key, value in self._items.items() if doomed(key, value)]
        for key in keys:
            del self._items[key]
        return len(keys)

    def __len__(self) -> int:
        return len(self._items)
