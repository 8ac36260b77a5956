"""Who is logged in (`GET /me/`): the caller's own account, whether they are platform staff,
and their role at each venue, which a page asks right after login to know whether to show the
operator's views."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.store import catalogue, staff, table
from tests.integration.conftest import Call, Reply
from tests.integration.signups import log_in, sign_up

CLIENT_TOKEN = "demo-client-token-00000000000000000000000"
NEW_YORK = 2  # the demo's second venue, "Harbor Racquet Club"


def me(call: Call, token: str | None, **kwargs: Any) -> Reply:
    return call("get_account", token=token, **kwargs)


def add_role(user_id: str, email: str, venue_id: int, role: VenueRole) -> None:
    """Make the person staff of a venue, as the demo data does."""
    membership = staff.Membership(venue_id, user_id, role, email, clock.now())
    table.put_item(staff.member_item(membership))


def test_a_person_sees_their_own_account(call: Call, demo: dict[str, Any], demo_token: str):
    # Given the demo user, a customer
    user = demo["users"][0]
    # When they ask who is logged in
    reply = me(call, demo_token)
    # Then the answer is their account: id, email, name, a confirmed email, not an admin
    assert reply.status == 200, reply.raw_body
    body = reply.json
    assert {k: v for k, v in body.items() if k != "staff"} == {
        "id": user["id"],
        "email": "demo@example.com",
        "first_name": "Dana",
        "last_name": "Demo",
        "email_confirmed": True,
        "is_admin": False,
    }


def test_a_person_with_no_role_at_any_venue_has_an_empty_staff_list(call: Call, demo_token: str):
    # Given the demo user, staff nowhere
    # When they ask who is logged in
    reply = me(call, demo_token)
    # Then no venue is listed
    assert reply.json["staff"] == []


def test_the_owner_of_a_venue_sees_it_with_its_name_timezone_and_their_role(
    call: Call, demo: dict[str, Any]
):
    # Given the demo venue's owner
    owner = demo["owner"]
    # When they ask who is logged in
    reply = me(call, owner["token"])
    # Then their venue is listed with what the day view needs
    assert reply.status == 200, reply.raw_body
    assert reply.json["staff"] == [
        {
            "venue_id": owner["venue"],
            "venue_name": "Sports Center",
            "venue_timezone": "Europe/Berlin",
            "venue_is_active": True,
            "role": "owner",
        }
    ]


def test_staff_of_two_venues_see_both_by_venue_id_each_with_its_role(
    call: Call, demo: dict[str, Any]
):
    # Given the Munich venue's owner, also a staff member in New York
    owner = demo["owner"]
    add_role(owner["id"], owner["email"], NEW_YORK, VenueRole.STAFF)
    # When they ask who is logged in
    staff_list = me(call, owner["token"]).json["staff"]
    # Then both venues are listed, by id, each with the role held there
    shown = [(s["venue_id"], s["venue_name"], s["venue_timezone"], s["role"]) for s in staff_list]
    assert shown == [
        (owner["venue"], "Sports Center", "Europe/Berlin", "owner"),
        (NEW_YORK, "Harbor Racquet Club", "America/New_York", "staff"),
    ]


def test_an_inactive_venue_is_still_listed_and_marked_inactive(call: Call, demo: dict[str, Any]):
    # Given a manager of the New York venue, which has been made inactive
    owner = demo["owner"]
    add_role(owner["id"], owner["email"], NEW_YORK, VenueRole.MANAGER)
    venue = catalogue.get_venue(NEW_YORK)
    assert venue is not None
    catalogue.save_venue(replace(venue, is_active=False))
    # When they ask who is logged in
    staff_list = me(call, owner["token"]).json["staff"]
    # Then the venue is listed with their role, marked inactive
    (new_york,) = [s for s in staff_list if s["venue_id"] == NEW_YORK]
    assert (new_york["role"], new_york["venue_is_active"]) == ("manager", False)


def test_an_admin_is_shown_as_an_admin(call: Call, demo: dict[str, Any]):
    # Given a platform admin
    admin = demo["admin"]
    # When they ask who is logged in with their own token
    reply = me(call, admin["token"])
    # Then their account is shown as platform staff
    assert reply.status == 200, reply.raw_body
    assert (reply.json["id"], reply.json["is_admin"]) == (admin["id"], True)


def test_a_person_who_has_not_confirmed_their_email_is_shown_so(call: Call):
    # Given a person who signed up and logged in without confirming their address
    assert sign_up(call, "nina.unconfirmed@example.com").status == 202
    token = log_in(call, "nina.unconfirmed@example.com", "lob-volley-tiebreak").json["token"]
    # When they ask who is logged in
    reply = me(call, token)
    # Then the answer says their email is not confirmed yet
    assert reply.status == 200, reply.raw_body
    assert (reply.json["first_name"], reply.json["email_confirmed"]) == ("Nina", False)


def test_without_a_token_the_answer_is_401_asking_for_one(call: Call):
    # Given no token
    # When someone asks who is logged in
    reply = me(call, None)
    # Then the answer is 401, naming the scheme
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"] == "Token"
    assert reply.json["detail"] == "Authentication credentials were not provided."


def test_a_partner_app_is_refused_even_naming_its_user(call: Call):
    # Given the demo partner app's token, with and without a user header
    # When it asks who is logged in
    alone = me(call, CLIENT_TOKEN)
    for_a_user = me(call, CLIENT_TOKEN, headers={"X-User-External-ID": "partner-user-1"})
    # Then both are refused: the endpoint is for a person's own token
    assert (alone.status, for_a_user.status) == (403, 403)


def test_the_answer_holds_no_password_hash_and_no_token(call: Call, demo: dict[str, Any]):
    # Given the demo venue's owner
    owner = demo["owner"]
    # When they ask who is logged in
    text = me(call, owner["token"]).raw_body
    # Then nothing of the password or of any token is in the answer
    assert "password" not in text
    assert "scrypt$" not in text
    assert owner["token"] not in text
    assert "token" not in text


def test_the_answer_is_not_kept_by_caches(call: Call, demo_token: str):
    # Given the demo user
    # When they ask who is logged in
    reply = me(call, demo_token)
    # Then caches are told not to store the answer: it is personal data
    assert reply.headers["Cache-Control"] == "no-store"


def test_two_venues_cost_one_query_and_one_batch_read_after_authentication(
    call: Call, demo: dict[str, Any], dynamodb_calls: list[str]
):
    # Given the demo venue's owner, staff of a second venue too, whose token was used this hour
    owner = demo["owner"]
    add_role(owner["id"], owner["email"], NEW_YORK, VenueRole.STAFF)
    assert me(call, owner["token"]).status == 200
    dynamodb_calls.clear()
    # When they ask who is logged in again
    reply = me(call, owner["token"])
    # Then it costs the rate-limit counter, the account (the token is remembered from the
    # first request, for 60 s), one query for the roles and one batch read of both venues,
    # and no other write
    assert len(reply.json["staff"]) == 2
    assert dynamodb_calls == ["UpdateItem", "GetItem", "Query", "BatchGetItem"]


def test_a_customer_costs_no_venue_read(call: Call, demo_token: str, dynamodb_calls: list[str]):
    # Given the demo user, staff nowhere, whose token was used this hour
    assert me(call, demo_token).status == 200
    dynamodb_calls.clear()
    # When they ask who is logged in again
    me(call, demo_token)
    # Then no venue is read (nor the token, remembered from the first request)
    assert dynamodb_calls == ["UpdateItem", "GetItem", "Query"]
