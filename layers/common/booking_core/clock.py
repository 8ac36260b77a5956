"""The one place that reads the wall clock; everything below takes `now` as a parameter.

In AWS this is the wall clock and nothing moves it. The local stack and the tests may set it
to another instant (time then moves on from there), advance it, or stop it: the local version
of Stripe's test clocks. `TEST_NOW` and `/_local/clock` are built on `travel`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class _Setting:
    offset: timedelta = timedelta(0)  # added to the wall clock
    frozen_at: datetime | None = None  # when set, the time stands still here


_setting = _Setting()
_lock = threading.Lock()


def now() -> datetime:
    """The current instant, in UTC."""
    setting = _setting  # one read: a concurrent move is seen whole or not at all
    if setting.frozen_at is not None:
        return setting.frozen_at
    return datetime.now(UTC) + setting.offset


def timestamp() -> float:
    """`now()` as seconds since the epoch, like `time.time()`."""
    return now().timestamp()


def travel(to: datetime, *, frozen: bool = False) -> None:
    """Make `to` the current instant; time moves on from there unless `frozen`."""
    if to.tzinfo is None:
        raise ValueError("the clock takes aware instants only")
    global _setting
    with _lock:
        if frozen:
            _setting = _Setting(frozen_at=to.astimezone(UTC))
        else:
            _setting = _Setting(offset=to - datetime.now(UTC))


def advance(delta: timedelta) -> None:
    """Move the clock by `delta`, keeping it frozen if it is."""
    global _setting
    with _lock:
        if _setting.frozen_at is not None:
            _setting = _Setting(frozen_at=_setting.frozen_at + delta)
        else:
            _setting = _Setting(offset=_setting.offset + delta)


def freeze(frozen: bool = True) -> None:
    """Stop the time where it is now (or, with `frozen=False`, let it move on from there)."""
    travel(now(), frozen=frozen)


def is_frozen() -> bool:
    return _setting.frozen_at is not None


def reset() -> None:
    """Back to the wall clock."""
    global _setting
    with _lock:
        _setting = _Setting()
