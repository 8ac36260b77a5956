"""Amounts in a currency's minor unit, as Stripe counts them."""

from __future__ import annotations

from decimal import Decimal

# Currencies Stripe counts in whole units (no minor unit). None of the seed's currencies are.
_ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
     "xaf", "xof", "xpf"}
)  # fmt: skip


def minor_units(amount: Decimal, currency: str) -> int:
    """`Decimal("37.50")`, "EUR" -> 3750. Raises ValueError for a fraction of a minor unit."""
    exponent = 0 if currency.lower() in _ZERO_DECIMAL else 2
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(scaled)


def from_minor_units(amount: int, currency: str) -> Decimal:
    """3750, "eur" -> Decimal("37.50")."""
    exponent = 0 if currency.lower() in _ZERO_DECIMAL else 2
    return Decimal(amount).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))
