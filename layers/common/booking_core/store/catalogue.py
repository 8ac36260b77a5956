"""Venues, resources and closures.

Keys:
  VENUE#<id> / VENUE            gsi1: VENUES / VENUE#<id:08d>
  VENUESLUG#<slug> / VENUESLUG  -> venue_id (keeps venue slugs unique)
  RESOURCE#<id> / RESOURCE      gsi1: RESOURCES / VENUE#<venue:08d>#RESOURCE#<id:08d>
  RESOURCE#<id> / CLOSURE#<end utc>#<closure id>   (see store.closures)

A resource keeps copies of its venue's timezone, cancellation terms, name, address and special
days, so that availability and booking read the resource alone; a venue change rewrites them
in the transaction that changes the venue (`resource_copy_op`). The venue item's `version`
counts its changes (its ETag); its `resources_version` counts the resource writes that copied
its values or were checked against them (`venue_unchanged_op`), so that a venue change and
such a write never both commit on what the other has made stale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from booking_core.domain import CancellationTerms, OpeningRange, Resource, Venue
from booking_core.rules.model import DayRange, PeakWindow, SpecialDay, WeeklyWindow
from booking_core.store import closures, table
from booking_core.store.timestamps import utc_key


def venue_key(venue_id: int) -> tuple[str, str]:
    return f"VENUE#{venue_id}", "VENUE"


def resource_key(resource_id: int) -> tuple[str, str]:
    return f"RESOURCE#{resource_id}", "RESOURCE"


# ---- venues -------------------------------------------------------------------------------


def create_venue(**fields: Any) -> Venue:
    """Store a new venue under the next id of the venue counter (its slug must be free)."""
    venue = Venue(id=table.next_counter_value("venue"), **fields)
    table.transact(new_venue_ops(venue))
    return venue


def new_venue_ops(venue: Venue) -> list[dict[str, Any]]:
    """The Puts that store a new venue and claim its slug, for one transaction: the venue
    first, then its slug (refused when another venue has it)."""
    return [
        table.put_op(venue_item(venue), condition="attribute_not_exists(pk)"),
        slug_claim_op(venue.slug, venue.id),
    ]


def save_venue(venue: Venue) -> None:
    """Overwrite a venue as it is (demo data and tests; operators' edits use `venue_update_op`)."""
    table.put_item(venue_item(venue))


def venue_item(venue: Venue) -> dict[str, Any]:
    pk, sk = venue_key(venue.id)
    item = dataclasses.asdict(venue)
    item["opening_hours"] = {
        day: [{"opens": r.opens, "closes": r.closes} for r in ranges]
        for day, ranges in venue.opening_hours.items()
    }
    item["platform_fee_percent"] = str(venue.platform_fee_percent)
    item["special_days"] = special_days_item(venue.special_days)
    item.update(pk=pk, sk=sk, entity="venue", gsi1pk="VENUES", gsi1sk=f"VENUE#{venue.id:08d}")
    return item


def venue_update_op(before: Venue, after: Venue, *, resources_version: int) -> dict[str, Any]:
    """The Update that changes a venue from `before` to `after` (`after.version` is the next
    one), conditioned on the stored version still being `before.version` (a venue stored
    without one is at version 1) and on its resources not having changed since they were read
    (`resources_version`, as `venue_for_change` read it; see `venue_unchanged_op`).

    Only the attributes that differ are set, so attributes this change does not know of (say,
    what Stripe's webhook records) are left as they are.
    """
    old, new = venue_item(before), venue_item(after)
    changed = {name: value for name, value in new.items() if old.get(name) != value}
    changed["version"] = after.version
    removed = tuple(name for name, value in changed.items() if value is None)
    condition = f"({_version_condition(before)}) AND "
    values: dict[str, Any] = {":seen": before.version}
    if resources_version:
        condition += "#resources_version = :resources_seen"
        values[":resources_seen"] = resources_version
    else:
        condition += "attribute_not_exists(#resources_version)"
    pk, sk = venue_key(before.id)
    return table.update_op(
        pk,
        sk,
        set_values={name: value for name, value in changed.items() if value is not None},
        remove=removed,
        condition=condition,
        values=values,
    )


def _version_condition(venue: Venue) -> str:
    """The venue is still at `venue.version` (`:seen`); one stored without a version is at 1."""
    if venue.version == 1:
        return "attribute_not_exists(#version) OR #version = :seen"
    return "#version = :seen"


def slug_claim_op(slug: str, venue_id: int) -> dict[str, Any]:
    """The Put that claims a venue slug for `venue_id`; refused when another venue has it."""
    return table.put_op(
        {
            "pk": f"VENUESLUG#{slug}",
            "sk": "VENUESLUG",
            "entity": "venue_slug",
            "venue_id": venue_id,
        },
        condition="attribute_not_exists(pk) OR #venue_id = :venue_id",
        values={":venue_id": venue_id},
    )


def slug_release_op(slug: str, venue_id: int) -> dict[str, Any]:
    """The Delete that frees a slug the venue no longer uses."""
    return {
        "Delete": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo({"pk": f"VENUESLUG#{slug}", "sk": "VENUESLUG"}),
            "ConditionExpression": "attribute_not_exists(pk) OR venue_id = :venue_id",
            "ExpressionAttributeValues": table.to_dynamo({":venue_id": venue_id}),
        }
    }


def slug_owner(slug: str) -> int | None:
    """The id of the venue with this slug, if any (its claim, or a venue stored before claims)."""
    claim = table.get_item(f"VENUESLUG#{slug}", "VENUESLUG", consistent=True)
    if claim is not None:
        return int(claim["venue_id"])
    return next((v.id for v in list_venues() if v.slug == slug), None)


def venue_unchanged_op(venue: Venue, *, new_resource_id: int | None = None) -> dict[str, Any]:
    """For a write of a resource that copies the venue's values or is checked against them (a
    new resource, new weekly windows): refused unless the venue is still at `venue.version`,
    and it moves the venue's resources version on (not its version: its ETag stays).

    So the two orders are both safe: a venue change written first makes this write fail (it
    reads the venue again); this write first makes the venue change fail, which reads the
    resources again (`venue_update_op` is conditioned on the resources version it read).

    With `new_resource_id`, the venue item lists the new resource too (`resource_ids`), in the
    same write: a venue change finds it there at once, where the index may lag.
    """
    pk, sk = venue_key(venue.id)
    expression = "SET #resources_version = if_not_exists(#resources_version, :zero) + :one"
    names = {"#version": "version", "#resources_version": "resources_version"}
    values: dict[str, Any] = {":seen": venue.version, ":zero": 0, ":one": 1}
    if new_resource_id is not None:
        expression += " ADD #resource_ids :new_id"
        names["#resource_ids"] = "resource_ids"
        values[":new_id"] = {new_resource_id}
    return {
        "Update": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo({"pk": pk, "sk": sk}),
            "UpdateExpression": expression,
            "ConditionExpression": _version_condition(venue),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": table.to_dynamo(values),
        }
    }


def venue_for_change(venue_id: int) -> tuple[Venue, int] | None:
    """The venue, strongly consistent, and the version of its resources (0 before the first
    resource write that took part in it): what a venue change is conditioned on."""
    item = table.get_item(*venue_key(venue_id), consistent=True)
    if item is None:
        return None
    return _venue_from_item(item), int(item.get("resources_version", 0))


def resources_of_venue(venue_id: int) -> list[Resource]:
    """The venue's resources, each read strongly consistent. Their ids come from the index
    and from the venue item's own list (`resource_ids`, written with each resource created
    through the API): the index may lag a resource created a moment ago, the list does not."""
    venue_item = table.get_item(*venue_key(venue_id), consistent=True) or {}
    listed = {int(i) for i in venue_item.get("resource_ids", set())}
    ids = sorted(listed | {resource.id for resource in list_resources(venue_id)})
    keys = [dict(zip(("pk", "sk"), resource_key(i), strict=True)) for i in ids]
    found: dict[int, Resource] = {}
    for item in table.batch_get(keys, consistent=True):
        resource = _resource_from_item(item)
        if resource.venue_id == venue_id:
            found[resource.id] = resource
    return [found[i] for i in ids if i in found]


def get_venue(venue_id: int, *, consistent: bool = False) -> Venue | None:
    item = table.get_item(*venue_key(venue_id), consistent=consistent)
    return _venue_from_item(item) if item else None


def get_venues(venue_ids: Iterable[int]) -> dict[int, Venue]:
    """The venues of `venue_ids` that exist, by id, in one BatchGetItem per 100."""
    keys = [dict(zip(("pk", "sk"), venue_key(i), strict=True)) for i in sorted(set(venue_ids))]
    venues = map(_venue_from_item, table.batch_get(keys))
    return {venue.id: venue for venue in venues}


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
    values["special_days"] = special_days_from_item(item.get("special_days"))
    values["version"] = int(item.get("version", 1))
    if item.get("stripe_account_updated_at") is not None:
        values["stripe_account_updated_at"] = int(item["stripe_account_updated_at"])
    return Venue(**values)


def cancellation_terms_from_item(stored: dict[str, Any] | None) -> CancellationTerms:
    if not stored:
        return CancellationTerms()
    return CancellationTerms(**{name: int(value) for name, value in stored.items()})


def special_days_item(days: Iterable[SpecialDay]) -> list[dict[str, Any]]:
    """Special days as stored (venue and resource items alike): "HH:MM", "24:00" for midnight
    at the end of the day."""
    return [
        {
            "date": day.date.isoformat(),
            "ranges": [
                {"opens": _wall(r.opens), "closes": _wall(r.closes, end=True)} for r in day.ranges
            ],
            "label": day.label,
        }
        for day in days
    ]


def special_days_from_item(stored: list[dict[str, Any]] | None) -> tuple[SpecialDay, ...]:
    return tuple(
        SpecialDay(
            date=date.fromisoformat(day["date"]),
            ranges=tuple(
                DayRange(opens=_parse_wall(r["opens"]), closes=_parse_wall(r["closes"]))
                for r in day.get("ranges", [])
            ),
            label=day.get("label", ""),
        )
        for day in stored or []
    )


def _wall(moment: time, *, end: bool = False) -> str:
    return "24:00" if end and moment == time(0) else moment.strftime("%H:%M")


def _parse_wall(text: str) -> time:
    return time(0) if text == "24:00" else time.fromisoformat(text)


def resource_copy_op(resource_id: int, venue: Venue) -> dict[str, Any]:
    """The Update that gives a resource of `venue` the venue's values it keeps copies of, and
    its next version (a concurrent edit of the resource then re-reads); refused if the
    resource is gone or belongs to another venue."""
    copies = {
        "timezone": venue.timezone,
        "cancellation_terms": dataclasses.asdict(venue.cancellation_terms),
        "venue_name": venue.name,
        "venue_address": venue.full_address,
        "special_days": special_days_item(venue.special_days),
    }
    assignments = ", ".join(f"#{name} = :{name}" for name in copies)
    pk, sk = resource_key(resource_id)
    return {
        "Update": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo({"pk": pk, "sk": sk}),
            "UpdateExpression": (
                f"SET {assignments}, #version = if_not_exists(#version, :one) + :one"
            ),
            "ConditionExpression": "attribute_exists(pk) AND #venue_id = :venue_id",
            "ExpressionAttributeNames": {
                **{f"#{name}": name for name in copies},
                "#version": "version",
                "#venue_id": "venue_id",
            },
            "ExpressionAttributeValues": table.to_dynamo(
                {
                    **{f":{name}": value for name, value in copies.items()},
                    ":one": 1,
                    ":venue_id": venue.id,
                }
            ),
        }
    }


# ---- resources ----------------------------------------------------------------------------


def create_resource(venue: Venue, **fields: Any) -> Resource:
    """Store a new resource of `venue` under the next id of the resource counter."""
    resource = new_resource(venue, **fields)
    save_resource(resource)
    return resource


def new_resource(venue: Venue, **fields: Any) -> Resource:
    """A resource of `venue` under the next id of the resource counter, with the venue's values
    it keeps copies of (not stored yet: see `new_resource_op`)."""
    fields.setdefault("cancellation_terms", venue.cancellation_terms)
    return Resource(
        id=table.next_counter_value("resource"),
        venue_id=venue.id,
        venue_name=venue.name,
        venue_address=venue.full_address,
        timezone=venue.timezone,
        special_days=venue.special_days,
        **fields,
    )


def save_resource(resource: Resource) -> None:
    """Overwrite a resource as it is (demo data and tests; operators' edits use
    `resource_update_op`)."""
    table.put_item(resource_item(resource))


def new_resource_op(resource: Resource) -> dict[str, Any]:
    """The Put that stores a new resource, for the transaction that records its creation."""
    return table.put_op(resource_item(resource), condition="attribute_not_exists(pk)")


def resource_update_op(before: Resource, after: Resource) -> dict[str, Any]:
    """The Update that changes a resource from `before` to `after` (`after.version` is the next
    one), conditioned on the stored version still being `before.version` (a resource stored
    without one is at version 1).

    Only the attributes that differ are set: the venue's copies, which a venue change rewrites
    (`resource_copy_op`, which bumps the version too), are never written back from a stale read.
    """
    old, new = resource_item(before), resource_item(after)
    changed = {name: value for name, value in new.items() if old.get(name) != value}
    changed["version"] = after.version
    removed = tuple(name for name, value in changed.items() if value is None)
    condition = "#version = :seen"
    if before.version == 1:
        condition = "attribute_not_exists(#version) OR " + condition
    pk, sk = resource_key(before.id)
    return table.update_op(
        pk,
        sk,
        set_values={name: value for name, value in changed.items() if value is not None},
        remove=removed,
        condition=f"attribute_exists(pk) AND ({condition})",
        values={":seen": before.version},
    )


def resource_item(resource: Resource) -> dict[str, Any]:
    pk, sk = resource_key(resource.id)
    item = dataclasses.asdict(resource)
    item["base_price"] = str(resource.base_price)
    item["special_days"] = special_days_item(resource.special_days)
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
    return item


def resource_unchanged_op(resource: Resource) -> dict[str, Any]:
    """For a booking's write: refused unless the resource is still at `resource.version`, so
    that no booking is made on a resource read before a change to it (deactivated, repriced,
    its venue's timezone or terms changed) that was written meanwhile."""
    pk, sk = resource_key(resource.id)
    condition = "#version = :seen"
    if resource.version == 1:  # a resource stored before versions were kept is at 1
        condition = "attribute_not_exists(#version) OR #version = :seen"
    return {
        "ConditionCheck": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo({"pk": pk, "sk": sk}),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": table.to_dynamo({":seen": resource.version}),
        }
    }


def resource_from_item(item: dict[str, Any]) -> Resource:
    """A resource as stored (its item, read by another module's batch read)."""
    return _resource_from_item(item)


def venue_from_item(item: dict[str, Any]) -> Venue:
    """A venue as stored (its item, read by another module's batch read)."""
    return _venue_from_item(item)


def get_resource(resource_id: int, *, consistent: bool = False) -> Resource | None:
    item = table.get_item(*resource_key(resource_id), consistent=consistent)
    return _resource_from_item(item) if item else None


def booking_ids_from(resource_id: int, start: datetime) -> list[str]:
    """The bookings holding a slot of the resource that starts at or after `start`, by the
    start of their first such slot (one strongly consistent query of the slot items)."""
    items = table.query(
        pk=f"RESOURCE#{resource_id}",
        sk_between=(f"SLOT#{utc_key(start)}", "SLOT#~"),
        consistent=True,
    )
    return list(dict.fromkeys(str(item["booking_id"]) for item in items if "booking_id" in item))


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
    values["special_days"] = special_days_from_item(item.get("special_days"))
    values["version"] = int(item.get("version", 1))
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
# They live in `store.closures` (their entries in the hour items are the bookings' concern);
# these names stay for the code that knows them from here (the demo data).
add_closure = closures.add_closure
