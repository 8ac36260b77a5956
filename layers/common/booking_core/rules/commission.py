"""What a partner app (client) earns on the bookings made through it, in minor units.

Pure arithmetic, rounded half up to the minor unit. A refund reverses the commission in
proportion; reversals are computed on the cumulative refunded amount, so that several partial
refunds reverse exactly the whole commission once everything is refunded.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def commission(amount: int, percent: Decimal) -> int:
    """`percent` of `amount` (minor units)."""
    return _round(Decimal(amount) * percent / 100)


def reversed_share(commission_amount: int, amount: int, refunded: int) -> int:
    """How much of a commission a refund of `refunded` out of `amount` takes back in total."""
    if amount <= 0 or refunded <= 0:
        return 0
    return _round(Decimal(commission_amount) * min(refunded, amount) / amount)


def reversal(commission_amount: int, amount: int, refunded_before: int, refunded_after: int) -> int:
    """The commission taken back when the refunded total goes from `before` to `after` (>= 0)."""
    return reversed_share(commission_amount, amount, refunded_after) - reversed_share(
        commission_amount, amount, refunded_before
    )


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
