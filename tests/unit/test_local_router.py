"""The local API Gateway's routing: which route a request reaches, and what happens when none."""

from __future__ import annotations

import pytest

from local.api import MethodNotAllowed, RouteMatch, Router
from local.template import Route, load_template


@pytest.fixture
def router() -> Router:
    return Router(load_template().routes)


def test_a_path_with_or_without_its_trailing_slash_reaches_the_same_route(router: Router) -> None:
    # Given the template's route GET /api/v1/bookings
    # When a client asks for it with and without the trailing slash
    with_slash = router.match("GET", "/api/v1/bookings/")
    without_slash = router.match("GET", "/api/v1/bookings")

    # Then both reach ListBookingsFunction
    assert isinstance(with_slash, RouteMatch)
    assert isinstance(without_slash, RouteMatch)
    assert with_slash.route.function_id == without_slash.route.function_id == "ListBookingsFunction"


def test_a_static_segment_wins_over_a_path_parameter(router: Router) -> None:
    # Given /resources/availability and /resources/{resource_id} both match the path
    # When the client asks for /api/v1/resources/availability/
    match = router.match("GET", "/api/v1/resources/availability/")

    # Then the static resource wins, with no path parameters
    assert isinstance(match, RouteMatch)
    assert match.route.path == "/api/v1/resources/availability"
    assert match.route.function_id == "GetAvailabilityFunction"
    assert match.path_parameters == {}


def test_a_parameter_segment_captures_the_value_from_the_path(router: Router) -> None:
    # Given the route /api/v1/resources/{resource_id}
    # When the client asks for resource 7
    match = router.match("GET", "/api/v1/resources/7/")

    # Then GetResourceFunction gets resource_id "7"
    assert isinstance(match, RouteMatch)
    assert match.route.function_id == "GetResourceFunction"
    assert match.path_parameters == {"resource_id": "7"}


def test_path_parameters_arrive_percent_decoded_like_api_gateway_sends_them() -> None:
    # Given a route with a parameter
    router = Router([Route("GET", "/things/{name}", "ThingFunction")])

    # When the value is percent-encoded in the path
    match = router.match("GET", "/things/a%20b%2Bc")

    # Then the function sees it decoded
    assert isinstance(match, RouteMatch)
    assert match.path_parameters == {"name": "a b+c"}


def test_a_parameter_segment_followed_by_a_static_one_reaches_the_nested_route(
    router: Router,
) -> None:
    # Given /api/v1/bookings/{booking_id}/cancel
    # When the client posts to a booking's cancel path
    match = router.match("POST", "/api/v1/bookings/abc-123/cancel/")

    # Then CancelBookingFunction gets the booking id
    assert isinstance(match, RouteMatch)
    assert match.route.function_id == "CancelBookingFunction"
    assert match.path_parameters == {"booking_id": "abc-123"}


def test_an_unknown_path_matches_no_route(router: Router) -> None:
    # Given the template's routes
    # When the client asks for a path none of them has
    match = router.match("GET", "/api/v1/nothing-here/")

    # Then there is no match at all (the API answers 404)
    assert match is None


def test_a_known_path_with_another_method_is_not_allowed_and_names_the_allowed_ones(
    router: Router,
) -> None:
    # Given /api/v1/bookings answers GET (list) and POST (create)
    # When the client sends DELETE
    match = router.match("DELETE", "/api/v1/bookings/")

    # Then the method is not allowed, and GET and POST are
    assert match == MethodNotAllowed(allowed=("GET", "POST"))


def test_the_method_of_the_most_specific_resource_decides_even_if_a_parameter_route_has_it() -> (
    None
):
    # Given a static resource with GET only and a parameter resource with POST
    router = Router(
        [Route("GET", "/items/special", "Special"), Route("POST", "/items/{id}", "Create")]
    )

    # When the client posts to the static path
    match = router.match("POST", "/items/special")

    # Then the static resource was chosen and it has no POST, as in API Gateway
    assert match == MethodNotAllowed(allowed=("GET",))


def test_an_any_method_route_answers_every_method() -> None:
    # Given a route declared with Method: any
    router = Router([Route("ANY", "/webhook", "Hook")])

    # When the client sends PATCH
    match = router.match("PATCH", "/webhook")

    # Then the ANY route serves it
    assert isinstance(match, RouteMatch)
    assert match.route.function_id == "Hook"
