"""A booking as an iCalendar (RFC 5545) invitation, attached to the booking emails."""

from __future__ import annotations

from datetime import UTC, datetime

from booking_core import clock
from booking_core.domain import Booking, Venue

PRODID = "-//Court Booking//Booking API//EN"
# RFC 5545 3.1: lines longer than 75 octets are folded; the leading space of a continuation
# line counts towards its 75.
_MAX_LINE_OCTETS = 75


def booking_calendar(
    booking: Booking, venue: Venue, *, cancelled: bool = False, now: datetime | None = None
) -> str:
    """The booking as a VCALENDAR with one VEVENT, CRLF line endings, folded at 75 octets.

    The invitation (METHOD:REQUEST, SEQUENCE:0) and its cancellation (METHOD:CANCEL,
    SEQUENCE:1) share the UID, so a calendar that imported the one removes the event on the other.
    """
    stamp = now or clock.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'REQUEST'}",
        "BEGIN:VEVENT",
        f"UID:{booking.id}@booking-api",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(booking.start)}",
        f"DTEND:{_utc(booking.end)}",
        f"SUMMARY:{escape_text(f'{booking.resource_name} at {venue.name}')}",
        f"LOCATION:{escape_text(venue.full_address or booking.venue_address)}",
        f"DESCRIPTION:{escape_text(f'Booking reference {booking.reference_code}')}",
    ]
    if venue.email:
        # RFC 5546 requires an organizer on REQUEST and CANCEL.
        organizer_name = " ".join(venue.name.replace('"', "").split())
        lines.append(f'ORGANIZER;CN="{organizer_name}":mailto:{venue.email}')
    lines += [
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        f"SEQUENCE:{1 if cancelled else 0}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def escape_text(value: str) -> str:
    """A TEXT property value with backslashes, semicolons, commas and newlines escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """`line` split into lines of at most 75 octets, never inside a UTF-8 character."""
    if len(line.encode()) <= _MAX_LINE_OCTETS:
        return line
    parts: list[str] = []
    current: list[str] = []
    room = _MAX_LINE_OCTETS
    for character in line:
        size = len(character.encode())
        if size > room:
            parts.append("".join(current))
            current = []
            room = _MAX_LINE_OCTETS - 1  # the continuation line's leading space
        current.append(character)
        room -= size
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
