"""Bookings, and the writes that make a double booking impossible.

Keys:
  BOOKING#<uuid> / BOOKING            the booking; gsi1: USER#<user> / BOOKING#<start utc>#<uuid>
  REFCODE#<reference code> / REFCODE  keeps reference codes unique
  RESOURCE#<id> / SLOT#<start utc>    one item per booking-interval slot a booking holds
  RESOURCE#<id> / HOUR#<utc hour>     a version number per resource and UTC hour, with an
                                      entry for each booking (`booking_<id>`) and closure
                                      (`closure_<id>`, see `store.closures`) counted there
  USER#<user> / HOLDS[#<client>]      the user's holds (made directly, or through a client):
                                      booking id -> hold expiry, and a version
A booking also carries gsi3: VENUE#<venue> / <start utc>#<uuid>, the venue's bookings by start.
A booking made through a client also carries gsi4: CLIENT#<client> / <created utc, to the
microsecond>#<uuid>, the client's bookings by creation (projecting user_id, status and start,
what its list filters on). Bookings stored before gsi4 existed lack its keys and are not listed.
A pending booking also carries gsi2: HOLDS#<shard> / <hold expiry utc>#<uuid>, so that the
sweep finds lapsed holds; paying, cancelling or expiring the booking removes it.

A booking is written in one transaction with: its slot items, each conditioned on the slot
being free (absent, or held by a pending booking whose hold has expired, so an expired hold is
taken over in the same write); and, in every UTC hour the booking widened by the rules' reach
touches, an entry for the booking plus a version bump, conditioned on the version read before
validating. The rules read busy time from the hour items alone: a transaction may become
visible to other reads item by item, but never half an item, so a version comes with exactly
the bookings (and closures) it counts. Any two bookings whose verdicts depend on each other
share an hour, so the second to commit fails and re-validates (see `services.bookings`); a
closure takes part in the same way (`store.closures`). The slot conditions
stop overlaps on one grid at once and carry the expired-hold takeover. The same transaction
rewrites the caller's holds item, conditioned on its version as read, so the live holds the
caller was counted with are the ones it has: two bookings of one caller never both pass a cap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from booking_core.domain import Booking, BookingStatus
from booking_core.rules.model import Span
from booking_core.store import table
from booking_core.store.catalogue import cancellation_terms_from_item
from booking_core.store.closures import ENTRY_PREFIX as CLOSURE_ENTRY_PREFIX
from booking_core.store.timestamps import epoch_seconds, parse_instant, utc_key

# DynamoDB's limit on the items of one transaction.
MAX_TRANSACTION_ITEMS = 100


class SlotTaken(Exception):
    """Another booking holds one of the requested slots."""


class ScheduleChanged(Exception):
    """A booking was written nearby since we read; re-read and re-validate."""


class ReferenceCodeTaken(Exception):
    pass


# Besides a booking's slots and hours, the write that marks it paid (and makes its hold
# permanent) has: the event marker, the payment, the booking, two email tasks and two
# commission lines. Booking inserts need fewer (the booking and its reference code).
_PAID_WRITE_ITEMS = 7

# Pending bookings are spread over this many index partitions (the sweep reads them all).
HOLD_SHARDS = 4


def transaction_items_needed(slot_count: int, hour_count: int) -> int:
    """Items in the largest transaction a booking takes part in: the one that pays it."""
    return _PAID_WRITE_ITEMS + slot_count + hour_count


def _resource_pk(resource_id: int) -> str:
    return f"RESOURCE#{resource_id}"


@dataclass(frozen=True)
class HoldLedger:
    """The holds of one user, made directly (`client_id` None) or through one client, as last
    written with a booking: booking id -> when its hold ends, and the item's version.

    Entries are only ever added by the transaction that writes their booking, and dropped when
    the next one finds them lapsed or no longer pending; so the item stays as small as the cap.
    """

    user_id: str
    client_id: str | None
    version: int
    holds: dict[str, datetime]


@dataclass(frozen=True)
class HourState:
    """What the version items of some UTC hours say: their versions, and the bookings and
    closures (by closure id) in them."""

    versions: dict[str, int]
    bookings: list[Span]
    closures: dict[str, Span] = dataclasses.field(default_factory=dict)

    @property
    def busy(self) -> list[Span]:
        """The bookings and closures, as the rules take busy time."""
        return [*self.bookings, *self.closures.values()]


_ENTRY_PREFIX = "booking_"


def hour_state(resource_id: int, hours: Sequence[datetime], now: datetime) -> HourState:
    """The versions of these UTC hours and the active bookings and closures recorded in them.

    Every booking is recorded, with its version bump, in each hour its look-around window
    touches, so one read of an hour item gives a version and exactly the bookings it counts:
    a transaction may become visible to other reads item by item, but never half an item.
    A pending booking whose hold has expired no longer holds its time. Closures are recorded
    in the same way (`store.closures`). Any number of hours (read 100 at a time).
    """
    state, _ = _read_hours(resource_id, hours, now, holds_of=None)
    return state


def hours_and_holds(
    resource_id: int,
    hours: Sequence[datetime],
    now: datetime,
    *,
    user_id: str,
    client_id: str | None,
) -> tuple[HourState, HoldLedger]:
    """`hour_state`, and in the same read the holds of a user made directly (`client_id` None)
    or through that client: what a new booking's write is conditioned on."""
    state, holds = _read_hours(resource_id, hours, now, holds_of=(user_id, client_id))
    return state, holds or HoldLedger(user_id, client_id, version=0, holds={})


def _read_hours(
    resource_id: int,
    hours: Sequence[datetime],
    now: datetime,
    *,
    holds_of: tuple[str, str | None] | None,
) -> tuple[HourState, HoldLedger | None]:
    keys = [utc_key(hour) for hour in hours]
    wanted = [_hour_key(resource_id, key) for key in keys]
    if holds_of is not None:
        wanted.append(_ledger_key(*holds_of))
    found = _batch_read(wanted, must_answer=0)
    holds = None
    if holds_of is not None:
        ledger = found.get(_key_of(_ledger_key(*holds_of)))
        holds = _ledger_of(ledger, *holds_of) if ledger is not None else None
    return _state_of(resource_id, keys, found, now), holds


def _hour_key(resource_id: int, hour_key: str) -> dict[str, str]:
    return {"pk": _resource_pk(resource_id), "sk": f"HOUR#{hour_key}"}


def _key_of(key: dict[str, str]) -> tuple[str, str]:
    return key["pk"], key["sk"]


def _batch_read(
    wanted: Sequence[dict[str, str]], *, must_answer: int
) -> dict[tuple[str, str], dict[str, Any]]:
    """The items of these keys that exist, by key, strongly consistent, 100 keys a request.

    Keys DynamoDB leaves unprocessed (throttling) are asked again, a few times; the first
    `must_answer` keys must be answered (ServiceBusy otherwise), the others may stay unread.
    An hour item left unread reads as version 0 with nothing in it: the write then fails its
    condition and is retried, so a missing answer costs a retry, never a booking (or a hold
    beyond the cap)."""
    items = table.batch_get(wanted, consistent=True, must_answer=must_answer)
    return {(str(item["pk"]), str(item["sk"])): item for item in items}


def _state_of(
    resource_id: int,
    keys: Sequence[str],
    found: dict[tuple[str, str], dict[str, Any]],
    now: datetime,
) -> HourState:
    """The hour state of the hours `keys`, from the items read (an hour without an item is at
    version 0 with nothing in it)."""
    versions: dict[str, int] = dict.fromkeys(keys, 0)
    bookings: dict[str, Span] = {}
    closures: dict[str, Span] = {}
    for key in keys:
        item = found.get(_key_of(_hour_key(resource_id, key)))
        if item is None:
            continue
        versions[key] = int(item["version"])
        for closure_id, span, _ in _entries_in(item, now):
            if closure_id is not None:
                closures.setdefault(closure_id, span)
            else:
                bookings.setdefault(str(span.booking_id), span)
    return HourState(versions=versions, bookings=list(bookings.values()), closures=closures)


def _entries_in(
    item: dict[str, Any], now: datetime
) -> Iterator[tuple[str | None, Span, dict[str, Any]]]:
    """The closures and the live bookings entered in one hour item: (the closure's id, or None
    for a booking; its span; the entry). A pending booking whose hold expired is left out."""
    for name, entry in item.items():
        closure_id = name.removeprefix(CLOSURE_ENTRY_PREFIX)
        if closure_id != name:
            start, end = parse_instant(entry["start"]), parse_instant(entry["end"])
            yield closure_id, Span(start=start, end=end, reason=entry.get("reason", "")), entry
            continue
        booking_id = name.removeprefix(_ENTRY_PREFIX)
        if name == booking_id or _hold_expired(entry, now):
            continue
        span = Span(
            start=parse_instant(entry["start"]),
            end=parse_instant(entry["end"]),
            reason="booked",
            booking_id=booking_id,
        )
        yield None, span, entry


@dataclass(frozen=True)
class BookingRead:
    """What one batch read gave a new booking (`read_for_booking`): the items asked for
    besides the hours (the resource, its venue, the caller's account), the hour items of the
    hours it guessed, and the caller's holds. A booking uses it for its first try when the
    hours it needs are among those read (`hour_state`)."""

    resource_id: int
    hour_keys: frozenset[str]
    found: dict[tuple[str, str], dict[str, Any]]
    holds_of: tuple[str, str | None]
    now: datetime

    def item(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self.found.get((pk, sk))

    def covers(self, hours: Sequence[datetime]) -> bool:
        return all(utc_key(hour) in self.hour_keys for hour in hours)

    def hour_state(self, hours: Sequence[datetime]) -> HourState:
        """The state of `hours` (among those read), exactly as `hour_state` gives it."""
        return _state_of(self.resource_id, [utc_key(h) for h in hours], self.found, self.now)

    def holds(self, user_id: str, client_id: str | None) -> HoldLedger:
        """The caller's holds, as `hours_and_holds` gives them (read for the caller only)."""
        if (user_id, client_id) != self.holds_of:
            raise ValueError("these holds were not read")
        ledger = self.found.get(_key_of(_ledger_key(user_id, client_id)))
        if ledger is None:
            return HoldLedger(user_id, client_id, version=0, holds={})
        return _ledger_of(ledger, user_id, client_id)


def read_for_booking(
    resource_id: int,
    hours: Sequence[datetime],
    now: datetime,
    *,
    items: Sequence[tuple[str, str]],
    holds_of: tuple[str, str | None],
) -> BookingRead:
    """`items` (resource, venue, account: each must be answered) with the hour items of
    `hours` and the holds of `holds_of`, in one strongly consistent batch read: all a new
    booking reads before its write."""
    keys = [utc_key(hour) for hour in hours]
    wanted = [{"pk": pk, "sk": sk} for pk, sk in items]
    wanted += [_hour_key(resource_id, key) for key in keys]
    wanted.append(_ledger_key(*holds_of))
    found = _batch_read(wanted, must_answer=len(items))
    return BookingRead(resource_id, frozenset(keys), found, holds_of, now)


def live_bookings_not_over(resource_id: int, now: datetime) -> set[str]:
    """Ids of the resource's active bookings (pending with a live hold, confirmed, paid) that
    have not ended by `now`: from its hour items of the hour of `now` on, one strongly
    consistent query.

    Every active booking is listed in the hour items its look-around window touches, which
    include the hours of its start and end, so none that has not ended is missed; a
    cancelled or expired one has left them.
    """
    floor = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    found: set[str] = set()
    items = table.query(
        pk=_resource_pk(resource_id),
        sk_between=(f"HOUR#{utc_key(floor)}", "HOUR#~"),
        consistent=True,
    )
    for item in items:
        for name, entry in item.items():
            booking_id = name.removeprefix(_ENTRY_PREFIX)
            if name == booking_id or _hold_expired(entry, now):
                continue
            if parse_instant(entry["end"]) > now:
                found.add(booking_id)
    return found


def busy_from_hours(
    resource_id: int, start: datetime, end: datetime, now: datetime
) -> tuple[list[tuple[Span, Owner | None]], list[Span]]:
    """The active bookings (each with its owner) and the closures that overlap [start, end),
    from the resource's hour items over that range: one strongly consistent query.

    Every booking and closure is entered in each hour item its time touches, with its whole
    time, so the items of the hours of [start, end) list all that overlap it; these are the
    entries a booking's own check reads. A pending booking whose hold expired no longer holds
    its time. A booking entered before entries named their booker has owner None (its slot
    items name it: `booked_spans_with_owner`). Closures come as spans with their reason,
    by end. A closure being written in steps shows in the hours written so far, as it does to
    a booking's check.
    """
    floor = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    bookings: dict[str, tuple[Span, Owner | None]] = {}
    closures: dict[str, Span] = {}
    items = table.query(
        pk=_resource_pk(resource_id),
        sk_between=(f"HOUR#{utc_key(floor)}", f"HOUR#{utc_key(end)}"),
        consistent=True,
    )
    for item in items:
        for closure_id, span, entry in _entries_in(item, now):
            if closure_id is not None:
                closures.setdefault(closure_id, span)
                continue
            user_id = entry.get("user_id")
            owner = Owner(str(user_id), entry.get("client_id")) if user_id else None
            bookings.setdefault(str(span.booking_id), (span, owner))
    return (
        sorted(
            (pair for pair in bookings.values() if pair[0].start < end and pair[0].end > start),
            key=lambda pair: (pair[0].start, pair[0].booking_id or ""),
        ),
        # In the order of the closure items' keys (their end, then their id), as listed before.
        [
            closures[closure_id]
            for closure_id in sorted(closures, key=lambda i: (closures[i].end, i))
            if closures[closure_id].start < end and closures[closure_id].end > start
        ],
    )


@dataclass(frozen=True)
class Owner:
    """Whose a booking is: its user, and the client it was made through (if any)."""

    user_id: str
    client_id: str | None


def booked_spans_with_owner(
    resource_id: int, start: datetime, end: datetime, now: datetime, *, slot_minutes: int
) -> list[tuple[Span, Owner]]:
    """Time held by active bookings that overlaps [start, end), with each booking's owner.

    One strongly consistent query of the slot items (for availability, which shows callers
    their own bookings). A pending booking whose hold expired no longer holds its time.
    """
    seen: dict[str, tuple[Span, Owner]] = {}
    # A booking that ends after `start` holds a slot starting less than one slot before it.
    slots = _slots_between(resource_id, start - timedelta(minutes=slot_minutes), end)
    for slot in slots:
        if _hold_expired(slot, now) or slot["booking_id"] in seen:
            continue
        span = Span(
            start=parse_instant(slot["booking_start"]),
            end=parse_instant(slot["booking_end"]),
            reason="booked",
            booking_id=slot["booking_id"],
        )
        if span.start < end and span.end > start:
            seen[slot["booking_id"]] = (span, Owner(slot["user_id"], slot.get("client_id")))
    return sorted(seen.values(), key=lambda pair: pair[0].start)


def _slots_between(resource_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return list(
        table.query(
            pk=_resource_pk(resource_id),
            sk_between=(f"SLOT#{utc_key(start)}", f"SLOT#{utc_key(end)}"),
            consistent=True,
        )
    )


def _hold_expired(slot: dict[str, Any], now: datetime) -> bool:
    expires = slot.get("hold_expires_at")
    return expires is not None and int(expires) <= epoch_seconds(now)


def _ledger_key(user_id: str, client_id: str | None) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": "HOLDS" if client_id is None else f"HOLDS#{client_id}"}


def _ledger_of(item: dict[str, Any], user_id: str, client_id: str | None) -> HoldLedger:
    holds = {
        booking_id: datetime.fromtimestamp(int(ends), UTC)
        for booking_id, ends in (item.get("holds") or {}).items()
    }
    return HoldLedger(user_id, client_id, int(item.get("version", 0)), holds)


def pending_among(booking_ids: Sequence[str]) -> list[str]:
    """Those of these bookings that are still pending (one strongly consistent batch read of at
    most 100). A booking DynamoDB leaves unprocessed is taken as pending: the caller then
    counts too many holds, never too few."""
    if not booking_ids:
        return []
    name = table.table_name()
    response = table.client().batch_get_item(
        RequestItems={
            name: {
                "Keys": [
                    table.to_dynamo({"pk": f"BOOKING#{booking_id}", "sk": "BOOKING"})
                    for booking_id in booking_ids
                ],
                "ConsistentRead": True,
                "ProjectionExpression": "pk, #status",
                "ExpressionAttributeNames": {"#status": "status"},
            }
        }
    )
    status = {
        str(item["pk"]).removeprefix("BOOKING#"): item.get("status")
        for item in map(table.from_dynamo, response["Responses"].get(name, []))
    }
    left_over = response.get("UnprocessedKeys", {}).get(name)
    unanswered = {
        str(table.from_dynamo(key)["pk"]).removeprefix("BOOKING#")
        for key in (left_over["Keys"] if left_over else [])
    }
    return [
        booking_id
        for booking_id in booking_ids
        if booking_id in unanswered or status.get(booking_id) == BookingStatus.PENDING.value
    ]


def _ledger_update(booking: Booking, ledger: HoldLedger) -> dict[str, Any]:
    """The update that records `booking`'s hold with the holds kept from `ledger`, conditioned
    on the version `ledger` was read at."""
    holds = {booking_id: epoch_seconds(ends) for booking_id, ends in ledger.holds.items()}
    if booking.hold_expires_at is not None:
        holds[booking.id] = epoch_seconds(booking.hold_expires_at)
    values: dict[str, Any] = {":holds": holds, ":next": ledger.version + 1, ":entity": "holds"}
    if ledger.version == 0:
        condition = "attribute_not_exists(#version)"
    else:
        condition = "#version = :seen"
        values[":seen"] = ledger.version
    return {
        "Update": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo(_ledger_key(ledger.user_id, ledger.client_id)),
            "UpdateExpression": "SET #holds = :holds, #version = :next, #entity = :entity",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {
                "#holds": "holds",
                "#version": "version",
                "#entity": "entity",
            },
            "ExpressionAttributeValues": table.to_dynamo(values),
        }
    }


def insert_booking(
    booking: Booking,
    *,
    seen_versions: dict[str, int],
    now: datetime,
    holds: HoldLedger | None = None,
    also: Sequence[dict[str, Any]] = (),
) -> None:
    """Write a new booking and take its slots, all or nothing.

    With `holds` (the caller's, narrowed to the live holds it was counted with), the booking's
    hold joins them in the same write, which fails if the caller's holds changed since read.
    `also`: operations to write with it (a walk-in booking's emails and audit entry).
    Raises SlotTaken, ScheduleChanged or ReferenceCodeTaken; nothing is written then.
    """
    name = table.table_name()
    resource_pk = _resource_pk(booking.resource_id)
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": name,
                "Item": table.to_dynamo(booking_to_item(booking)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": name,
                "Item": table.to_dynamo(
                    {
                        "pk": f"REFCODE#{booking.reference_code}",
                        "sk": "REFCODE",
                        "booking_id": booking.id,
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]
    items += _slot_puts(booking, now, held=True)
    entry = _hour_entry(booking, held=True)
    for hour_key in booking.version_keys:
        seen = seen_versions[hour_key]
        update: dict[str, Any] = {
            "TableName": name,
            "Key": table.to_dynamo({"pk": resource_pk, "sk": f"HOUR#{hour_key}"}),
            "UpdateExpression": "SET #version = :next, #entry = :entry",
            "ExpressionAttributeNames": {
                "#version": "version",
                "#entry": _ENTRY_PREFIX + booking.id,
            },
        }
        values: dict[str, Any] = {":next": seen + 1, ":entry": entry}
        if seen == 0:
            update["ConditionExpression"] = "attribute_not_exists(#version)"
        else:
            update["ConditionExpression"] = "#version = :seen"
            values[":seen"] = seen
        update["ExpressionAttributeValues"] = table.to_dynamo(values)
        items.append({"Update": update})
    if holds is not None:
        # Last, so that the positions of the slots' reasons below stay as they are.
        items.append(_ledger_update(booking, holds))
    items.extend(also)

    try:
        table.client().transact_write_items(TransactItems=items)  # type: ignore[arg-type]
    except ClientError as error:
        reasons = _cancellation_codes(error)
        if reasons is None:
            raise
        slot_range = range(2, 2 + len(booking.slot_starts))
        if any(reasons[i] == "ConditionalCheckFailed" for i in slot_range):
            raise SlotTaken from error
        if reasons[1] == "ConditionalCheckFailed":
            raise ReferenceCodeTaken from error
        # A changed hour version or holds item, or a conflict with a concurrent transaction.
        raise ScheduleChanged from error


def _slot_puts(booking: Booking, now: datetime, *, held: bool) -> list[dict[str, Any]]:
    """Puts that take the booking's slots: each free, already ours, or held by a pending
    booking whose hold has run out (which is how an expired hold is taken over).

    `held` writes the booking's hold expiry into the slots (a new, pending booking); without
    it the slots are the booking's for good (it is paid).
    """
    base: dict[str, Any] = {
        "pk": _resource_pk(booking.resource_id),
        "entity": "slot",
        "booking_id": booking.id,
        "user_id": booking.user_id,
        "client_id": booking.client_id,
        "booking_start": booking.start.isoformat(),
        "booking_end": booking.end.isoformat(),
    }
    if held and booking.hold_expires_at is not None:
        base["hold_expires_at"] = epoch_seconds(booking.hold_expires_at)
    return [
        {
            "Put": {
                "TableName": table.table_name(),
                "Item": table.to_dynamo({**base, "sk": f"SLOT#{utc_key(slot_start)}"}),
                "ConditionExpression": (
                    "attribute_not_exists(pk) OR booking_id = :me OR hold_expires_at <= :now"
                ),
                "ExpressionAttributeValues": table.to_dynamo(
                    {":me": booking.id, ":now": epoch_seconds(now)}
                ),
            }
        }
        for slot_start in booking.slot_starts
    ]


def _hour_entry(booking: Booking, *, held: bool) -> dict[str, Any]:
    """A booking's entry in its hour items: its time, its hold and whose it is (the booker
    lets availability show a caller their own bookings from the hour items alone)."""
    entry: dict[str, Any] = {
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "user_id": booking.user_id,
    }
    if booking.client_id is not None:
        entry["client_id"] = booking.client_id
    if held and booking.hold_expires_at is not None:
        entry["hold_expires_at"] = epoch_seconds(booking.hold_expires_at)
    return entry


def keep_time_ops(
    booking: Booking, now: datetime, *, seen_versions: dict[str, int]
) -> list[dict[str, Any]]:
    """The operations that make a paid booking's time its own for good, for the payment's
    transaction: its slots first (one per slot, in order), then its hours.

    A slot is taken if free, still ours, or held by another pending booking whose hold ran
    out: so a payment that completes after this booking's hold expired keeps the time if
    nobody has taken it since. Each hour gets the booking's entry without a hold and the next
    version, conditioned on the version read when the time was checked (`seen_versions`), so
    the check and this write see the same bookings, and a booking validated meanwhile without
    this one is checked again.
    """
    return _slot_puts(booking, now, held=False) + _hour_entry_ops(
        booking, _hour_entry(booking, held=False), seen_versions
    )


def hold_longer_ops(
    booking: Booking, now: datetime, *, seen_versions: dict[str, int]
) -> list[dict[str, Any]]:
    """The operations that keep a pending booking's time held until its `hold_expires_at`
    (moved later: a server-side payment is under way as the hold would end), for the
    transaction that moves it: its slots, still its own, and its hours' entries with the next
    version, conditioned on the versions read (`seen_versions`), so that a booking validated
    meanwhile against the old hold is checked again. Also `hold_index_keys` on the booking."""
    return _slot_puts(booking, now, held=True) + _hour_entry_ops(
        booking, _hour_entry(booking, held=True), seen_versions
    )


def hold_index_keys(booking: Booking) -> dict[str, str]:
    """The booking item's keys in the sparse index the sweep reads (none unless held)."""
    return _hold_index_keys(booking)


def _hour_entry_ops(
    booking: Booking, entry: dict[str, Any], seen_versions: dict[str, int]
) -> list[dict[str, Any]]:
    return [
        hour_entry_op(
            booking.resource_id,
            hour_key,
            _ENTRY_PREFIX + booking.id,
            entry,
            seen=seen_versions.get(hour_key, 0),
        )
        for hour_key in booking.version_keys
    ]


def hour_entry_op(
    resource_id: int, hour_key: str, entry_name: str, entry: dict[str, Any], *, seen: int
) -> dict[str, Any]:
    """The Update that puts `entry` (a booking's or a closure's) into one hour item of the
    resource and moves the hour's version on, conditioned on the version read (`seen`, 0 for
    an hour item not written yet): the write every booking and closure takes part in."""
    values: dict[str, Any] = {":entry": entry, ":next": seen + 1}
    if seen == 0:
        condition = "attribute_not_exists(#version)"
    else:
        condition = "#version = :seen"
        values[":seen"] = seen
    return {
        "Update": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo({"pk": _resource_pk(resource_id), "sk": f"HOUR#{hour_key}"}),
            "UpdateExpression": "SET #entry = :entry, #version = :next",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#entry": entry_name, "#version": "version"},
            "ExpressionAttributeValues": table.to_dynamo(values),
        }
    }


def lapsed_hold_ids(now: datetime) -> list[str]:
    """Ids of pending bookings whose hold ran out by `now`, soonest expired first.

    Read from the sparse hold index, which lags writes slightly: the caller reads each
    booking again before acting on it.
    """
    bound = f"{utc_key(now)}#~"  # every "<expiry>#<uuid>" with expiry <= now sorts below
    found: list[tuple[str, str]] = []
    for shard in range(HOLD_SHARDS):
        kwargs: dict[str, Any] = {
            "TableName": table.table_name(),
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :pk AND gsi2sk <= :bound",
            "ExpressionAttributeValues": table.to_dynamo(
                {":pk": f"HOLDS#{shard}", ":bound": bound}
            ),
        }
        while True:
            page = table.client().query(**kwargs)
            for raw in page.get("Items", []):
                item = table.from_dynamo(raw)
                found.append((str(item["gsi2sk"]), str(item["pk"]).removeprefix("BOOKING#")))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [booking_id for _, booking_id in sorted(found)]


def _hold_index_keys(booking: Booking) -> dict[str, str]:
    if booking.status != BookingStatus.PENDING or booking.hold_expires_at is None:
        return {}
    shard = int(booking.id.replace("-", "")[:8], 16) % HOLD_SHARDS
    return {
        "gsi2pk": f"HOLDS#{shard}",
        "gsi2sk": f"{utc_key(booking.hold_expires_at)}#{booking.id}",
    }


def _cancellation_codes(error: ClientError) -> list[str] | None:
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return None
    reasons = error.response.get("CancellationReasons", [])
    return [str(reason.get("Code", "None")) for reason in reasons]


def get_booking(booking_id: str) -> Booking | None:
    item = table.get_item(f"BOOKING#{booking_id}", "BOOKING", consistent=True)
    return booking_from_item(item) if item else None


def list_user_bookings(user_id: str) -> list[Booking]:
    """A user's bookings, earliest start first (one index query)."""
    items = table.query(pk=f"USER#{user_id}", index="gsi1", sk_prefix="BOOKING#")
    return [booking_from_item(item) for item in items]


@dataclass(frozen=True, slots=True)
class ClientBookingEntry:
    """A booking as a client's index (gsi4) holds it: enough to filter and count its list."""

    booking_id: str
    user_id: str
    status: BookingStatus
    start: datetime


def client_booking_entries(client_id: str) -> list[ClientBookingEntry]:
    """The bookings made through a client, newest created first (ties: the greater id first).

    Read from gsi4, which is eventually consistent: a booking made a moment ago may be missing,
    or show the status it had a moment ago. Only the index's small entries are read here; the
    bookings themselves with `bookings_by_id`.
    """
    kwargs: dict[str, Any] = {
        "TableName": table.table_name(),
        "IndexName": "gsi4",
        "KeyConditionExpression": "gsi4pk = :pk",
        "ExpressionAttributeValues": table.to_dynamo({":pk": f"CLIENT#{client_id}"}),
        "ScanIndexForward": False,
    }
    found: list[ClientBookingEntry] = []
    while True:
        page = table.client().query(**kwargs)
        for item in map(table.from_dynamo, page.get("Items", [])):
            found.append(
                ClientBookingEntry(
                    booking_id=str(item["pk"]).removeprefix("BOOKING#"),
                    user_id=str(item["user_id"]),
                    status=BookingStatus(item["status"]),
                    start=parse_instant(item["start"]),
                )
            )
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def bookings_by_id(booking_ids: Sequence[str]) -> list[Booking]:
    """These bookings, in the order given (strongly consistent batch reads of 100 at most;
    keys DynamoDB leaves unprocessed are asked again). An id with no booking is left out."""
    keys = [{"pk": f"BOOKING#{booking_id}", "sk": "BOOKING"} for booking_id in booking_ids]
    found = {
        booking.id: booking
        for booking in map(booking_from_item, table.batch_get(keys, consistent=True))
    }
    return [found[booking_id] for booking_id in booking_ids if booking_id in found]


def cancel_booking(
    booking: Booking, cancelled: Booking, *, tasks: Sequence[dict[str, Any]] = ()
) -> None:
    """Mark `booking` as `cancelled` (or `refunded`; or expired: `cancelled` with reason
    `expired`) and free its slots in one transaction, with the `tasks` (emails, cancelling
    its PaymentIntent) that this calls for.

    Conditioned on the status we read, so a concurrent payment or cancellation is not lost.
    Slots another booking has taken over (after this hold expired) are left alone.
    """
    name = table.table_name()
    resource_pk = _resource_pk(booking.resource_id)
    item = booking_to_item(cancelled)
    changed = {
        key: item.get(key)
        for key in (
            "status",
            "updated_at",
            "cancelled_at",
            "cancellation_reason",
            "cancellation_notes",
            "refunded_amount",
        )
    }
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": name,
                "Key": table.to_dynamo({"pk": f"BOOKING#{booking.id}", "sk": "BOOKING"}),
                # No longer pending: out of the hold index.
                "UpdateExpression": "SET "
                + ", ".join(f"#{k} = :{k}" for k in changed)
                + " REMOVE gsi2pk, gsi2sk",
                "ConditionExpression": "#status = :seen_status",
                "ExpressionAttributeNames": {f"#{k}": k for k in changed},
                "ExpressionAttributeValues": table.to_dynamo(
                    {
                        **{f":{k}": v for k, v in changed.items()},
                        ":seen_status": booking.status.value,
                    }
                ),
            }
        }
    ]
    for hour_key in booking.version_keys:
        items.append(
            {
                "Update": {
                    "TableName": name,
                    "Key": table.to_dynamo({"pk": resource_pk, "sk": f"HOUR#{hour_key}"}),
                    "UpdateExpression": "REMOVE #entry ADD #version :one",
                    "ExpressionAttributeNames": {
                        "#entry": _ENTRY_PREFIX + booking.id,
                        "#version": "version",
                    },
                    "ExpressionAttributeValues": table.to_dynamo({":one": 1}),
                }
            }
        )
    for slot in _owned_slots(booking):
        items.append(
            {
                "Delete": {
                    "TableName": name,
                    "Key": table.to_dynamo({"pk": resource_pk, "sk": slot}),
                    "ConditionExpression": "booking_id = :booking_id",
                    "ExpressionAttributeValues": table.to_dynamo({":booking_id": booking.id}),
                }
            }
        )
    items.extend(tasks)
    try:
        table.client().transact_write_items(TransactItems=items)  # type: ignore[arg-type]
    except ClientError as error:
        if _cancellation_codes(error) is None:
            raise
        raise ScheduleChanged from error


def _owned_slots(booking: Booking) -> list[str]:
    """The slot keys still held by `booking` (not taken over after its hold expired)."""
    if not booking.slot_starts:
        return []
    slots = _slots_between(booking.resource_id, booking.slot_starts[0], booking.slot_starts[-1])
    return [slot["sk"] for slot in slots if slot.get("booking_id") == booking.id]


def show_refunded(booking: Booking, refunded_total: Decimal, now: datetime) -> bool:
    """Make the booking show `refunded_total` as refunded (and a cancelled one `refunded`: money
    went back), if it is still as read (its refunded amount and status); False when it changed
    meanwhile (read again)."""
    status = booking.status
    if status == BookingStatus.CANCELLED and refunded_total > 0:
        status = BookingStatus.REFUNDED
    try:
        table.client().update_item(
            TableName=table.table_name(),
            Key=table.to_dynamo({"pk": f"BOOKING#{booking.id}", "sk": "BOOKING"}),
            UpdateExpression="SET #refunded = :total, #status = :status, #updated = :now",
            ConditionExpression="#refunded = :seen AND #status = :seen_status",
            ExpressionAttributeNames={
                "#refunded": "refunded_amount",
                "#status": "status",
                "#updated": "updated_at",
            },
            ExpressionAttributeValues=table.to_dynamo(
                {
                    ":total": str(refunded_total),
                    ":status": status.value,
                    ":now": now.isoformat(),
                    ":seen": str(booking.refunded_amount),
                    ":seen_status": booking.status.value,
                }
            ),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


# ---- item mapping -------------------------------------------------------------------------

_MONEY = ("price_per_unit", "total_price", "refunded_amount")
_INSTANTS = (
    "start",
    "end",
    "created_at",
    "updated_at",
    "hold_expires_at",
    "confirmed_at",
    "paid_at",
    "cancelled_at",
    "payment_claimed_until",
)


def booking_to_item(booking: Booking) -> dict[str, Any]:
    item = dataclasses.asdict(booking)
    for name in _MONEY:
        item[name] = str(item[name])
    for name in _INSTANTS:
        if item[name] is not None:
            item[name] = item[name].isoformat()
    if booking.commission_percent is not None:
        item["commission_percent"] = str(booking.commission_percent)
    item["status"] = booking.status.value
    item["slot_starts"] = [utc_key(s) for s in booking.slot_starts]
    item["version_keys"] = list(booking.version_keys)
    item.update(
        pk=f"BOOKING#{booking.id}",
        sk="BOOKING",
        entity="booking",
        gsi1pk=f"USER#{booking.user_id}",
        gsi1sk=f"BOOKING#{utc_key(booking.start)}#{booking.id}",
        # The venue's bookings by start (store.venue_bookings reads them).
        gsi3pk=f"VENUE#{booking.venue_id}",
        gsi3sk=f"{utc_key(booking.start)}#{booking.id}",
        **_hold_index_keys(booking),
        **_client_index_keys(booking),
    )
    return item


def _client_index_keys(booking: Booking) -> dict[str, str]:
    """gsi4, on a booking made through a client: the client's bookings by creation."""
    if booking.client_id is None:
        return {}
    created = booking.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"gsi4pk": f"CLIENT#{booking.client_id}", "gsi4sk": f"{created}#{booking.id}"}


def booking_from_item(item: dict[str, Any]) -> Booking:
    fields = {f.name for f in dataclasses.fields(Booking)}
    values = {k: v for k, v in item.items() if k in fields}
    for name in _MONEY:
        if name in values:
            values[name] = Decimal(values[name])
    for name in _INSTANTS:
        if values.get(name) is not None:
            values[name] = parse_instant(values[name])
    values["resource_id"] = int(values["resource_id"])
    values["venue_id"] = int(values["venue_id"])
    values["participant_count"] = int(values["participant_count"])
    values["payment_attempts"] = int(values.get("payment_attempts", 0))
    values["cancellation_terms"] = cancellation_terms_from_item(item.get("cancellation_terms"))
    if values.get("commission_percent") is not None:
        values["commission_percent"] = Decimal(values["commission_percent"])
    values["status"] = BookingStatus(values["status"])
    values["slot_starts"] = tuple(parse_instant(s) for s in values.get("slot_starts", []))
    values["version_keys"] = tuple(values.get("version_keys", []))
    return Booking(**values)
