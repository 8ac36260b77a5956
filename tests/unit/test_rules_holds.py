"""The cap on live holds: which holds are live, and when one more is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking_core.rules import TooManyHolds, check_live_holds, unlapsed_holds

NOW = datetime(2025, 1, 14, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("ends", "live"),
    [
        pytest.param(NOW + timedelta(minutes=15), True, id="a-fresh-hold"),
        pytest.param(NOW + SECOND, True, id="a-second-left"),
        pytest.param(NOW, False, id="ending-now"),
        pytest.param(NOW - SECOND, False, id="ended-a-second-ago"),
        pytest.param(
            (NOW + SECOND).astimezone(ZoneInfo("Europe/Berlin")), True, id="in-another-zone"
        ),
    ],
)
def test_a_hold_is_live_until_the_moment_it_ends(ends: datetime, live: bool) -> None:
    # Given a hold ending at `ends`
    holds = {"booking-1": ends}
    # When the live ones are asked for now
    found = unlapsed_holds(holds, NOW)
    # Then it is live only while its end is still ahead, sweep or not
    assert found == (["booking-1"] if live else [])


def test_only_the_live_holds_of_several_are_kept_in_their_order() -> None:
    # Given three holds, the middle one lapsed
    holds = {"a": NOW + SECOND, "b": NOW - SECOND, "c": NOW + timedelta(minutes=3)}
    # When the live ones are asked for
    # Then the other two remain
    assert unlapsed_holds(holds, NOW) == ["a", "c"]


@pytest.mark.parametrize("cap", [1, 3, 5])
def test_a_caller_may_take_holds_until_they_have_as_many_as_the_cap(cap: int) -> None:
    # Given a caller without holds
    live = 0
    # When they take one hold after another while the cap allows it
    while live <= cap:
        try:
            check_live_holds(live, cap)
        except TooManyHolds:
            break
        live += 1
    # Then they end up with exactly the cap
    assert live == cap


@pytest.mark.parametrize(("live", "cap"), [(3, 3), (4, 3), (1, 1), (5, 5)])
def test_at_the_cap_another_hold_is_refused_naming_the_cap(live: int, cap: int) -> None:
    # Given as many live holds as the cap, or more (the cap was lowered since)
    # When the cap is checked
    with pytest.raises(TooManyHolds) as raised:
        check_live_holds(live, cap)
    # Then the sentence names the cap, in the style of the seed's rule sentences
    assert raised.value.message == f"You can hold at most {cap} unpaid bookings at a time"
    assert raised.value.code == "too-many-holds"
