"""Demo data for the local stack: two venues in two timezones, courts, users, partner apps
(clients) and an admin, each with a known token."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from booking_core import clock
from booking_core.domain import WEEKDAYS, OpeningRange, Principal, PrincipalKind, VenueRole
from booking_core.http.schemas import (
    BookingCreate,
    ClientResourceRegistration,
    ClientVenueRegistration,
)
from booking_core.rules.model import PeakWindow, WeeklyWindow
from booking_core.services import accounts, bookings, clients
from booking_core.store import catalogue, staff, table
from booking_core.store import clients as client_store

DEMO_USERS = (
    {
        "email": "demo@example.com",
        "password": "demo-password",
        "token": "demo-user-token-0000000000000000000000000",
        "first_name": "Dana",
        "last_name": "Demo",
    },
    {
        "email": "other@example.com",
        "password": "other-password",
        "token": "other-user-token-000000000000000000000000",
        "first_name": "Olli",
        "last_name": "Other",
    },
)

# Two partner apps (client API): each maps Court 1 and the Munich venue under its own ids.
DEMO_CLIENTS = (
    {
        "name": "Demo Partner App",
        "token": "demo-client-token-00000000000000000000000",
        "commission_percent": "10.00",
        "contact_email": "payouts@partner.example",
        "resource_external_id": "demo-court-1",
        "venue_external_id": "demo-venue-munich",
        # Its own rate limit per window, above the default for tokens.
        "rate_limit_requests": "600",
    },
    {
        "name": "Other Partner App",
        "token": "other-client-token-0000000000000000000000",
        "commission_percent": "7.50",
        "contact_email": "finance@other-partner.example",
        "resource_external_id": "other-court-1",
        "venue_external_id": "other-venue-munich",
    },
)
DEMO_ADMIN = {
    "email": "admin@example.com",
    "password": "admin-password",
    "token": "demo-admin-token-000000000000000000000000",
}

# The owner of the Munich venue: runs it through the operator API.
DEMO_OWNER = {
    "email": "owner@example.com",
    "password": "owner-password",
    "token": "demo-owner-token-000000000000000000000000",
}

WEEKDAY_HOURS = (time(7), time(22))
WEEKEND_HOURS = (time(8), time(20))


def _weekly_windows(price: Decimal) -> tuple[WeeklyWindow, ...]:
    windows = []
    for weekday in range(7):
        opens, closes = WEEKDAY_HOURS if weekday < 5 else WEEKEND_HOURS
        windows.append(WeeklyWindow(weekday, opens, closes, price, ""))
    return tuple(windows)


def _opening_hours() -> dict[str, tuple[OpeningRange, ...]]:
    hours: dict[str, tuple[OpeningRange, ...]] = {}
    for weekday, name in enumerate(WEEKDAYS):
        opens, closes = WEEKDAY_HOURS if weekday < 5 else WEEKEND_HOURS
        hours[name] = (OpeningRange(opens.strftime("%H:%M"), closes.strftime("%H:%M")),)
    return hours


# What was created is remembered in the table, so a stack pointed at a DynamoDB that keeps its
# data (DynamoDB Local, a dev table in AWS) loads the demo data once and reuses it after.
_SUMMARY_KEY = ("LOCAL#DEMO", "SUMMARY")


def load_demo_data(now: datetime | None = None) -> dict[str, Any]:
    """Demo venues, resources, a closure, users and a booking, created once; what to tell users."""
    stored = table.get_item(*_SUMMARY_KEY, consistent=True)
    if stored is not None:
        summary: dict[str, Any] = json.loads(stored["summary"])
        return summary
    summary = _create_demo_data(now or clock.now())
    table.put_item({"pk": _SUMMARY_KEY[0], "sk": _SUMMARY_KEY[1], "summary": json.dumps(summary)})
    return summary


def _create_demo_data(now: datetime) -> dict[str, Any]:
    berlin = catalogue.create_venue(
        name="Sports Center",
        slug="sports-center-munich",
        venue_type="sports_center",
        timezone="Europe/Berlin",
        address="123 Main St",
        city="Munich",
        postal_code="80331",
        country="DE",
        cancellation_policy="Free cancellation up to 24 hours before the start.",
        min_advance_booking_hours=1,
        max_advance_booking_days=30,
        description="Indoor tennis and padel courts.",
        phone="+49 89 000000",
        email="frontdesk@sports-center.example",
        is_featured=True,
        opening_hours=_opening_hours(),
    )
    peak = PeakWindow(frozenset(range(5)), time(17), time(20), Decimal("35.00"))
    courts = []
    for number, (activity, activity_name) in enumerate(
        [(1, "tennis"), (1, "tennis"), (2, "padel")], start=1
    ):
        courts.append(
            catalogue.create_resource(
                berlin,
                name=f"Court {number}",
                activity=activity,
                activity_name=activity_name,
                capacity=4,
                base_price=Decimal("25.00"),
                currency="EUR",
                booking_interval_minutes=30,
                min_booking_duration_minutes=60,
                max_booking_duration_minutes=180,
                prevent_unbookable_gaps=True,
                min_advance_booking_minutes=60,
                max_advance_booking_days=30,
                weekly_windows=_weekly_windows(Decimal("25.00")),
                peak_windows=(peak,),
                description=f"{activity_name.title()} court {number}",
            )
        )
    # Court 3 is closed for maintenance on the morning three days from now (venue-local).
    tz = ZoneInfo(berlin.timezone)
    maintenance_day = (now.astimezone(tz) + timedelta(days=3)).date()
    closure = catalogue.add_closure(
        courts[2].id,
        datetime.combine(maintenance_day, time(8), tz),
        datetime.combine(maintenance_day, time(12), tz),
        "Maintenance",
    )

    new_york = catalogue.create_venue(
        name="Harbor Racquet Club",
        slug="harbor-racquet-club",
        venue_type="club",
        timezone="America/New_York",
        address="1 Pier Rd",
        city="New York",
        postal_code="10004",
        country="US",
        cancellation_policy="Cancellations are free until 12 hours before the start.",
        min_advance_booking_hours=0,
        max_advance_booking_days=14,
        opening_hours=_opening_hours(),
    )
    pickleball = catalogue.create_resource(
        new_york,
        name="Pickleball Court A",
        activity=3,
        activity_name="pickleball",
        capacity=4,
        base_price=Decimal("40.00"),
        currency="USD",
        booking_interval_minutes=60,
        min_booking_duration_minutes=60,
        max_booking_duration_minutes=120,
        prevent_unbookable_gaps=False,
        min_advance_booking_minutes=0,
        max_advance_booking_days=14,
        weekly_windows=_weekly_windows(Decimal("40.00")),
    )

    users = []
    for demo in DEMO_USERS:
        user = accounts.register_user(
            demo["email"], demo["password"], demo["first_name"], demo["last_name"]
        )
        accounts.grant_token(user.id, demo["token"])
        users.append({"id": user.id, **{k: demo[k] for k in ("email", "password", "token")}})

    admin = accounts.register_user(
        DEMO_ADMIN["email"], DEMO_ADMIN["password"], "Ada", "Admin", role="admin"
    )
    accounts.grant_token(admin.id, DEMO_ADMIN["token"], kind=PrincipalKind.ADMIN)

    owner = accounts.register_user(DEMO_OWNER["email"], DEMO_OWNER["password"], "Olga", "Owner")
    accounts.grant_token(owner.id, DEMO_OWNER["token"])
    table.put_item(
        staff.member_item(
            staff.Membership(
                venue_id=berlin.id,
                user_id=owner.id,
                role=VenueRole.OWNER,
                email=owner.email,
                since=now,
            )
        )
    )

    partner_apps = []
    for demo in DEMO_CLIENTS:
        client, _ = clients.create_client(
            demo["name"],
            Decimal(demo["commission_percent"]),
            demo["contact_email"],
            token=demo["token"],
        )
        if "rate_limit_requests" in demo:
            own_limit = int(demo["rate_limit_requests"])
            client = dataclasses.replace(client, rate_limit_requests=own_limit)
            client_store.save_client(client)
        acting = Principal(kind=PrincipalKind.CLIENT, user_id=client.service_user_id, client=client)
        clients.register_resource(
            acting,
            ClientResourceRegistration(
                external_id=demo["resource_external_id"], resource_id=courts[0].id
            ),
            now,
        )
        clients.register_venue(
            acting,
            ClientVenueRegistration(external_id=demo["venue_external_id"], venue_id=berlin.id),
            now,
        )
        partner_apps.append({"id": client.id, **demo})

    # One pending booking of the demo user, two days ahead at 18:00 on Court 1.
    booking_day = (now.astimezone(tz) + timedelta(days=2)).date()
    booking = bookings.create_booking(
        Principal(kind=PrincipalKind.USER, user_id=users[0]["id"]),
        BookingCreate(
            resource=courts[0].id,
            start_datetime=datetime.combine(booking_day, time(18), tz),
            end_datetime=datetime.combine(booking_day, time(19), tz),
            participant_count=2,
            notes="Demo booking",
        ),
        now,
    )

    return {
        "users": users,
        "admin": {**DEMO_ADMIN, "id": admin.id},
        "owner": {**DEMO_OWNER, "id": owner.id, "venue": berlin.id},
        "clients": partner_apps,
        "bookings": [
            {
                "id": booking.id,
                "reference_code": booking.reference_code,
                "total_price": str(booking.total_price),
            }
        ],
        "venues": [
            {"id": berlin.id, "name": berlin.name, "timezone": berlin.timezone},
            {"id": new_york.id, "name": new_york.name, "timezone": new_york.timezone},
        ],
        "resources": [
            {"id": r.id, "name": r.name, "venue": r.venue_id} for r in [*courts, pickleball]
        ],
        "closures": [
            {
                "resource": closure.resource_id,
                "start": closure.start.isoformat(),
                "end": closure.end.isoformat(),
                "reason": closure.reason,
            }
        ],
    }
