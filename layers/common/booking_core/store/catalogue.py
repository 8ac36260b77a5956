"""Venues, resources and closures.

Keys:
  VENUE#<id> / VENUE            gsi1: VENUES / VENUE#<id:08d>
  RESOURCE#<id> / RESOURCE      gsi1: RESOURCES / VENUE#<venue:08d>#RESOURCE#<id:08d>
  RESOURCE#<id> / CLOSURE#<end utc>#<closure id>
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from booking_core.domain import CancellationTerms, Closure, OpeningRange, Resource, Venue
from booking_core.rules.model import PeakWindow, WeeklyWindow
from booking_core.store import table
from booking_core.store.timestamps import parse_instant, utc_key


def venue_key(venue_id: int) -> tuple[str, str]:
    return f"VENUE#{venue_id}", "VENUE"


def resource_key(resource_id: int) -> tuple[str, str]:
    return f"RESOURCE#{resource_id}", "RESOURCE"


# ---- venues -------------------------------------------------------------------------------


def create_venue(**fields: Any) -> Venue:
    """Store a new venue under the next id of the venue counter."""
    venue = Venue(id=table.next_counter_value("venue"), **fields)
    save_venue(venue)
    return venue


def save_venue(venue: Venue) -> None:
    pk, sk = venue_key(venue.id)
    item = dataclasses.asdict(venue)
    item["opening_hours"] = {
        day: [{"opens": r.opens, "closes": r.closes} for r in ranges]
        for day, ranges in venue.opening_hours.items()
    }
    item["platform_fee_percent"] = str(venue.platform_fee_percent)
    item.update(pk=pk, sk=sk, entity="venue", gsi1pk="VENUES", gsi1sk=f"VENUE#{venue.id:08d}")
    table.put_item(item)


def get_venue(venue_id: int) -> Venue | None:
    item = table.get_item(*venue_key(venue_id))
    return _venue_from_item(item) if item else None


def list_venues() -> list[Venue]:
    return [_venue_from_item(item) for item in table.query(pk="VENUES", index="gsi1")]


def _venue_from_item(item: dict[str, Any]) -> Venue:
    fields = {f.name for f in dataclasses.fields(Venue)}
    values = {k: v for k, v in item.items() if k in fields}
    values["id"] = int(values["id"])
    values["min_advance_booking_hours"] = int(values["min_advance_booking_hours"])
    values["max_advance_booking_days"] = int(values["max_advance_booking_days"])
    values["opening_hours"] = {
        day: tuple(OpeningRange(opens=r["opens"], closes=r["closes"]) for r in ranges)
        for day, ranges in item.get("opening_hours", {}).items()
    }
    values["cancellation_terms"] = cancellation_terms_from_item(item.get("cancellation_terms"))
    values["platform_fee_percent"] = Decimal(str(item.get("platform_fee_percent", "0")))
    return Venue(**values)


def cancellation_terms_from_item(stored: dict[str, Any] | None) -> CancellationTerms:
    if not stored:
        return CancellationTerms()
    return CancellationTerms(**{name: int(value) for name, value in stored.items()})


# ---- resources ----------------------------------------------------------------------------


def create_resource(venue: Venue, **fields: Any) -> Resource:
    """Store a new resource of `venue` under the next id of the resource counter."""
    fields.setdefault("cancellation_terms", venue.cancellation_terms)
    resource = Resource(
        id=table.next_counter_value("resource"),
        venue_id=venue.id,
        venue_name=venue.name,
        venue_address=venue.full_address,
        timezone=venue.timezone,
        **fields,
    )
    save_resource(resource)
    return resource


def save_resource(resource: Resource) -> None:
    pk, sk = resource_key(resource.id)
    item = dataclasses.asdict(resource)
    item["base_price"] = str(resource.base_price)
    item["weekly_windows"] = [
        {
            "weekday": w.weekday,
            "opens": w.opens.strftime("%H:%M"),
            "closes": w.closes.strftime("%H:%M"),
            "price_per_hour": str(w.price_per_hour),
            "label": w.label,
        }
        for w in resource.weekly_windows
    ]
    item["peak_windows"] = [
        {
            "weekdays": sorted(p.weekdays),
            "starts": p.starts.strftime("%H:%M"),
            "ends": p.ends.strftime("%H:%M"),
            "price_per_hour": str(p.price_per_hour),
        }
        for p in resource.peak_windows
    ]
    item.update(
        pk=pk,
        sk=sk,
        entity="resource",
        gsi1pk="RESOURCES",
        gsi1sk=f"VENUE#{resource.venue_id:08d}#RESOURCE#{resource.id:08d}",
    )
    table.put_item(item)


def get_resource(resource_id: int) -> Resource | None:
    item = table.get_item(*resource_key(resource_id))
    return _resource_from_item(item) if item else None


def list_resources(venue_id: int | None = None) -> list[Resource]:
    prefix = f"VENUE#{venue_id:08d}#" if venue_id is not None else None
    items = table.query(pk="RESOURCES", index="gsi1", sk_prefix=prefix)
    return [_resource_from_item(item) for item in items]


def _resource_from_item(item: dict[str, Any]) -> Resource:
    fields = {f.name for f in dataclasses.fields(Resource)}
    values = {k: v for k, v in item.items() if k in fields}
    for name in (
        "id",
        "venue_id",
        "activity",
        "capacity",
        "booking_interval_minutes",
        "min_booking_duration_minutes",
        "min_advance_booking_minutes",
        "max_advance_booking_days",
    ):
        values[name] = int(values[name])
    maximum = values.get("max_booking_duration_minutes")
    values["max_booking_duration_minutes"] = int(maximum) if maximum is not None else None
    values["base_price"] = Decimal(values["base_price"])
    values["cancellation_terms"] = cancellation_terms_from_item(item.get("cancellation_terms"))
    values["weekly_windows"] = tuple(
        WeeklyWindow(
            weekday=int(w["weekday"]),
            opens=time.fromisoformat(w["opens"]),
            closes=time.fromisoformat(w["closes"]),
            price_per_hour=Decimal(w["price_per_hour"]),
            label=w.get("label", ""),
        )
        for w in item.get("weekly_windows", [])
    )
    values["peak_windows"] = tuple(
        PeakWindow(
            weekdays=frozenset(int(d) for d in p["weekdays"]),
            starts=time.fromisoformat(p["starts"]),
            ends=time.fromisoformat(p["ends"]),
            price_per_hour=Decimal(p["price_per_hour"]),
        )
        for p in item.get("peak_windows", [])
    )
    return Resource(**values)


# ---- closures -----------------------------------------------------------------------------


def add_closure(resource_id: int, start: datetime, end: datetime, reason: str) -> Closure:
    """Close a resource for a time (maintenance, tournament...).

    Keyed by end time so that "closures still running after T" is one key-range query.
    """
    closure = Closure(
        id=str(uuid.uuid4()), resource_id=resource_id, start=start, end=end, reason=reason
    )
    table.put_item(
        {
            "pk": f"RESOURCE#{resource_id}",
            "sk": f"CLOSURE#{utc_key(end)}#{closure.id}",
            "entity": "closure",
            "id": closure.id,
            "resource_id": resource_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "reason": reason,
        }
    )
    return closure


def closures_overlapping(resource_id: int, start: datetime, end: datetime) -> list[Closure]:
    """Closures of a resource that overlap [start, end): one query, strongly consistent."""
    items: Iterable[dict[str, Any]] = table.query(
        pk=f"RESOURCE#{resource_id}",
        sk_between=(f"CLOSURE#{utc_key(start)}", "CLOSURE#~"),
        consistent=True,
    )
    closures = [
        Closure(
            id=item["id"],
            resource_id=resource_id,
            start=parse_instant(item["start"]),
            end=parse_instant(item["end"]),
            reason=item.get("reason", ""),
        )
        for item in items
    ]
    return [c for c in closures if c.start < end and c.end > start]
