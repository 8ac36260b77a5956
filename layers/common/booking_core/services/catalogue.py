"""Browsing venues and resources."""

from __future__ import annotations

from typing import TYPE_CHECKING

from booking_core.domain import Resource, Venue
from booking_core.errors import NotFound
from booking_core.store import catalogue

if TYPE_CHECKING:
    from booking_core.http.schemas import ResourceFilters, VenueFilters


def find_venues(filters: VenueFilters) -> list[Venue]:
    """Venues matching every given filter, by id."""
    venues = catalogue.list_venues()
    if filters.city is not None:
        venues = [v for v in venues if v.city.casefold() == filters.city.casefold()]
    venues = _where(
        venues,
        venue_type=filters.venue_type,
        is_active=filters.is_active,
        is_featured=filters.is_featured,
    )
    if filters.search:
        needle = filters.search.casefold()
        venues = [
            v
            for v in venues
            if needle in v.name.casefold()
            or needle in v.city.casefold()
            or needle in v.description.casefold()
        ]
    return venues


def venue(venue_id: int) -> Venue:
    found = catalogue.get_venue(venue_id)
    if found is None:
        raise NotFound
    return found


def find_resources(filters: ResourceFilters) -> list[Resource]:
    """Resources matching every given filter, by venue then id."""
    venue_id = filters.venue
    if filters.venue_slug is not None:
        slugged = [v for v in catalogue.list_venues() if v.slug == filters.venue_slug]
        if not slugged or (venue_id is not None and slugged[0].id != venue_id):
            return []
        venue_id = slugged[0].id
    return _where(
        catalogue.list_resources(venue_id),
        activity=filters.activity,
        is_active=filters.is_active,
        is_bookable=filters.is_bookable,
    )


def resource(resource_id: int) -> Resource:
    found = catalogue.get_resource(resource_id)
    if found is None:
        raise NotFound
    return found


def _where[T](items: list[T], **wanted: object) -> list[T]:
    """The items whose attributes equal every wanted value that was given (not None)."""
    given = {name: value for name, value in wanted.items() if value is not None}
    return [item for item in items if all(getattr(item, k) == v for k, v in given.items())]
