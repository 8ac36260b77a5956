"""Commission arithmetic: a percent of the paid amount, taken back in proportion to refunds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking_core.rules.commission import commission, reversal, reversed_share
from booking_core.services.commissions import is_period, period_end, previous_period


@pytest.mark.parametrize(
    ("amount", "percent", "expected"),
    [
        (3750, Decimal("10"), 375),  # 37.50 at 10% -> 3.75
        (3750, Decimal("7.5"), 281),  # 281.25 rounds down
        (3750, Decimal("7.6"), 285),  # 285.0
        (1000, Decimal("12.35"), 124),  # 123.5 rounds half up
        (3750, Decimal("0"), 0),
        (3750, Decimal("100"), 3750),
    ],
)
def test_commission_is_the_percent_of_the_amount_rounded_half_up(amount, percent, expected):
    # Given a payment of `amount` minor units and the client's percent
    # When the commission is computed
    # Then it is the percent, rounded half up to a whole minor unit
    assert commission(amount, percent) == expected


def test_a_full_refund_takes_back_the_whole_commission():
    # Given a commission of 375 on 3750
    # When all of it is refunded at once
    # Then all 375 is taken back
    assert reversal(375, 3750, 0, 3750) == 375


def test_a_half_refund_takes_back_half_the_commission():
    assert reversal(375, 3750, 0, 1875) == 188  # 187.5 rounds half up


def test_a_refund_reported_again_takes_back_nothing_more():
    assert reversal(375, 3750, 1875, 1875) == 0


def test_nothing_refunded_takes_back_nothing():
    assert reversed_share(375, 3750, 0) == 0


@given(
    amount=st.integers(min_value=1, max_value=10_000_000),
    percent=st.decimals(min_value=0, max_value=100, places=2),
    steps=st.lists(st.integers(min_value=1, max_value=10_000_000), min_size=1, max_size=6),
)
def test_partial_refunds_that_add_up_to_everything_take_back_exactly_the_commission(
    amount, percent, steps
):
    # Given a commission, and refunds in several steps that end with everything refunded
    earned = commission(amount, percent)
    totals = sorted({min(step, amount) for step in steps} | {amount})
    # When each step's reversal is computed from the cumulative totals
    taken, before = [], 0
    for total in totals:
        taken.append(reversal(earned, amount, before, total))
        before = total
    # Then no step gives back a negative amount, and together they take back exactly the
    # commission: rounding never leaves a cent behind or takes one too many
    assert all(step >= 0 for step in taken)
    assert sum(taken) == earned


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 1, 3, 0, tzinfo=UTC), "2026-10"),
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), "2025-12"),
        (datetime(2026, 3, 31, 23, 59, tzinfo=UTC), "2026-02"),
    ],
)
def test_the_previous_period_is_the_utc_month_before(now, expected):
    assert previous_period(now) == expected


def test_a_period_ends_at_midnight_utc_on_the_first_of_the_next_month():
    assert period_end("2026-12") == datetime(2027, 1, 1, tzinfo=UTC)
    assert period_end("2026-10") == datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-10", "2026-1", "2026-10-01", "x"])
def test_a_period_is_a_year_and_month(text):
    assert not is_period(text)
