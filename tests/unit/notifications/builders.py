"""A booking, its venue and its user, as the notification tests need them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from booking_core.domain import Booking, BookingStatus, CancellationTerms, User, Venue

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
CREATED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def a_venue(**changes: Any) -> Venue:
    """Sports Center in Berlin, with a written policy, unless told otherwise."""
    venue = Venue(
        id=7,
        name="Sports Center",
        slug="sports-center",
        venue_type="sports_center",
        timezone=BERLIN,
        address="Hauptstraße 1",
        city="Berlin",
        postal_code="10115",
        country="DE",
        cancellation_policy="Cancel at least 48 hours ahead for a full refund.",
        min_advance_booking_hours=1,
        max_advance_booking_days=30,
        phone="+49 30 1234567",
        email="desk@sports-center.example",
    )
    return replace(venue, **changes)


def a_user(**changes: Any) -> User:
    user = User(
        id="user-1",
        email="anna@example.com",
        first_name="Anna",
        last_name="Berg",
        password_hash="$argon2id$not-a-real-hash",
    )
    return replace(user, **changes)


def a_booking(
    *,
    timezone: str = BERLIN,
    start: tuple[int, int, int, int, int] = (2026, 11, 21, 18, 0),
    minutes: int = 90,
    **changes: Any,
) -> Booking:
    """A paid 90-minute booking of Court 1 on Sat 21 Nov 2026 at 18:00 venue time, 37.50 EUR."""
    year, month, day, hour, minute = start
    begins = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(timezone))
    booking = Booking(
        id="bk-0001",
        reference_code="CB7K2Q",
        resource_id=3,
        resource_name="Court 1",
        venue_id=7,
        venue_name="Sports Center",
        venue_address="Hauptstraße 1, Berlin",
        user_id="user-1",
        start=begins,
        end=begins + timedelta(minutes=minutes),
        participant_count=4,
        notes="",
        price_per_unit=Decimal("25.00"),
        total_price=Decimal("37.50"),
        currency="EUR",
        status=BookingStatus.PAID,
        created_at=CREATED,
        updated_at=CREATED,
        slot_starts=(),
        version_keys=(),
        paid_at=CREATED,
        cancellation_terms=CancellationTerms(deadline_hours=0, free_hours=48),
        payment_intent_id="pi_3Nsecret_do_not_mail",
    )
    return replace(booking, **changes)
