"""What a warm container may remember between requests, and for how long.

Each cache here is small, bounded (the least recently used entry goes first) and timed by
`booking_core.clock`, so that tests move past an entry's lifetime by moving the clock. An
entry lives from when it was stored, never longer: a hit does not extend it. `forget_all`
empties every cache (the tests do it whenever they empty the table).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

_CACHES: list[TimedCache[Any, Any]] = []


class TimedCache[K, V]:
    """At most `size` entries, each valid for `lifetime` after it was stored (None: for
    ever). An entry stored "in the future" (the clock moved back) is not valid either."""

    def __init__(self, *, size: int, lifetime: timedelta | None) -> None:
        self._size = size
        self._lifetime = lifetime
        self._entries: OrderedDict[K, tuple[datetime, V]] = OrderedDict()
        self._lock = threading.Lock()
        _CACHES.append(self)

    def get(self, key: K, now: datetime) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, value = entry
            if self._lifetime is not None and not (
                timedelta(0) <= now - stored_at < self._lifetime
            ):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V, now: datetime) -> None:
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def replace(self, key: K, value: V) -> None:
        """Change a remembered value, keeping when it was stored (so not its lifetime)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries[key] = (entry[0], value)

    def evict(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def evict_where(self, predicate: Callable[[V], bool]) -> None:
        with self._lock:
            for key in [k for k, (_, v) in self._entries.items() if predicate(v)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def forget_all() -> None:
    """Empty every cache (a test that empties the table, as a new container would start)."""
    for cache in _CACHES:
        cache.clear()
