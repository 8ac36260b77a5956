"""The checks `make load` runs on the table afterwards (scripts/load.py): overlapping live
bookings, and free stretches shorter than the minimum duration next to a live booking."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scripts.load import (
    Answer,
    GapRule,
    RoundResult,
    Span,
    StoredBooking,
    double_bookings,
    load_markdown,
    opening_blocks,
    short_gaps,
    stored_booking,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 1, 14, 12, tzinfo=BERLIN)
COURT, OTHER_COURT = 1, 2
# 15 January 2025, 07:00-22:00; the minimum duration is an hour.
RULE = GapRule(
    min_duration=timedelta(minutes=60),
    blocks=(
        Span(datetime(2025, 1, 15, 7, tzinfo=BERLIN), datetime(2025, 1, 15, 22, tzinfo=BERLIN)),
    ),
)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 1, 15, hour, minute, tzinfo=BERLIN)


def booking(
    name: str,
    start: datetime,
    end: datetime,
    *,
    status: str = "confirmed",
    resource: int = COURT,
    hold_expires_at: datetime | None = None,
) -> StoredBooking:
    return StoredBooking(name, resource, start, end, status, hold_expires_at)


def test_two_live_bookings_overlapping_on_one_court_are_a_double_booking() -> None:
    # Given a paid booking 10:00-11:30 and a pending one still held 11:00-12:00 on one court
    first = booking("a", at(10), at(11, 30), status="paid")
    second = booking("b", at(11), at(12), status="pending", hold_expires_at=NOW + timedelta(1))
    # When the bookings are checked
    found = double_bookings([second, first], NOW)
    # Then the pair is reported
    assert found == [(first, second)]


def test_back_to_back_bookings_and_the_same_time_on_another_court_are_not_double_bookings() -> None:
    # Given 10:00-11:00 and 11:00-12:00 on one court, and 10:00-11:00 on another
    bookings = [
        booking("a", at(10), at(11)),
        booking("b", at(11), at(12)),
        booking("c", at(10), at(11), resource=OTHER_COURT),
    ]
    # When the bookings are checked
    found = double_bookings(bookings, NOW)
    # Then none is reported
    assert found == []


def test_a_cancelled_booking_or_a_lapsed_hold_under_a_live_booking_is_not_a_double_booking() -> (
    None
):
    # Given a live booking 10:00-11:00, a cancelled one and a pending one whose hold ran out
    bookings = [
        booking("live", at(10), at(11)),
        booking("cancelled", at(10), at(11), status="cancelled"),
        booking("lapsed", at(10), at(11), status="pending", hold_expires_at=NOW),
    ]
    # When the bookings are checked at NOW
    found = double_bookings(bookings, NOW)
    # Then none is reported
    assert found == []


def test_thirty_free_minutes_between_two_live_bookings_break_the_gap_rule() -> None:
    # Given 10:00-11:00 and 11:30-12:30 on a court whose minimum is an hour
    bookings = [booking("a", at(10), at(11)), booking("b", at(11, 30), at(12, 30))]
    # When the gaps are checked
    broken = short_gaps(COURT, bookings, RULE, NOW)
    # Then 11:00-11:30 is reported, between a and b
    assert [(gap.free, gap.next_to) for gap in broken] == [(Span(at(11), at(11, 30)), ("a", "b"))]


def test_thirty_free_minutes_to_the_opening_or_a_closure_break_the_gap_rule() -> None:
    # Given a booking at 07:30 after the 07:00 opening, and one 30 minutes before a closure
    rule = GapRule(RULE.min_duration, RULE.blocks, closures=(Span(at(15), at(16)),))
    bookings = [booking("early", at(7, 30), at(9)), booking("late", at(13), at(14, 30))]
    # When the gaps are checked
    broken = short_gaps(COURT, bookings, rule, NOW)
    # Then both stretches are reported, and none between the closure and the closing time
    assert [gap.free for gap in broken] == [Span(at(7), at(7, 30)), Span(at(14, 30), at(15))]


def test_a_cancelled_booking_where_the_short_gap_lies_does_not_excuse_it() -> None:
    # Given 10:00-11:00 and 11:30-12:30 live, and 11:00-12:00 cancelled: whichever of the two
    # live ones came last was accepted next to 30 free minutes (11:00-12:00 overlaps 11:30)
    bookings = [
        booking("a", at(10), at(11)),
        booking("b", at(11, 30), at(12, 30)),
        booking("gone", at(11), at(12), status="cancelled"),
    ]
    # When the gaps are checked
    broken = short_gaps(COURT, bookings, RULE, NOW)
    # Then 11:00-11:30 is reported all the same
    assert [gap.free for gap in broken] == [Span(at(11), at(11, 30))]


def test_no_free_time_or_at_least_the_minimum_next_to_each_booking_keeps_the_rule() -> None:
    # Given bookings from the opening, back to back, then an hour free, then to the closing
    bookings = [
        booking("a", at(7), at(8)),
        booking("b", at(8), at(9, 30)),
        booking("c", at(10, 30), at(12)),
        booking("d", at(20), at(22)),
    ]
    # When the gaps are checked
    broken = short_gaps(COURT, bookings, RULE, NOW)
    # Then none is reported
    assert broken == []


def test_touching_opening_windows_form_one_block() -> None:
    # Given 07:00-17:00 and 17:00-20:00 (a peak price), and 21:00-22:00 apart
    windows = [Span(at(17), at(20)), Span(at(7), at(17)), Span(at(21), at(22))]
    # When they are merged
    blocks = opening_blocks(windows)
    # Then there are two blocks
    assert blocks == (Span(at(7), at(20)), Span(at(21), at(22)))


def test_a_booking_item_of_the_table_is_read_with_its_times_and_hold() -> None:
    # Given a pending booking's item as the store writes it
    item = {
        "id": "b-1",
        "resource_id": 3,
        "start": "2025-01-15T10:00:00+01:00",
        "end": "2025-01-15T11:00:00+01:00",
        "status": "pending",
        "hold_expires_at": "2025-01-14T11:15:00+00:00",
    }
    # When it is read
    read = stored_booking(item)
    # Then it carries the resource, the times and the hold's end
    assert read == booking(
        "b-1",
        at(10),
        at(11),
        status="pending",
        resource=3,
        hold_expires_at=NOW.replace(hour=12, minute=15),
    )


def test_the_readmes_load_table_has_a_row_per_round_with_percentiles_and_errors() -> None:
    # Given a round of 20 people: 3 availability reads, a booking, a 5xx and a lost connection
    answers = [
        Answer("GET availability", 200, 0.010),
        Answer("GET availability", 200, 0.030),
        Answer("GET availability", 200, 0.020),
        Answer("POST bookings", 201, 0.050),
        Answer("POST bookings", 503, 0.040),
        Answer("POST bookings", 0, 0.001, "ConnectionResetError"),
    ]
    # When the README's table is made, with the table's check
    text = load_markdown([(20, RoundResult(answers, 2.0, None))], 7, 0, 0)
    # Then the round's row gives its rate, the percentiles, and each kind of error
    assert "| 20 | 6 | 3.0 | 20 / 30 / 30 | 40 / 50 / 50 | 1 | 1 |" in text
    assert text.endswith("7 bookings, 0 double bookings, 0 broken gap rules.")
