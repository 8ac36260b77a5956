"""Venue roles: each role may do what the roles below it may, and no more."""

import pytest

from booking_core.domain import VenueRole


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        (VenueRole.OWNER, VenueRole.OWNER, True),
        (VenueRole.OWNER, VenueRole.MANAGER, True),
        (VenueRole.OWNER, VenueRole.STAFF, True),
        (VenueRole.MANAGER, VenueRole.OWNER, False),
        (VenueRole.MANAGER, VenueRole.MANAGER, True),
        (VenueRole.MANAGER, VenueRole.STAFF, True),
        (VenueRole.STAFF, VenueRole.OWNER, False),
        (VenueRole.STAFF, VenueRole.MANAGER, False),
        (VenueRole.STAFF, VenueRole.STAFF, True),
    ],
)
def test_a_role_allows_what_it_or_a_lower_role_needs(
    role: VenueRole, needed: VenueRole, allowed: bool
) -> None:
    # Given a role and the role an action needs
    # When asked whether the role allows it
    # Then only an equal or higher role does
    assert role.allows(needed) is allowed
