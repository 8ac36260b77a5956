"""What the endpoints accept. Unknown body fields are ignored, as the seed API does."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from booking_core.domain import BookingStatus

MAX_PAGE_SIZE = 100
# Dates outside these years are typing errors, and would overflow time-zone arithmetic.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
_YEARS_MESSAGE = f"Dates must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}."


def _within_years[T: (date, datetime)](value: T) -> T:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(_YEARS_MESSAGE)
    return value


class _Input(BaseModel):
    # defer_build: a model's validator is built when first used, so a handler's cold start
    # pays only for the models it reads.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class Page(_Input):
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class TokenRequest(_Input):
    username: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class VenueFilters(Page):
    city: str | None = None
    venue_type: str | None = None
    search: str | None = None
    is_active: bool | None = None
    is_featured: bool | None = None


class ResourceFilters(Page):
    venue: int | None = Field(None, ge=1)
    venue_slug: str | None = None
    activity: int | None = Field(None, ge=1)
    is_active: bool | None = None
    is_bookable: bool | None = None


MAX_AVAILABILITY_DAYS = 31


class AvailabilityQuery(_Input):
    resource_id: int | None = Field(None, ge=1)
    resource_external_id: str | None = Field(None, min_length=1, max_length=255)
    start_date: date | None = None
    end_date: date | None = None

    @field_validator("start_date")
    @classmethod
    def _start_within_years(cls, start: date | None) -> date | None:
        return None if start is None else _within_years(start)

    @field_validator("end_date")
    @classmethod
    def _range_is_sane(cls, end: date | None, info: ValidationInfo) -> date | None:
        if end is None:
            return None
        _within_years(end)
        start = info.data.get("start_date")
        if start:
            if end < start:
                raise ValueError("end_date must not be before start_date.")
            if (end - start).days + 1 > MAX_AVAILABILITY_DAYS:
                raise ValueError(
                    f"The date range cannot be longer than {MAX_AVAILABILITY_DAYS} days."
                )
        return end


class BookingCreate(_Input):
    resource: int | None = Field(None, ge=1)
    resource_external_id: str | None = Field(None, min_length=1, max_length=255)
    start_datetime: AwareDatetime
    end_datetime: AwareDatetime
    participant_count: int = Field(1, ge=1, le=1000)
    notes: str = Field("", max_length=2000)

    @field_validator("start_datetime")
    @classmethod
    def _start_within_years(cls, start: AwareDatetime) -> AwareDatetime:
        return _within_years(start)

    @field_validator("end_datetime")
    @classmethod
    def _end_after_start(cls, end: AwareDatetime, info: ValidationInfo) -> AwareDatetime:
        _within_years(end)
        start = info.data.get("start_datetime")
        if start is not None and end <= start:
            raise ValueError("end_datetime must be after start_datetime.")
        return end


class BookingFilters(Page):
    status: BookingStatus | None = None
    upcoming: bool | None = None


class CancelRequest(_Input):
    reason: str = Field("user_request", min_length=1, max_length=64)
    notes: str = Field("", max_length=2000)
