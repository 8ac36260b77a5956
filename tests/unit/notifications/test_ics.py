"""The calendar attachment: RFC 5545 text a calendar app imports as the booking."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking_core.notifications.ics import booking_calendar, escape_text, fold
from tests.unit.notifications.builders import NEW_YORK, a_booking, a_venue

STAMP = datetime(2026, 11, 2, 8, 30, 15, tzinfo=UTC)


def unfolded_lines(calendar: str) -> list[str]:
    """The content lines with the folding undone (RFC 5545 3.1)."""
    return calendar.replace("\r\n ", "").split("\r\n")


def test_an_invitation_is_one_confirmed_event_with_the_booking_times_in_utc() -> None:
    # Given a booking at 18:00-19:30 in Berlin (17:00-18:30 UTC)
    booking = a_booking()

    # When its calendar is made
    calendar = booking_calendar(booking, a_venue(), now=STAMP)

    # Then it is a REQUEST with one confirmed, first-sequence event in UTC
    lines = unfolded_lines(calendar)
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]
    assert "METHOD:REQUEST" in lines
    assert lines.count("BEGIN:VEVENT") == 1
    assert "UID:bk-0001@booking-api" in lines
    assert "DTSTAMP:20261102T083015Z" in lines
    assert "DTSTART:20261121T170000Z" in lines
    assert "DTEND:20261121T183000Z" in lines
    assert "STATUS:CONFIRMED" in lines
    assert "SEQUENCE:0" in lines
    assert any(line.startswith("PRODID:") for line in lines)


def test_a_new_york_booking_in_summer_is_four_hours_behind_utc() -> None:
    # Given a 09:00 booking in New York during daylight saving time
    booking = a_booking(timezone=NEW_YORK, start=(2026, 7, 4, 9, 0), minutes=60)

    # When its calendar is made
    calendar = booking_calendar(booking, a_venue(timezone=NEW_YORK), now=STAMP)

    # Then its times are 13:00-14:00 UTC
    lines = unfolded_lines(calendar)
    assert "DTSTART:20260704T130000Z" in lines
    assert "DTEND:20260704T140000Z" in lines


def test_an_invitation_names_the_court_the_venue_address_and_the_reference() -> None:
    # Given a booking of Court 1 at Sports Center
    booking = a_booking()

    # When its calendar is made
    calendar = booking_calendar(booking, a_venue(), now=STAMP)

    # Then summary, location (comma escaped) and description are filled in
    lines = unfolded_lines(calendar)
    assert "SUMMARY:Court 1 at Sports Center" in lines
    assert "LOCATION:Hauptstraße 1\\, Berlin" in lines
    assert "DESCRIPTION:Booking reference CB7K2Q" in lines


def test_a_cancellation_shares_the_uid_and_cancels_the_event_in_a_later_sequence() -> None:
    # Given a booking
    booking = a_booking()

    # When its cancellation calendar is made
    calendar = booking_calendar(booking, a_venue(), cancelled=True, now=STAMP)

    # Then the same event is cancelled, one sequence later
    lines = unfolded_lines(calendar)
    assert "METHOD:CANCEL" in lines
    assert "UID:bk-0001@booking-api" in lines
    assert "STATUS:CANCELLED" in lines
    assert "SEQUENCE:1" in lines
    assert "METHOD:REQUEST" not in lines


def test_every_line_ends_with_crlf() -> None:
    # Given a booking's calendar
    calendar = booking_calendar(a_booking(), a_venue(), now=STAMP)

    # When it is split at CRLF
    lines = calendar.split("\r\n")

    # Then the text ends with CRLF and no bare LF or CR is left anywhere
    assert calendar.endswith("END:VCALENDAR\r\n")
    assert lines[-1] == ""
    assert not any("\n" in line or "\r" in line for line in lines)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        pytest.param("a,b", "a\\,b", id="comma"),
        pytest.param("a;b", "a\\;b", id="semicolon"),
        pytest.param("a\\b", "a\\\\b", id="backslash"),
        pytest.param("a\nb", "a\\nb", id="newline"),
        pytest.param("a\r\nb", "a\\nb", id="crlf-newline"),
        pytest.param("C:\\;x,\n", "C:\\\\\\;x\\,\\n", id="all-at-once"),
    ],
)
def test_text_values_escape_backslashes_semicolons_commas_and_newlines(
    text: str, escaped: str
) -> None:
    # Given a text value / When it is escaped / Then it matches RFC 5545 3.3.11
    assert escape_text(text) == escaped


def test_a_court_name_with_special_characters_is_escaped_in_the_summary() -> None:
    # Given a court whose name has a comma, a semicolon and a line break
    booking = a_booking(resource_name="Court 1; indoor,\nheated")

    # When its calendar is made
    calendar = booking_calendar(booking, a_venue(), now=STAMP)

    # Then the summary is one escaped content line
    assert "SUMMARY:Court 1\\; indoor\\,\\nheated at Sports Center" in unfolded_lines(calendar)


def test_long_lines_are_folded_at_75_octets_and_unfold_to_the_original() -> None:
    # Given a venue with a long address
    venue = a_venue(address="Am Sportpark " + "sehr lange Straße " * 8, city="Berlin")

    # When its calendar is made
    calendar = booking_calendar(a_booking(), venue, now=STAMP)

    # Then no physical line exceeds 75 octets, and unfolding gives the full location back
    physical = calendar.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)
    location = next(line for line in unfolded_lines(calendar) if line.startswith("LOCATION:"))
    assert location == "LOCATION:" + venue.full_address.replace(",", "\\,")


def test_folding_never_splits_a_multi_byte_character() -> None:
    # Given a line of 3-octet characters, 120 octets long after its 4-octet name
    line = "X-A:" + "€" * 40

    # When it is folded
    folded = fold(line)

    # Then each physical line decodes on its own, stays within 75 octets, and they join back
    octet_lines = folded.encode().split(b"\r\n")
    physical = [part.decode("utf-8") for part in octet_lines]  # raises on a split character
    assert len(physical) == 2
    assert all(len(part) <= 75 for part in octet_lines)
    assert physical[0] == "X-A:" + "€" * 23  # 4 + 69 = 73 octets; one more would be 76
    assert physical[1].startswith(" ")
    assert "".join(part.removeprefix(" ") for part in physical) == line


def test_a_line_of_exactly_75_octets_is_not_folded() -> None:
    # Given a line of exactly 75 octets
    line = "X" * 75

    # When it is folded / Then it is left as it is
    assert fold(line) == line


def test_a_multi_byte_venue_name_folds_within_limits() -> None:
    # Given a venue whose long name is made of multi-byte characters
    venue = a_venue(name="Sporthalle Münchener Straße " + "Ü" * 60)

    # When its calendar is made
    calendar = booking_calendar(a_booking(), venue, now=STAMP)

    # Then every physical line is valid UTF-8 of at most 75 octets, and the summary unfolds whole
    octet_lines = calendar.encode().split(b"\r\n")
    assert all(len(line) <= 75 for line in octet_lines)
    decoded = [line.decode("utf-8") for line in octet_lines]  # raises on a split character
    assert "\r\n".join(decoded) == calendar
    assert f"SUMMARY:Court 1 at {venue.name}" in unfolded_lines(calendar)
