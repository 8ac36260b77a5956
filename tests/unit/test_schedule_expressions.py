"""EventBridge's schedule expressions, locally: `rate(...)` periods and six-field `cron(...)`,
evaluated in UTC from any instant (no clock involved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.event_sources import Cron, Rate, parse_schedule_expression


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def next_fire(expression: str, after: str) -> datetime | None:
    timing = parse_schedule_expression(expression)
    return timing.next_after(utc(after))


def fires(expression: str, after: str, count: int) -> list[str]:
    timing = parse_schedule_expression(expression)
    moment, found = utc(after), []
    for _ in range(count):
        fire = timing.next_after(moment)
        assert fire is not None
        found.append(fire.strftime("%Y-%m-%d %a %H:%M"))
        moment = fire
    return found


# ---- rate -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(3 days)", timedelta(days=3)),
    ],
)
def test_a_rate_expression_gives_its_period(expression: str, period: timedelta) -> None:
    # Given a rate expression
    # When it is parsed
    timing = parse_schedule_expression(expression)

    # Then it fires once a period
    assert timing == Rate(period)


@pytest.mark.parametrize(
    "expression",
    ["rate(0 minutes)", "rate(5 weeks)", "rate(1 minutes)", "rate(5 minute)", "every 5 minutes"],
)
def test_a_rate_expression_eventbridge_would_refuse_is_refused(expression: str) -> None:
    # Given a rate EventBridge refuses (zero, weeks, 1 with a plural unit, 5 with a singular)
    # When it is parsed
    # Then it is refused, naming the expression
    with pytest.raises(ValueError, match="schedule expression"):
        parse_schedule_expression(expression)


def test_a_rate_fires_one_period_after_the_last_fire() -> None:
    # Given a rate of 5 minutes
    rate = Rate(timedelta(minutes=5))

    # When the fire after 12:00:07 is asked for
    # Then it is 12:05:07: a rate counts from its start, not from the minute
    assert rate.next_after(utc("2026-11-30T12:00:07")) == utc("2026-11-30T12:05:07")


@pytest.mark.parametrize(
    ("limit", "latest"),
    [
        ("2026-11-30T12:00:00", "2026-11-30T12:00:00"),
        ("2026-11-30T12:04:59", "2026-11-30T12:00:00"),
        ("2026-11-30T12:05:00", "2026-11-30T12:05:00"),
        ("2026-11-30T13:02:00", "2026-11-30T13:00:00"),
        ("2026-11-30T11:00:00", "2026-11-30T12:00:00"),
    ],
)
def test_a_rates_latest_fire_by_a_limit_is_on_its_grid(limit: str, latest: str) -> None:
    # Given a rate of 5 minutes that fires at 12:00
    rate = Rate(timedelta(minutes=5))

    # When its latest fire by a limit is asked for
    # Then it is the last 5-minute step not after the limit (the fire itself at the earliest)
    assert rate.latest_fire_by(utc("2026-11-30T12:00:00"), utc(limit)) == utc(latest)


# ---- cron -----------------------------------------------------------------------------------


def test_the_monthly_payout_run_fires_at_three_on_the_first_of_each_month() -> None:
    # Given the template's payout schedule
    # When its fires after the middle of December are listed
    # Then they are 03:00 UTC on the 1st, across the year's end
    assert fires("cron(0 3 1 * ? *)", "2026-12-15T10:00:00", 3) == [
        "2027-01-01 Fri 03:00",
        "2027-02-01 Mon 03:00",
        "2027-03-01 Mon 03:00",
    ]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2026-12-01T02:59:59.999999", "2026-12-01T03:00:00"),
        ("2026-12-01T03:00:00", "2027-01-01T03:00:00"),
        ("2026-12-01T03:00:00.000001", "2027-01-01T03:00:00"),
        ("2026-12-31T23:59:59", "2027-01-01T03:00:00"),
    ],
)
def test_a_cron_fire_is_the_first_matching_minute_strictly_after(after: str, expected: str) -> None:
    # Given the monthly schedule and an instant near one of its fires
    # When the next fire is asked for
    # Then a fire at that very instant is not next: the one after it is
    assert next_fire("cron(0 3 1 * ? *)", after) == utc(expected)


def test_a_cron_instant_with_an_offset_is_read_in_utc() -> None:
    # Given an instant in Berlin that is 02:30 UTC on the 1st
    after = datetime.fromisoformat("2027-01-01T03:30:00+01:00")

    # When the monthly schedule's next fire after it is asked for
    fire = parse_schedule_expression("cron(0 3 1 * ? *)").next_after(after)

    # Then it is 03:00 UTC that same day
    assert fire == utc("2027-01-01T03:00:00")


def test_the_29th_of_february_fires_in_leap_years_only() -> None:
    # Given a schedule for noon on 29 February
    # When its fires after March 2026 are listed
    # Then they skip to 2028 and 2032
    assert fires("cron(0 12 29 FEB ? *)", "2026-03-01T00:00:00", 2) == [
        "2028-02-29 Tue 12:00",
        "2032-02-29 Sun 12:00",
    ]


def test_the_31st_fires_only_in_months_that_have_one() -> None:
    # Given a schedule for the 31st
    # When its fires after January's are listed
    # Then February, April and June are skipped
    assert fires("cron(30 23 31 * ? *)", "2027-01-31T23:30:00", 3) == [
        "2027-03-31 Wed 23:30",
        "2027-05-31 Mon 23:30",
        "2027-07-31 Sat 23:30",
    ]


def test_weekday_names_and_ranges_fire_on_those_weekdays() -> None:
    # Given 10:15 UTC Monday to Friday
    # When the fires from a Friday noon (4 December 2026) are listed
    # Then the weekend is skipped
    assert fires("cron(15 10 ? * MON-FRI *)", "2026-12-04T12:00:00", 3) == [
        "2026-12-07 Mon 10:15",
        "2026-12-08 Tue 10:15",
        "2026-12-09 Wed 10:15",
    ]


def test_weekdays_are_numbered_as_eventbridge_numbers_them_sunday_first() -> None:
    # Given the same days by number (1 is Sunday, 7 Saturday) and by name
    by_number = parse_schedule_expression("cron(0 8 ? * 1,7 *)")
    by_name = parse_schedule_expression("cron(0 8 ? * SUN,SAT *)")

    # When their fires are compared
    # Then both are the weekend days
    assert by_number == by_name
    assert fires("cron(0 8 ? * 1,7 *)", "2026-12-01T00:00:00", 3) == [
        "2026-12-05 Sat 08:00",
        "2026-12-06 Sun 08:00",
        "2026-12-12 Sat 08:00",
    ]


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # steps from the field's start, from a value, and within a range
        ("cron(*/20 * * * ? *)", "2026-12-01T10:41:00", ["11:00", "11:20", "11:40", "12:00"]),
        ("cron(5/20 9 * * ? *)", "2026-12-01T08:00:00", ["09:05", "09:25", "09:45", "09:05"]),
        ("cron(0 8-12/2 * * ? *)", "2026-12-01T07:00:00", ["08:00", "10:00", "12:00", "08:00"]),
        # lists of values and of ranges
        ("cron(0,30 6 * * ? *)", "2026-12-01T05:00:00", ["06:00", "06:30", "06:00", "06:30"]),
        ("cron(0 1-2,22 * * ? *)", "2026-12-01T00:00:00", ["01:00", "02:00", "22:00", "01:00"]),
    ],
)
def test_steps_lists_and_ranges_pick_the_minutes_and_hours(
    expression: str, after: str, expected: list[str]
) -> None:
    # Given a cron expression with a step, a list or a range
    # When its next four fires are listed
    found = fires(expression, after, 4)

    # Then they are the times the fields name, day after day
    assert [fire[-5:] for fire in found] == expected


def test_months_years_and_names_in_any_case_narrow_the_fires() -> None:
    # Given midnight on the 1st of January and July, 2027 to 2028 only
    # When its fires are listed
    # Then there are four, and none after
    timing = parse_schedule_expression("cron(0 0 1 jan,Jul ? 2027-2028)")
    assert fires("cron(0 0 1 jan,Jul ? 2027-2028)", "2026-12-01T00:00:00", 4) == [
        "2027-01-01 Fri 00:00",
        "2027-07-01 Thu 00:00",
        "2028-01-01 Sat 00:00",
        "2028-07-01 Sat 00:00",
    ]
    assert timing.next_after(utc("2028-07-01T00:00:00")) is None


def test_a_cron_expression_is_read_field_by_field() -> None:
    # Given the template's payout schedule
    # When it is parsed
    timing = parse_schedule_expression("cron(0 3 1 * ? *)")

    # Then minute 0 of hour 3 on the 1st of every month of every year, any weekday
    assert timing == Cron(
        minutes=(0,),
        hours=(3,),
        days_of_month=frozenset({1}),
        months=tuple(range(1, 13)),
        weekdays=None,
        years=tuple(range(1970, 2200)),
    )


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 3 L * ? *)", "L, W and # are not supported"),
        ("cron(0 3 15W * ? *)", "L, W and # are not supported"),
        ("cron(0 3 LW * ? *)", "L, W and # are not supported"),
        ("cron(0 3 ? * 6L *)", "L, W and # are not supported"),
        ("cron(0 3 ? * 3#2 *)", "L, W and # are not supported"),
        ("cron(0 3 ? * MON#1 *)", "L, W and # are not supported"),
        ("cron(0 3 1 * *)", "six fields"),
        ("cron(0 3 1 * ? * *)", "six fields"),
        ("cron(0 3 1 * * *)", "one of day-of-month and day-of-week must be ?"),
        ("cron(0 3 ? * ? *)", "one of day-of-month and day-of-week must be ?"),
        ("cron(60 3 1 * ? *)", "minutes '60' is not in 0-59"),
        ("cron(0 24 1 * ? *)", "hours '24' is not in 0-23"),
        ("cron(0 3 0 * ? *)", "day-of-month '0' is not in 1-31"),
        ("cron(0 3 1 13 ? *)", "month '13' is not in 1-12"),
        ("cron(0 3 ? * 8 *)", "day-of-week '8' is not in 1-7"),
        ("cron(0 3 ? * FRI-MON *)", "a range must go upwards"),
        ("cron(0 3 1 FOO ? *)", "month 'FOO'"),
        ("cron(*/0 3 1 * ? *)", "a step must be at least 1"),
        ("cron(? 3 1 * ? *)", "minutes '?'"),
        ("cron(0 3 1 * ? 1969)", "year '1969' is not in 1970-2199"),
    ],
)
def test_a_cron_expression_the_local_stack_cannot_run_is_refused_saying_why(
    expression: str, reason: str
) -> None:
    # Given a cron expression with L, W or #, or one EventBridge would refuse
    # When it is parsed
    # Then it is refused with the reason, naming the expression
    with pytest.raises(ValueError, match="schedule expression") as refused:
        parse_schedule_expression(expression)
    assert reason in str(refused.value)
