"""How a venue's values are shown: in the venue endpoints' answers, and before and after a
change in its audit trail (so the trail records the values exactly as the API showed them).

Plain functions over the domain: the handlers that only read a venue load no request model.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from booking_core.domain import WEEKDAYS, Venue
from booking_core.rules.model import SpecialDay


def venue_values(venue: Venue) -> dict[str, Any]:
    """The venue's values an operator sets, as the API shows them: what its answers carry and
    what its audit entries record before and after a change."""
    return {
        "name": venue.name,
        "slug": venue.slug,
        "venue_type": venue.venue_type,
        "timezone": venue.timezone,
        "address": venue.address,
        "city": venue.city,
        "postal_code": venue.postal_code,
        "country": venue.country,
        "description": venue.description,
        "phone": venue.phone,
        "email": venue.email,
        "cancellation_policy": venue.cancellation_policy,
        "cancellation_terms": {
            "deadline_hours": venue.cancellation_terms.deadline_hours,
            "free_hours": venue.cancellation_terms.free_hours,
            "late_refund_percent": venue.cancellation_terms.late_refund_percent,
        },
        "min_advance_booking_hours": venue.min_advance_booking_hours,
        "max_advance_booking_days": venue.max_advance_booking_days,
        "opening_hours": {
            day: {
                "closed": not venue.opening_hours.get(day),
                "ranges": [
                    {"open": r.opens, "close": r.closes} for r in venue.opening_hours.get(day, ())
                ],
            }
            for day in WEEKDAYS
        },
        "special_days": [special_day_view(day) for day in venue.special_days],
        "accepts_pay_at_venue": venue.accepts_pay_at_venue,
    }


def special_day_view(day: SpecialDay) -> dict[str, Any]:
    return {
        "date": day.date.isoformat(),
        "closed": day.closed,
        "ranges": [
            {"open": _clock(r.opens), "close": _clock(r.closes, end=True)} for r in day.ranges
        ],
        "label": day.label,
    }


def _clock(moment: dt.time, *, end: bool = False) -> str:
    return "24:00" if end and moment == dt.time(0) else moment.strftime("%H:%M")
