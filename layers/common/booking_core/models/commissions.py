"""Paying out commission statements: what the admin's endpoint takes.

A statement is paid once, with the reference of the bank transfer and the day it was made; the
rules that need the clock or the stored statement (not in the future, not before the month
ended, not paid already) are the service's (`services.commissions.mark_paid`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from booking_core.models.years import within_years

# Long enough for any bank's transfer reference (SEPA's remittance information is 140
# characters), short enough to be a reference rather than a note.
MAX_REFERENCE_LENGTH = 140
# Not on one line, or not shown as written: controls (C0, DEL, C1 such as U+0085 NEXT LINE),
# the line and paragraph separators (U+2028, U+2029), and format characters (bidi overrides
# such as U+202E, zero-width characters).
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cf"})
_CURRENCY = re.compile(r"[A-Za-z]{3}")


class _Input(BaseModel):
    # As booking_core.http.schemas: unknown fields ignored, text stripped, built when used.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class StatementPaid(_Input):
    """POST /admin/commissions/{period}/{client_id}/paid/: how the statement was paid out."""

    reference: str = Field(
        max_length=MAX_REFERENCE_LENGTH,
        json_schema_extra={"minLength": 1},
        description="The bank transfer's reference, as the bank shows it.",
        examples=["SEPA-2026-11-000123"],
    )
    paid_on: date = Field(
        description=(
            "The day the transfer was made: not before the first day after the statement's "
            "month, and not in the future."
        ),
        examples=["2026-11-03"],
    )
    currency: str | None = Field(
        None,
        min_length=3,
        max_length=3,
        description=(
            "Which of the client's statements of the month: needed only when it has "
            "statements in more than one currency that month."
        ),
        examples=["EUR"],
    )

    @field_validator("reference")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if not value:
            raise ValueError("This field may not be blank.")
        if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in value):
            raise ValueError("Enter the reference on one line, without control characters.")
        return value

    @field_validator("paid_on")
    @classmethod
    def _within_years(cls, value: date) -> date:
        return within_years(value)

    @field_validator("currency")
    @classmethod
    def _a_currency_code(cls, value: str | None) -> str | None:
        if value is not None and not _CURRENCY.fullmatch(value):
            raise ValueError("Enter a three-letter currency code, e.g. EUR.")
        return None if value is None else value.upper()
