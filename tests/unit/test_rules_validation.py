"""validate_booking: each rule, its order, its sentence; and the data validation depends on."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from booking_core.rules import (
    BookingPolicy,
    BookingRuleViolation,
    InvalidDuration,
    MisalignedStart,
    OutsideOpeningHours,
    Schedule,
    SlotUnavailable,
    Span,
    StartInPast,
    TooFarAhead,
    TooShortNotice,
    UnbookableGap,
    WeeklyWindow,
    busy_window,
    check_booking_times,
    validate_booking,
    version_hours,
)

BERLIN = ZoneInfo("Europe/Berlin")
EVERY_DAY = range(7)


def berlin(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 1) -> datetime:
    """An instant on Berlin's wall clock in 2025 (January unless told)."""
    return datetime(2025, month, day, hour, minute, second, tzinfo=BERLIN)


def court(
    *,
    interval: int = 30,
    min_duration: int = 60,
    max_duration: int | None = 180,
    prevent_gaps: bool = True,
    min_advance: int = 60,
    max_days: int = 30,
    windows: tuple[WeeklyWindow, ...] | None = None,
) -> Schedule:
    """A Berlin court open 08:00-22:00 every day at 25.00/h unless told otherwise."""
    if windows is None:
        windows = tuple(WeeklyWindow(d, time(8), time(22), Decimal("25.00")) for d in EVERY_DAY)
    policy = BookingPolicy(
        interval_minutes=interval,
        min_duration_minutes=min_duration,
        max_duration_minutes=max_duration,
        prevent_unbookable_gaps=prevent_gaps,
        min_advance_minutes=min_advance,
        max_advance_days=max_days,
    )
    return Schedule("Europe/Berlin", "EUR", windows, policy)


def rejection_of(
    schedule: Schedule, start: datetime, end: datetime, taken: list[Span], now: datetime
) -> BookingRuleViolation | None:
    """The rule validation reports, or None when the booking is accepted."""
    try:
        validate_booking(schedule, start, end, taken, now)
    except BookingRuleViolation as violation:
        return violation
    return None


def busy(start: datetime, end: datetime, reason: str = "") -> Span:
    return Span(start=start, end=end, reason=reason)


NOW = berlin(14, 12)  # the day before the seed's booking date, 2025-01-15
MORNING_TAKEN = [busy(berlin(15, 8), berlin(15, 10))]
NOON_TAKEN = [busy(berlin(15, 12), berlin(15, 13))]

REJECTIONS = [
    pytest.param(
        berlin(15, 10),
        berlin(15, 10),
        [],
        InvalidDuration,
        "End time must be after start time",
        id="end-equals-start",
    ),
    pytest.param(
        berlin(15, 11),
        berlin(15, 10),
        [],
        InvalidDuration,
        "End time must be after start time",
        id="end-before-start",
    ),
    pytest.param(
        berlin(15, 10, 15),
        berlin(15, 11, 15),
        [],
        MisalignedStart,
        "Booking start time must align to 30-minute intervals "
        "(e.g., :00, :30 for 30-minute intervals)",
        id="start-off-the-grid",
    ),
    pytest.param(
        berlin(15, 10, 0, 30),
        berlin(15, 11, 0, 30),
        [],
        MisalignedStart,
        "Booking start time must align to 30-minute intervals "
        "(e.g., :00, :30 for 30-minute intervals)",
        id="start-with-seconds",
    ),
    pytest.param(
        berlin(13, 10),
        berlin(13, 11),
        [],
        StartInPast,
        "Booking start time must be in the future",
        id="start-yesterday",
    ),
    pytest.param(
        NOW,
        NOW + timedelta(hours=1),
        [],
        StartInPast,
        "Booking start time must be in the future",
        id="start-exactly-now",
    ),
    pytest.param(
        berlin(14, 12, 30),
        berlin(14, 13, 30),
        [],
        TooShortNotice,
        "Bookings must be made at least 60 minutes in advance",
        id="thirty-minutes-notice",
    ),
    pytest.param(
        berlin(13, 12, 30, month=2),
        berlin(13, 13, 30, month=2),
        [],
        TooFarAhead,
        "Bookings can be made at most 30 days in advance",
        id="thirty-days-and-a-half-hour",
    ),
    pytest.param(
        berlin(15, 10),
        berlin(15, 11, 15),
        [],
        InvalidDuration,
        "Booking duration must be a multiple of 30 minutes",
        id="seventy-five-minutes",
    ),
    pytest.param(
        berlin(15, 10),
        berlin(15, 10, 30),
        [],
        InvalidDuration,
        "Booking duration must be at least 60 minutes",
        id="thirty-minutes",
    ),
    pytest.param(
        berlin(15, 10),
        berlin(15, 13, 30),
        [],
        InvalidDuration,
        "Booking duration cannot exceed 180 minutes",
        id="three-and-a-half-hours",
    ),
    pytest.param(
        berlin(15, 21, 30),
        berlin(15, 22, 30),
        [],
        OutsideOpeningHours,
        "The requested time is outside opening hours",
        id="past-closing",
    ),
    pytest.param(
        berlin(15, 7),
        berlin(15, 8),
        [],
        OutsideOpeningHours,
        "The requested time is outside opening hours",
        id="before-opening",
    ),
    pytest.param(
        berlin(15, 9),
        berlin(15, 10),
        MORNING_TAKEN,
        SlotUnavailable,
        "The requested time slot is not available",
        id="overlaps-a-booking",
    ),
    pytest.param(
        berlin(15, 15),
        berlin(15, 17),
        [busy(berlin(15, 16), berlin(15, 16, 30), "maintenance")],
        SlotUnavailable,
        "The requested time slot is not available",
        id="overlaps-a-closure",
    ),
    pytest.param(
        berlin(15, 10, 30),
        berlin(15, 11, 30),
        MORNING_TAKEN,
        UnbookableGap,
        "This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)",
        id="gap-after-a-booking",
    ),
    pytest.param(
        berlin(15, 10),
        berlin(15, 11, 30),
        NOON_TAKEN,
        UnbookableGap,
        "This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)",
        id="gap-before-a-booking",
    ),
    pytest.param(
        berlin(15, 8, 30),
        berlin(15, 9, 30),
        [],
        UnbookableGap,
        "This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)",
        id="gap-after-opening",
    ),
    pytest.param(
        berlin(15, 20, 30),
        berlin(15, 21, 30),
        [],
        UnbookableGap,
        "This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)",
        id="gap-before-closing",
    ),
    pytest.param(
        berlin(15, 10),
        berlin(15, 11),
        [busy(berlin(15, 8), berlin(15, 9, 45), "closure")],
        UnbookableGap,
        "This would leave a 15-minute gap that cannot be booked (minimum booking is 60 minutes)",
        id="gap-after-a-closure",
    ),
]


@pytest.mark.parametrize(("start", "end", "taken", "error", "message"), REJECTIONS)
def test_a_booking_that_breaks_a_rule_is_rejected_with_the_seed_sentence(
    start: datetime,
    end: datetime,
    taken: list[Span],
    error: type[BookingRuleViolation],
    message: str,
) -> None:
    # Given a court open 08:00-22:00 on a 30-minute grid, 60-180 minutes, gaps prevented
    schedule = court()
    # When a booking breaking one rule is validated
    with pytest.raises(error) as raised:
        validate_booking(schedule, start, end, taken, NOW)
    # Then that rule is reported in the client's words
    assert raised.value.message == message
    assert str(raised.value) == message


ACCEPTED = [
    pytest.param(court(), berlin(15, 10), berlin(15, 11, 30), [], id="the-seed-booking"),
    pytest.param(court(), berlin(15, 8), berlin(15, 9), [], id="at-opening"),
    pytest.param(court(), berlin(15, 21), berlin(15, 22), [], id="until-closing"),
    pytest.param(
        court(), berlin(15, 10), berlin(15, 11), MORNING_TAKEN, id="right-after-a-booking"
    ),
    pytest.param(court(), berlin(15, 11), berlin(15, 12), NOON_TAKEN, id="right-before-a-booking"),
    pytest.param(court(), berlin(15, 9), berlin(15, 10), [], id="leaving-exactly-the-minimum"),
    pytest.param(court(), berlin(15, 9, 30), berlin(15, 12, 30), [], id="the-maximum-duration"),
    pytest.param(
        court(prevent_gaps=False),
        berlin(15, 10, 30),
        berlin(15, 11, 30),
        MORNING_TAKEN,
        id="a-gap-when-gaps-are-allowed",
    ),
    pytest.param(
        court(max_duration=None), berlin(15, 8), berlin(15, 16), [], id="8-hours-without-maximum"
    ),
    pytest.param(
        court(),
        berlin(15, 10),
        berlin(15, 11),
        [busy(berlin(15, 10, 30), berlin(15, 10, 30))],
        id="an-empty-busy-span-inside-it",
    ),
    pytest.param(
        court(
            windows=(
                WeeklyWindow(2, time(8), time(14), Decimal("25.00")),
                WeeklyWindow(2, time(14), time(22), Decimal("35.00"), "evening"),
            )
        ),
        berlin(15, 13),
        berlin(15, 15),
        [],
        id="across-two-adjacent-windows",
    ),
    pytest.param(
        court(
            windows=(
                WeeklyWindow(2, time(18), time(0), Decimal("25.00")),
                WeeklyWindow(3, time(0), time(2), Decimal("20.00")),
            )
        ),
        berlin(15, 23),
        berlin(16, 1),
        [],
        id="across-midnight",
    ),
]


@pytest.mark.parametrize(("schedule", "start", "end", "taken"), ACCEPTED)
def test_a_booking_within_every_rule_is_accepted(
    schedule: Schedule, start: datetime, end: datetime, taken: list[Span]
) -> None:
    # Given a court and what is already booked on it
    # When a booking within every rule is validated
    rejection = rejection_of(schedule, start, end, taken, NOW)
    # Then no rule is reported
    assert rejection is None


def test_a_court_without_a_maximum_duration_takes_bookings_of_at_most_8_hours() -> None:
    # Given a court that sets no maximum duration, open 08:00-22:00
    schedule = court(max_duration=None)
    # When 8 hours and 30 minutes are validated
    with pytest.raises(InvalidDuration) as raised:
        validate_booking(schedule, berlin(15, 8), berlin(15, 16, 30), [], NOW)
    # Then the default maximum of 8 hours is named, in the seed's words
    assert raised.value.message == "Booking duration cannot exceed 480 minutes"


FAR_END = datetime(2100, 12, 31, 22, tzinfo=BERLIN)  # the last year a request may name


@pytest.mark.parametrize(
    ("max_duration", "end", "message"),
    [
        pytest.param(180, berlin(20, 10), "Booking duration cannot exceed 180 minutes", id="5d"),
        pytest.param(180, FAR_END, "Booking duration cannot exceed 180 minutes", id="to-2100"),
        pytest.param(None, berlin(20, 10), "Booking duration cannot exceed 480 minutes", id="5d-"),
        pytest.param(None, FAR_END, "Booking duration cannot exceed 480 minutes", id="to-2100-"),
    ],
)
def test_the_times_of_a_booking_are_checked_without_busy_time_for_any_span(
    max_duration: int | None, end: datetime, message: str
) -> None:
    # Given a court with a maximum duration of its own, or none
    schedule = court(max_duration=max_duration)
    # When a booking from 10:00 to days or decades later is checked on its times alone
    with pytest.raises(InvalidDuration) as raised:
        check_booking_times(schedule, berlin(15, 10), end, NOW)
    # Then it is too long, said as validation says it
    assert raised.value.message == message
    with pytest.raises(InvalidDuration) as validated:
        validate_booking(schedule, berlin(15, 10), end, [], NOW)
    assert validated.value.message == message


@pytest.mark.parametrize(("start", "end", "taken", "error", "message"), REJECTIONS)
def test_the_times_rules_come_first_in_the_order_validation_reports_them(
    start: datetime,
    end: datetime,
    taken: list[Span],
    error: type[BookingRuleViolation],
    message: str,
) -> None:
    # Given a court, and a booking that breaks one rule
    schedule = court()
    # When its times alone are checked
    try:
        check_booking_times(schedule, start, end, NOW)
        outcome = None
    except BookingRuleViolation as violation:
        outcome = (type(violation), violation.message)
    # Then a rule on the times is reported as validation reports it; other rules are not asked
    times_rules = (InvalidDuration, MisalignedStart, StartInPast, TooShortNotice, TooFarAhead)
    assert outcome == ((error, message) if issubclass(error, times_rules) else None)


@pytest.mark.parametrize(
    ("start", "end", "taken", "error"),
    [
        pytest.param(berlin(13, 10, 15), berlin(13, 10, 15), [], InvalidDuration, id="duration"),
        pytest.param(berlin(13, 10, 15), berlin(13, 11, 15), [], MisalignedStart, id="alignment"),
        pytest.param(berlin(14, 12), berlin(14, 12, 30), [], StartInPast, id="past"),
        pytest.param(berlin(14, 12, 30), berlin(14, 12, 45), [], TooShortNotice, id="notice"),
        pytest.param(berlin(1, 10, month=3), berlin(1, 10, 15, month=3), [], TooFarAhead, id="far"),
        pytest.param(berlin(15, 7), berlin(15, 7, 45), [], InvalidDuration, id="grid"),
        pytest.param(berlin(15, 21), berlin(15, 21, 30), [], InvalidDuration, id="minimum"),
        pytest.param(
            berlin(15, 21),
            berlin(15, 23),
            [busy(berlin(15, 21), berlin(15, 22))],
            OutsideOpeningHours,
            id="hours",
        ),
        pytest.param(
            berlin(15, 10, 30),
            berlin(15, 11, 30),
            [*MORNING_TAKEN, busy(berlin(15, 11), berlin(15, 12))],
            SlotUnavailable,
            id="busy",
        ),
    ],
)
def test_a_booking_breaking_several_rules_is_rejected_for_the_first_in_order(
    start: datetime, end: datetime, taken: list[Span], error: type[BookingRuleViolation]
) -> None:
    # Given a booking that breaks this rule and every rule after it
    schedule = court()
    # When it is validated
    with pytest.raises(BookingRuleViolation) as raised:
        validate_booking(schedule, start, end, taken, NOW)
    # Then the earliest rule in the documented order is the one reported
    assert type(raised.value) is error


@pytest.mark.parametrize(
    ("interval", "message"),
    [
        (
            15,
            "Booking start time must align to 15-minute intervals "
            "(e.g., :00, :15, :30, :45 for 15-minute intervals)",
        ),
        (
            30,
            "Booking start time must align to 30-minute intervals "
            "(e.g., :00, :30 for 30-minute intervals)",
        ),
        (
            60,
            "Booking start time must align to 60-minute intervals "
            "(e.g., :00 for 60-minute intervals)",
        ),
        (
            45,
            "Booking start time must align to 45-minute intervals "
            "(e.g., :00 for 45-minute intervals)",
        ),
    ],
)
def test_the_alignment_sentence_lists_the_marks_of_the_interval(
    interval: int, message: str
) -> None:
    # Given a court on this interval grid
    schedule = court(interval=interval, min_duration=interval, max_duration=None)
    # When a booking starts at :10, on no grid above
    with pytest.raises(MisalignedStart) as raised:
        validate_booking(schedule, berlin(15, 10, 10), berlin(15, 13, 10), [], NOW)
    # Then the sentence names the interval and its marks within an hour
    assert raised.value.message == message


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        # Earliest start is 09:00: the hour 08:00-09:00 is too soon to book, so it is no gap.
        pytest.param(berlin(15, 8), berlin(15, 9), berlin(15, 10, 30), id="on-the-mark"),
        # Earliest is 09:05:17, so 09:30 is the first start anyone can take: no gap before it.
        pytest.param(berlin(15, 8, 5, 17), berlin(15, 9, 30), berlin(15, 11), id="seconds-past"),
    ],
)
def test_free_time_before_the_earliest_bookable_start_is_not_a_gap(
    now: datetime, start: datetime, end: datetime
) -> None:
    # Given a court needing 90 minutes per booking, an hour's notice, open since 08:00
    schedule = court(min_duration=90)
    # When the first bookable start is booked
    rejection = rejection_of(schedule, start, end, [], now)
    # Then the unbookable morning before it does not count as a gap
    assert rejection is None


def test_without_notice_the_half_hour_starting_now_is_not_a_gap() -> None:
    # Given a court needing no advance notice, open since 08:00, and now 10:00 sharp
    schedule = court(min_advance=0)
    now = berlin(15, 10)
    # When the first start after now, 10:30, is booked
    rejection = rejection_of(schedule, berlin(15, 10, 30), berlin(15, 11, 30), [], now)
    # Then 10:00-10:30 is no gap: nobody can start a booking at now any more
    assert rejection is None


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        pytest.param(NOW, berlin(13, 11, month=2), berlin(13, 12, month=2), id="ending-at-latest"),
        pytest.param(
            NOW, berlin(13, 12, month=2), berlin(13, 13, month=2), id="starting-at-latest"
        ),
        pytest.param(
            NOW + timedelta(seconds=17),
            berlin(13, 11, month=2),
            berlin(13, 12, month=2),
            id="latest-with-seconds",
        ),
    ],
)
def test_free_time_after_the_latest_bookable_start_is_not_a_gap(
    now: datetime, start: datetime, end: datetime
) -> None:
    # Given a court bookable 30 days ahead: the latest start is 2025-02-13 12:00
    schedule = court()
    # When a booking ends at, or starts at, that latest start
    rejection = rejection_of(schedule, start, end, [], now)
    # Then the evening after the horizon is no gap, as nobody can book it yet
    assert rejection is None


def test_free_time_before_the_latest_bookable_start_still_counts_as_a_gap() -> None:
    # Given a court bookable 30 days ahead: the latest start is 2025-02-13 12:00
    schedule = court()
    # When a booking ends half an hour before that latest start
    with pytest.raises(UnbookableGap) as raised:
        validate_booking(
            schedule, berlin(13, 10, 30, month=2), berlin(13, 11, 30, month=2), [], NOW
        )
    # Then the half hour up to the horizon is a gap
    assert raised.value.message == (
        "This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)"
    )


def test_a_booking_from_0130_to_0330_on_spring_forward_day_lasts_one_hour() -> None:
    # Given a court open around the clock, 60-minute minimum, on Berlin's 23-hour day
    windows = tuple(WeeklyWindow(d, time(0), time(0), Decimal("20.00")) for d in EVERY_DAY)
    schedule = court(windows=windows, max_duration=60, prevent_gaps=False)
    start = datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)
    end = datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN)
    # When 01:30 to 03:30 wall time is validated against a 60-minute maximum
    rejection = rejection_of(schedule, start, end, [], datetime(2026, 3, 28, 12, tzinfo=UTC))
    # Then it passes: the clock skipped 02:00-03:00, so only one hour elapses
    assert rejection is None


def test_a_start_in_the_repeated_hour_of_fall_back_day_is_aligned() -> None:
    # Given a court open around the clock on Berlin's 25-hour day
    windows = tuple(WeeklyWindow(d, time(0), time(0), Decimal("20.00")) for d in EVERY_DAY)
    schedule = court(windows=windows, prevent_gaps=False)
    second_two_oclock = datetime(2026, 10, 25, 2, 0, fold=1, tzinfo=BERLIN)
    an_hour_later = second_two_oclock.astimezone(UTC) + timedelta(hours=1)
    # When a booking starts at the second 02:00 (CET)
    rejection = rejection_of(
        schedule,
        second_two_oclock,
        an_hour_later,
        [],
        datetime(2026, 10, 24, 12, tzinfo=UTC),
    )
    # Then its wall time 02:00 is on the grid and it is accepted
    assert rejection is None


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    # Given a booking time without an offset
    naive = datetime(2025, 1, 15, 10, 0)
    # When it is validated
    with pytest.raises(ValueError, match="naive datetime"):
        validate_booking(court(), naive, naive + timedelta(hours=1), [], NOW)
    # Then it is refused (the API rejects naive datetimes before they get here)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (SlotUnavailable(), "slot-unavailable"),
        (MisalignedStart("m"), "misaligned-start"),
        (UnbookableGap("m"), "unbookable-gap"),
        (OutsideOpeningHours(), "outside-opening-hours"),
        (StartInPast(), "start-in-past"),
        (TooShortNotice("m"), "too-short-notice"),
        (TooFarAhead("m"), "too-far-ahead"),
        (InvalidDuration("m"), "invalid-duration"),
    ],
)
def test_every_rule_violation_carries_its_problem_code(
    error: BookingRuleViolation, code: str
) -> None:
    # Given a rule violation as validation raises it
    # When the HTTP layer reads its code
    # Then the code names the rule, so nothing has to match on message text
    assert isinstance(error, BookingRuleViolation)
    assert error.code == code


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(
            berlin(15, 10),
            berlin(15, 11, 30),
            (berlin(15, 9), berlin(15, 12, 30)),
            id="a-minimum-duration-either-side",
        ),
        pytest.param(
            berlin(15, 23, 30),
            berlin(16, 0, 30),
            (berlin(15, 22, 30), berlin(16, 1, 30)),
            id="across-midnight",
        ),
    ],
)
def test_the_busy_window_reaches_a_minimum_duration_beyond_the_booking(
    start: datetime, end: datetime, expected: tuple[datetime, datetime]
) -> None:
    # Given a court whose minimum booking is 60 minutes
    schedule = court()
    # When the store asks which busy time validating [start, end) needs
    low, high = busy_window(schedule, start, end)
    # Then it is the booking widened by the minimum duration, as aware UTC instants
    assert (low, high) == expected
    assert low.tzinfo is UTC
    assert high.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        pytest.param(berlin(15, 10), berlin(15, 11), ["08:00", "09:00", "10:00"], id="on-the-hour"),
        pytest.param(
            berlin(15, 10, 30),
            berlin(15, 11, 30),
            ["08:00", "09:00", "10:00", "11:00"],
            id="half-hours-touch-one-more",
        ),
        pytest.param(
            berlin(15, 23, 30),
            berlin(16, 0, 30),
            ["21:00", "22:00", "23:00", "00:00"],
            id="across-midnight",
        ),
    ],
)
def test_version_hours_are_the_utc_hours_the_busy_window_touches(
    start: datetime, end: datetime, hours: list[str]
) -> None:
    # Given a court whose minimum booking is 60 minutes (Berlin is UTC+1 in January)
    schedule = court()
    # When the store asks which (resource, hour) versions a booking needs
    touched = version_hours(schedule, start, end)
    # Then they are the UTC hours of [start - 60 min, end + 60 min), as aware UTC instants
    assert [h.strftime("%H:%M") for h in touched] == hours
    assert all(h.tzinfo is UTC for h in touched)


def test_bookings_whose_verdicts_can_interact_share_a_version_hour() -> None:
    # Given bookings an hour apart (within the 60-minute reach) and three hours apart
    schedule = court()
    a = version_hours(schedule, berlin(15, 10), berlin(15, 11))
    near = version_hours(schedule, berlin(15, 12), berlin(15, 13))
    far = version_hours(schedule, berlin(15, 15), berlin(15, 16))
    # Then the near pair shares an hour and the far pair does not
    assert set(a) & set(near)
    assert not set(a) & set(far)
