"""Random sequences of bookings through the service and the store keep the rules' promises."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core import clock
from booking_core.domain import Principal, PrincipalKind
from booking_core.errors import BookingRuleViolation
from booking_core.http.schemas import BookingCreate
from booking_core.services import bookings
from booking_core.settings import get_settings
from booking_core.store import bookings as booking_store
from booking_core.store import catalogue
from tests.integration.dates import at, local_day

OPENS, CLOSES = "07:00", "22:00"  # the demo court's weekday hours


@pytest.fixture(autouse=True)
def holds_for_every_request(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A user may hold as many unpaid bookings as one example asks for (13), not just 3."""
    monkeypatch.setenv("MAX_LIVE_HOLDS", "13")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


requests_strategy = st.lists(
    st.tuples(st.integers(min_value=0, max_value=29), st.integers(min_value=1, max_value=6)),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(requests=requests_strategy)
def test_accepted_bookings_never_overlap_or_leave_a_short_gap(
    demo: dict[str, Any], requests: list[tuple[int, int]]
):
    # Given a fresh copy of Court 1 (30-minute interval, 60-180 minutes, gaps prevented)
    court = catalogue.get_resource(1)
    assert court is not None
    resource = catalogue.create_resource(
        catalogue.get_venue(court.venue_id),  # type: ignore[arg-type]
        **{
            f.name: getattr(court, f.name)
            for f in dataclasses.fields(court)
            # the copies of the venue's values are the venue's, as for any new resource
            if f.name
            not in {"id", "venue_id", "venue_name", "venue_address", "timezone", "special_days"}
        },
    )
    day = local_day(5)
    opens = datetime.fromisoformat(at(day, OPENS))
    closes = datetime.fromisoformat(at(day, CLOSES))
    # A user of its own for each example: the examples share the tables, and each user may
    # hold only so many unpaid bookings (enough for every request of one example)
    user = Principal(kind=PrincipalKind.USER, user_id=str(uuid.uuid4()))
    # When 07:00-08:00 is booked, then random requests (start slot, length in half hours)
    # are made one after another
    for slot, halves in [(0, 2), *requests]:
        start = opens + timedelta(minutes=30 * slot)
        request = BookingCreate(
            resource=resource.id,
            start_datetime=start,
            end_datetime=start + timedelta(minutes=30 * halves),
        )
        with contextlib.suppress(BookingRuleViolation):
            bookings.create_booking(user, request, clock.now())
    # Then what was accepted never overlaps, and every free stretch is 0 or at least 60 minutes
    spans = sorted(
        (
            span
            for span, _ in booking_store.booked_spans_with_owner(
                resource.id, opens, closes, clock.now(), slot_minutes=30
            )
        ),
        key=lambda s: s.start,
    )
    assert spans[0].start == opens
    edges = [opens, *[x for s in spans for x in (s.start, s.end)], closes]
    free = [(edges[i + 1] - edges[i]) for i in range(0, len(edges), 2)]
    assert all(gap >= timedelta(0) for gap in free), spans
    assert all(gap == timedelta(0) or gap >= timedelta(minutes=60) for gap in free), spans
