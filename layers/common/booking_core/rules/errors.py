"""Typed booking-rule violations.

Each class carries a stable `code` (the problem type the HTTP layer maps to) and the
sentence shown to the client, verbatim from the seed. Nothing should match on message text.
"""

from __future__ import annotations


class BookingRuleViolation(Exception):
    """A booking request breaks a rule; `message` is the sentence shown to the client."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidDuration(BookingRuleViolation):
    """End before start, a duration off the interval grid, or outside min/max duration."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid-duration")


class MisalignedStart(BookingRuleViolation):
    """The start is not on the resource's booking-interval grid (venue-local wall time)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="misaligned-start")


class StartInPast(BookingRuleViolation):
    """The start is not after `now`."""

    def __init__(self, message: str = "Booking start time must be in the future") -> None:
        super().__init__(message, code="start-in-past")


class TooShortNotice(BookingRuleViolation):
    """The start is sooner than the venue's minimum advance notice."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="too-short-notice")


class TooFarAhead(BookingRuleViolation):
    """The start is further ahead than the venue's booking horizon."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="too-far-ahead")


class OutsideOpeningHours(BookingRuleViolation):
    """The booking does not lie inside one continuous block of opening hours."""

    def __init__(self, message: str = "The requested time is outside opening hours") -> None:
        super().__init__(message, code="outside-opening-hours")


class SlotUnavailable(BookingRuleViolation):
    """The booking overlaps another booking, a hold or a closure."""

    def __init__(self, message: str = "The requested time slot is not available") -> None:
        super().__init__(message, code="slot-unavailable")


class UnbookableGap(BookingRuleViolation):
    """The booking would leave free time too short for anyone else to book."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="unbookable-gap")


class TooManyHolds(BookingRuleViolation):
    """The caller already holds as many unpaid bookings as one may hold at a time."""

    def __init__(self, cap: int) -> None:
        super().__init__(
            f"You can hold at most {cap} unpaid bookings at a time", code="too-many-holds"
        )


class OnlinePaymentUnavailable(BookingRuleViolation):
    """The venue's Stripe account cannot take charges yet, and it does not take payment at the
    venue instead: nothing can be booked there for now."""

    def __init__(
        self,
        message: str = (
            "This venue does not take online payments yet, so it cannot be booked online."
        ),
    ) -> None:
        super().__init__(message, code="online-payment-unavailable")
