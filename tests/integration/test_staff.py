"""A venue's staff: owners invite by email, change roles and remove members; at least one owner
always remains, also when two owners act at the same moment; every change is audited and every
email goes through the outbox."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.notifications.capture import list_captured
from booking_core.services import accounts
from booking_core.store import audit
from booking_core.store import staff as staff_store
from tests.integration.conftest import Call, Reply
from tests.integration.payments import Invoke, run_outbox

OWNER_TOKEN = "demo-owner-token-000000000000000000000000"
ADMIN_TOKEN = "demo-admin-token-000000000000000000000000"
CLIENT_TOKEN = "demo-client-token-00000000000000000000000"
FORBIDDEN = {
    "type": "/errors/permission-denied",
    "title": "Forbidden",
    "status": 403,
    "detail": "You do not have permission to perform this action.",
}
NOT_FOUND = {
    "type": "/errors/not-found",
    "title": "Not Found",
    "status": 404,
    "detail": "Not found.",
}


@pytest.fixture
def outbox_dir(demo: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The functions capture their emails in a fresh folder, as on the local stack."""
    from booking_core.settings import get_settings

    folder = tmp_path / "outbox"
    monkeypatch.setenv("BOOKING_LOCAL_MODE", "true")
    monkeypatch.setenv("MAIL_CAPTURE_DIR", str(folder))
    get_settings.cache_clear()
    return folder


def staff_path(venue: int = 1, user_id: str | None = None) -> str:
    path = f"/api/v1/venues/{venue}/staff/"
    return path if user_id is None else f"{path}{user_id}/"


def list_staff(call: Call, *, venue: int = 1, token: str = OWNER_TOKEN, **query: str) -> Reply:
    return call("list_venue_staff", path={"venue_id": str(venue)}, token=token, query=query or None)


def invite(
    call: Call,
    email: str,
    role: str = "manager",
    *,
    venue: int = 1,
    token: str = OWNER_TOKEN,
    headers: dict[str, str] | None = None,
) -> Reply:
    return call(
        "invite_venue_staff",
        path={"venue_id": str(venue)},
        body={"email": email, "role": role},
        token=token,
        headers=headers,
    )


def change_role(
    call: Call, user_id: str, role: str, *, venue: int = 1, token: str = OWNER_TOKEN
) -> Reply:
    return call(
        "change_venue_staff_role",
        path=_member_path(venue, user_id),
        body={"role": role},
        token=token,
    )


def remove(call: Call, user_id: str, *, venue: int = 1, token: str = OWNER_TOKEN) -> Reply:
    return call("remove_venue_staff", path=_member_path(venue, user_id), token=token)


def _member_path(venue: int, user_id: str) -> dict[str, str]:
    return {"venue_id": str(venue), "user_id": user_id}


def person(email: str, first_name: str = "Pat", last_name: str = "Person") -> tuple[str, str]:
    """A person with an account and a token: (user id, token)."""
    user = accounts.register_user(email, "a-long-password", first_name, last_name)
    return user.id, accounts.issue_token(user.id)


def another_owner(call: Call, email: str = "second.owner@example.com") -> tuple[str, str]:
    """A second owner of the demo venue, added by the demo owner: (user id, token)."""
    user_id, token = person(email, "Sam", "Second")
    reply = invite(call, email, "owner")
    assert reply.status == 201, reply.raw_body
    return user_id, token


def problem(reply: Reply) -> dict[str, Any]:
    body: dict[str, Any] = reply.json
    return body


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def actions(venue: int = 1) -> list[str]:
    return [entry.action for entry in audit.entries(venue, newest_first=False)]


def newest_entry(venue: int = 1) -> audit.AuditEntry:
    return next(audit.entries(venue))


def owners(venue: int = 1) -> list[str]:
    return [m.email for m in staff_store.members(venue) if m.role == VenueRole.OWNER]


def emails_sent(invoke: Invoke, outbox_dir: Path) -> list[dict[str, Any]]:
    run_outbox(invoke)
    return list_captured(outbox_dir)


# ---- the list ---------------------------------------------------------------------------


def test_the_owner_sees_the_venues_staff(call: Call, demo: dict[str, Any]):
    # Given the demo venue, whose one member is its owner
    # When the owner lists the staff
    reply = list_staff(call)

    # Then the answer is the owner, as a member, in the list envelope
    assert reply.status == 200, reply.raw_body
    assert reply.json == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "status": "member",
                "user_id": demo["owner"]["id"],
                "email": "owner@example.com",
                "name": "Olga Owner",
                "role": "owner",
                "since": reply.json["results"][0]["since"],
                "invited_at": None,
                "expires_at": None,
            }
        ],
    }


def test_the_list_shows_members_owners_first_then_invitations_and_pages(call: Call):
    # Given a manager, a staff member and two invitations besides the owner
    person("manny@example.com", "Manny", "Manager")
    person("stu@example.com", "Stu", "Staff")
    for email, role in [
        ("stu@example.com", "staff"),
        ("manny@example.com", "manager"),
        ("zoe@example.com", "staff"),
        ("amy@example.com", "owner"),
    ]:
        assert invite(call, email, role).status == 201

    # When the owner lists them two at a time
    first = list_staff(call, page_size="2")
    second = list_staff(call, page="2", page_size="2")
    third = list_staff(call, page="3", page_size="2")

    # Then members come first, the higher roles first, then the invitations by email
    listed = [(e["status"], e["email"], e["role"]) for e in first.json["results"]]
    listed += [(e["status"], e["email"], e["role"]) for e in second.json["results"]]
    listed += [(e["status"], e["email"], e["role"]) for e in third.json["results"]]
    assert listed == [
        ("member", "owner@example.com", "owner"),
        ("member", "manny@example.com", "manager"),
        ("member", "stu@example.com", "staff"),
        ("invited", "amy@example.com", "owner"),
        ("invited", "zoe@example.com", "staff"),
    ]
    assert first.json["count"] == 5
    assert first.json["next"] is not None
    assert third.json["next"] is None


# ---- invitations ------------------------------------------------------------------------


def test_inviting_an_email_without_an_account_stores_an_invitation_for_14_days(call: Call):
    # Given a moment the test owns
    clock.freeze()
    now = clock.now()

    # When the owner invites an address nobody has an account for (in any case)
    reply = invite(call, "New.Manager@Example.com", "manager")

    # Then it is a new invitation of the lower-case address, running 14 days
    assert reply.status == 201, reply.raw_body
    assert reply.json == {
        "status": "invited",
        "user_id": None,
        "email": "new.manager@example.com",
        "name": None,
        "role": "manager",
        "since": None,
        "invited_at": utc(now),
        "expires_at": utc((now + timedelta(days=14)).replace(microsecond=0)),
    }
    # And the list shows it after the members
    assert list_staff(call).json["results"][1] == reply.json


def test_the_invitation_email_goes_through_the_outbox(call: Call, invoke: Invoke, outbox_dir: Path):
    # Given an invitation of an address without an account
    assert invite(call, "new.manager@example.com", "manager").status == 201

    # When the outbox runs
    sent = emails_sent(invoke, outbox_dir)

    # Then the invitee got one email that says where, which role and how to accept
    assert len(sent) == 1
    email = sent[0]
    assert email["to"] == "new.manager@example.com"
    assert email["subject"] == "Invitation: join Sports Center as manager"
    assert "You are invited to join the staff of Sports Center as manager." in email["text"]
    assert "create your account with this email address" in email["text"]
    assert "Valid until:" in email["text"]


def test_inviting_an_existing_account_adds_them_at_once_and_tells_them(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given a person with an account
    user_id, _ = person("manny@example.com", "Manny", "Manager")

    # When the owner invites their address
    reply = invite(call, "MANNY@example.com", "manager")

    # Then they are a member at once, in that role
    assert reply.status == 201, reply.raw_body
    assert reply.json == {
        "status": "member",
        "user_id": user_id,
        "email": "manny@example.com",
        "name": "Manny Manager",
        "role": "manager",
        "since": reply.json["since"],
        "invited_at": None,
        "expires_at": None,
    }
    assert staff_store.role_at(1, user_id) == VenueRole.MANAGER
    # And an email tells them
    sent = emails_sent(invoke, outbox_dir)
    assert [(e["to"], e["subject"]) for e in sent] == [
        ("Manny Manager <manny@example.com>", "You are now manager at Sports Center")
    ]
    assert "You have been added to the staff of Sports Center as manager." in sent[0]["text"]


def test_inviting_the_same_email_again_changes_nothing(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given a pending invitation
    first = invite(call, "new.manager@example.com", "manager")

    # When the owner sends the same invitation again
    again = invite(call, "new.manager@example.com", "manager")

    # Then the answer is the same invitation, with 200: no second invitation, entry or email
    assert again.status == 200, again.raw_body
    assert again.json == first.json
    assert actions().count("staff.invited") == 1
    assert len(emails_sent(invoke, outbox_dir)) == 1


def test_inviting_again_with_another_role_renews_the_invitation(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given a pending invitation as staff
    first = invite(call, "new.hire@example.com", "staff").json

    # When the owner invites the address again, as manager, a day later
    clock.advance(timedelta(days=1))
    reply = invite(call, "new.hire@example.com", "manager")

    # Then the invitation has the new role and runs from now, audited from and to
    assert reply.status == 200, reply.raw_body
    assert reply.json["role"] == "manager"
    assert reply.json["expires_at"] > first["expires_at"]
    entry = newest_entry()
    assert entry.action == "staff.invited"
    assert entry.before is not None
    assert entry.before["role"] == "staff"
    assert entry.after is not None
    assert entry.after["role"] == "manager"
    # And it was emailed again, with the new role
    subjects = [e["subject"] for e in emails_sent(invoke, outbox_dir)]
    assert sorted(subjects) == [
        "Invitation: join Sports Center as manager",
        "Invitation: join Sports Center as staff",
    ]


def test_inviting_someone_already_staff_is_a_conflict(call: Call):
    # Given the demo owner, staff of the venue
    # When the owner invites their own address
    reply = invite(call, "owner@example.com", "staff")

    # Then it is a 409 that says what to do instead, and nothing is recorded
    assert reply.status == 409
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json == {
        "type": "/errors/already-staff",
        "title": "Conflict",
        "status": 409,
        "detail": "owner@example.com is already staff of this venue, as owner: "
        "change their role instead.",
        "instance": staff_path(),
    }
    assert actions() == []


def test_a_retried_invitation_with_its_idempotency_key_gets_the_first_answer(call: Call):
    # Given a person with an account, and an invitation sent with an Idempotency-Key
    person("manny@example.com")
    key = {"Idempotency-Key": "invite-manny-1"}
    first = invite(call, "manny@example.com", headers=key)

    # When the same request is retried with that key
    retried = invite(call, "manny@example.com", headers=key)

    # Then the retry gets the first answer (not a 409), and they were added once
    assert (first.status, retried.status) == (201, 201)
    assert retried.json == first.json
    assert actions() == ["staff.added"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"email": "not-an-email", "role": "manager"}, {"email": ["Enter a valid email address."]}),
        (
            {"email": "a@example.com", "role": "boss"},
            {"role": ["Input should be 'staff', 'manager' or 'owner'"]},
        ),
        (
            {"email": "a" * 250 + "@example.com", "role": "staff"},
            {"email": ["String should have at most 254 characters"]},
        ),
        ({}, {"email": ["This field is required."], "role": ["This field is required."]}),
    ],
)
def test_an_invitation_without_a_valid_email_and_role_is_a_field_error(
    call: Call, body: dict[str, Any], errors: dict[str, list[str]]
):
    # Given a body with a bad or missing email or role
    # When the owner sends it
    reply = call("invite_venue_staff", body=body, token=OWNER_TOKEN)

    # Then it is a 400 naming the field, and nothing is recorded
    assert reply.status == 400
    assert {field: reply.json[field] for field in errors} == errors
    assert reply.json["errors"] == [
        {"pointer": f"/{field}", "detail": message}
        for field, messages in errors.items()
        for message in messages
    ]
    assert actions() == []


def test_a_bad_email_answers_the_whole_problem_document(call: Call):
    # When the owner invites something that is not an address
    reply = invite(call, "owner at example.com")

    # Then the body is the field problem, exactly
    assert reply.json == {
        "type": "/errors/invalid-request",
        "title": "Bad Request",
        "status": 400,
        "detail": "email: Enter a valid email address.",
        "instance": staff_path(),
        "email": ["Enter a valid email address."],
        "errors": [{"pointer": "/email", "detail": "Enter a valid email address."}],
    }


def test_a_platform_admins_address_cannot_be_invited(call: Call):
    # When the owner invites the address of the platform admin's account
    reply = invite(call, "admin@example.com", "staff")

    # Then it is a field error: that account cannot be staff
    assert reply.status == 400
    assert reply.json["email"] == ["This email belongs to an account that cannot be staff."]


# ---- accepting an invitation --------------------------------------------------------------


def test_an_invited_email_joins_the_staff_when_its_account_is_created(
    call: Call, demo: dict[str, Any]
):
    # Given an invitation as manager
    assert invite(call, "new.manager@example.com", "manager").status == 201

    # When the person creates their account with that address (in another case)
    user_id, _ = person("New.Manager@example.com", "Nina", "New")

    # Then they are a manager of the venue (under their account's address), and the
    # invitation is gone
    assert staff_store.role_at(1, user_id) == VenueRole.MANAGER
    listed = list_staff(call).json["results"]
    assert [(e["status"], e["email"], e["role"]) for e in listed] == [
        ("member", "owner@example.com", "owner"),
        ("member", "New.Manager@example.com", "manager"),
    ]
    # And the audit trail says who made them staff: the owner who invited them
    entry = newest_entry()
    assert (entry.action, entry.actor_user_id, entry.actor_role) == (
        "staff.added",
        demo["owner"]["id"],
        "owner",
    )
    assert entry.after is not None
    assert (entry.after["user_id"], entry.after["role"]) == (user_id, "manager")


def test_an_invited_owner_can_manage_the_staff_with_their_new_account(call: Call):
    # Given an invitation as owner, and the account created for it
    assert invite(call, "co.owner@example.com", "owner").status == 201
    _, token = person("co.owner@example.com")

    # When the new owner lists the staff
    reply = list_staff(call, token=token)

    # Then they may
    assert reply.status == 200, reply.raw_body
    assert reply.json["count"] == 2


def test_an_account_a_partner_app_creates_does_not_join_the_staff(call: Call):
    # Given an invitation of an address
    assert invite(call, "invited@example.com", "manager").status == 201

    # When a partner app registers its user with that address
    registered = call(
        "register_client_user",
        body={"external_id": "their-user-1", "email": "invited@example.com"},
        token=CLIENT_TOKEN,
    )

    # Then the account exists but is not staff: the invitation still waits
    assert registered.status == 201, registered.raw_body
    assert staff_store.role_at(1, registered.json["user_id"]) is None
    assert [e["status"] for e in list_staff(call).json["results"]] == ["member", "invited"]


def test_inviting_an_account_a_partner_app_created_makes_them_staff_and_tells_them(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given an account a partner app created
    registered = call(
        "register_client_user",
        body={"external_id": "their-user-1", "email": "player@example.com"},
        token=CLIENT_TOKEN,
    ).json

    # When the owner invites that address
    reply = invite(call, "player@example.com", "staff")

    # Then the person is staff, and an email tells them (nothing happened silently)
    assert reply.status == 201
    assert staff_store.role_at(1, registered["user_id"]) == VenueRole.STAFF
    assert [e["to"] for e in emails_sent(invoke, outbox_dir)] == ["player@example.com"]


def test_an_expired_invitation_is_neither_listed_nor_accepted(call: Call):
    # Given an invitation, fifteen days old
    assert invite(call, "late@example.com", "manager").status == 201
    clock.advance(timedelta(days=15))

    # When the person creates their account now
    user_id, _ = person("late@example.com")

    # Then they are not staff, and the list no longer shows the invitation
    assert staff_store.role_at(1, user_id) is None
    assert list_staff(call).json["count"] == 1


def test_an_expired_invitation_can_be_sent_again(call: Call):
    # Given an invitation that ran out
    assert invite(call, "late@example.com", "manager").status == 201
    clock.advance(timedelta(days=15))

    # When the owner invites the address again
    reply = invite(call, "late@example.com", "manager")

    # Then it is a new invitation
    assert reply.status == 201, reply.raw_body
    assert reply.json["status"] == "invited"


# ---- roles --------------------------------------------------------------------------------


def test_the_owner_changes_a_members_role(call: Call, demo: dict[str, Any]):
    # Given a staff member
    user_id, _ = person("stu@example.com", "Stu", "Staff")
    assert invite(call, "stu@example.com", "staff").status == 201

    # When the owner makes them a manager
    reply = change_role(call, user_id, "manager")

    # Then they are a manager from now on
    assert reply.status == 200, reply.raw_body
    assert (reply.json["status"], reply.json["user_id"], reply.json["role"]) == (
        "member",
        user_id,
        "manager",
    )
    assert staff_store.role_at(1, user_id) == VenueRole.MANAGER
    # And the change is audited with the role before and after
    entry = newest_entry()
    assert (entry.action, entry.target, entry.actor_user_id) == (
        "staff.role_changed",
        f"user:{user_id}",
        demo["owner"]["id"],
    )
    assert entry.before == {"user_id": user_id, "email": "stu@example.com", "role": "staff"}
    assert entry.after == {"user_id": user_id, "email": "stu@example.com", "role": "manager"}


def test_giving_a_member_the_role_they_have_changes_nothing(call: Call):
    # Given a staff member
    user_id, _ = person("stu@example.com")
    invite(call, "stu@example.com", "staff")

    # When the owner gives them the same role
    reply = change_role(call, user_id, "staff")

    # Then the answer is the member as they are, and nothing is recorded
    assert reply.status == 200
    assert reply.json["role"] == "staff"
    assert actions() == ["staff.added"]


def test_demoting_the_last_owner_is_a_conflict(call: Call, demo: dict[str, Any]):
    # Given the demo venue with its one owner
    owner_id = demo["owner"]["id"]

    # When the owner makes themselves a manager
    reply = change_role(call, owner_id, "manager")

    # Then it is a 409 that says why and what to do, and they stay owner
    assert reply.status == 409
    assert reply.json == {
        "type": "/errors/last-owner",
        "title": "Conflict",
        "status": 409,
        "detail": "The venue must always have an owner, and this is its last one: make someone "
        "else an owner before changing this role.",
        "instance": staff_path(user_id=owner_id),
    }
    assert owners() == ["owner@example.com"]
    assert actions() == []


def test_an_owner_steps_down_once_another_owner_exists(call: Call, demo: dict[str, Any]):
    # Given a second owner
    another_owner(call)

    # When the demo owner makes themselves a manager
    reply = change_role(call, demo["owner"]["id"], "manager")

    # Then they are a manager, and the other remains owner
    assert reply.status == 200, reply.raw_body
    assert owners() == ["second.owner@example.com"]


def test_a_role_change_needs_a_valid_role(call: Call, demo: dict[str, Any]):
    # When the owner sends a role that does not exist
    reply = change_role(call, demo["owner"]["id"], "janitor")

    # Then it is a field error
    assert reply.status == 400
    assert reply.json["role"] == ["Input should be 'staff', 'manager' or 'owner'"]


# ---- removal ------------------------------------------------------------------------------


def test_removing_the_last_owner_is_a_conflict(call: Call, demo: dict[str, Any]):
    # Given the demo venue with its one owner
    owner_id = demo["owner"]["id"]

    # When the owner removes themselves
    reply = remove(call, owner_id)

    # Then it is a 409, and they stay
    assert reply.status == 409
    assert reply.json == {
        "type": "/errors/last-owner",
        "title": "Conflict",
        "status": 409,
        "detail": "The venue must always have an owner, and this is its last one: make someone "
        "else an owner before removing this one.",
        "instance": staff_path(user_id=owner_id),
    }
    assert owners() == ["owner@example.com"]


def test_a_removed_member_is_refused_at_their_next_request(call: Call):
    # Given a second owner, who can list the staff
    second_id, second_token = another_owner(call)
    assert list_staff(call, token=second_token).status == 200

    # When the demo owner removes them
    reply = remove(call, second_id)

    # Then the removal answers 204, and their very next request is refused as staff of no venue
    assert (reply.status, reply.raw_body) == (204, "")
    refused = list_staff(call, token=second_token)
    assert refused.status == 403
    assert {k: refused.json[k] for k in FORBIDDEN} == FORBIDDEN


def test_a_removed_member_who_is_staff_elsewhere_gets_a_404(call: Call):
    # Given a second owner of the demo venue, who is also staff of the other venue
    second_id, second_token = another_owner(call)
    assert (
        invite(call, "second.owner@example.com", "staff", venue=2, token=ADMIN_TOKEN).status == 201
    )

    # When the demo owner removes them from the demo venue
    assert remove(call, second_id).status == 204

    # Then the demo venue's staff is not theirs to see any more: 404, as for any other venue
    refused = list_staff(call, token=second_token)
    assert refused.status == 404
    assert {k: refused.json[k] for k in NOT_FOUND} == NOT_FOUND


def test_a_removal_is_audited_with_what_the_member_was(call: Call, demo: dict[str, Any]):
    # Given a staff member
    user_id, _ = person("stu@example.com")
    invite(call, "stu@example.com", "staff")

    # When the owner removes them
    assert remove(call, user_id).status == 204

    # Then the entry records who they were, and nothing after
    entry = newest_entry()
    assert (entry.action, entry.target, entry.actor_user_id, entry.actor_role) == (
        "staff.removed",
        f"user:{user_id}",
        demo["owner"]["id"],
        "owner",
    )
    assert entry.before == {"user_id": user_id, "email": "stu@example.com", "role": "staff"}
    assert entry.after is None
    assert staff_store.role_at(1, user_id) is None


@pytest.mark.parametrize("user_id", [str(uuid.UUID(int=7)), "not-a-uuid"])
def test_changing_or_removing_someone_who_is_not_staff_is_a_404(call: Call, user_id: str):
    # When the owner changes or removes a user who is not a member (or no user at all)
    changed = change_role(call, user_id, "manager")
    removed = remove(call, user_id)

    # Then both are 404, as for anything that does not exist
    for reply in (changed, removed):
        assert reply.status == 404
        assert {k: reply.json[k] for k in NOT_FOUND} == NOT_FOUND


def test_staff_of_another_venue_cannot_be_removed_through_this_one(call: Call):
    # Given a member of the other venue only
    user_id, _ = person("nyc@example.com")
    invite(call, "nyc@example.com", "staff", venue=2, token=ADMIN_TOKEN)

    # When the demo owner removes them through the demo venue
    reply = remove(call, user_id)

    # Then it is a 404, and they stay staff there
    assert reply.status == 404
    assert staff_store.role_at(2, user_id) == VenueRole.STAFF


# ---- who may ------------------------------------------------------------------------------


def test_a_manager_may_not_manage_the_staff(call: Call):
    # Given a manager of the venue
    _, manager_token = person("manny@example.com")
    invite(call, "manny@example.com", "manager")

    # When they list the staff or invite someone
    listed = list_staff(call, token=manager_token)
    invited = invite(call, "friend@example.com", "owner", token=manager_token)

    # Then both are refused: staff is the owners' business
    assert (listed.status, invited.status) == (403, 403)
    assert actions() == ["staff.added"]


def test_the_demo_owner_sees_a_404_for_the_other_venues_staff(call: Call):
    # When the demo venue's owner lists the other venue's staff
    reply = list_staff(call, venue=2)

    # Then it is a 404, as for a venue that does not exist
    assert reply.status == 404


def test_a_platform_admin_manages_any_venues_staff(call: Call, demo: dict[str, Any]):
    # When the admin invites an owner to the other venue
    reply = invite(call, "nyc.owner@example.com", "owner", venue=2, token=ADMIN_TOKEN)

    # Then the invitation is stored, and audited as the admin's
    assert reply.status == 201, reply.raw_body
    entry = newest_entry(venue=2)
    assert (entry.action, entry.actor_user_id, entry.actor_role) == (
        "staff.invited",
        demo["admin"]["id"],
        "admin",
    )
    assert entry.after is not None
    assert entry.after["role"] == "owner"


# ---- at least one owner, under concurrency -------------------------------------------------


def at_the_same_moment(*requests: Any) -> list[Reply]:
    """Each request from its own thread, released together."""
    barrier = threading.Barrier(len(requests))

    def released(send: Any) -> Reply:
        barrier.wait()
        reply: Reply = send()
        return reply

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(released, requests))


@pytest.fixture
def both_read_before_either_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two changes of the staff sent from threads read the members, then wait for each other
    before writing: the race the roster's version must settle, made certain instead of left
    to timing."""
    barrier = threading.Barrier(2, timeout=10)
    waited: set[int] = set()
    read_members = staff_store.members

    def members_then_wait(venue_id: int) -> list[staff_store.Membership]:
        found = read_members(venue_id)
        racing = threading.current_thread() is not threading.main_thread()
        if racing and threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            barrier.wait()
        return found

    monkeypatch.setattr(staff_store, "members", members_then_wait)


@pytest.mark.usefixtures("both_read_before_either_writes")
def test_two_owners_removing_each_other_at_once_leave_one_owner(call: Call, demo: dict[str, Any]):
    # Given two owners, both about to remove the other, each having read two owners
    second_id, second_token = another_owner(call)

    # When each removes the other at the same moment
    replies = at_the_same_moment(
        lambda: remove(call, second_id),
        lambda: remove(call, demo["owner"]["id"], token=second_token),
    )

    # Then one removal wins, and the loser (no longer staff) is refused: one owner remains
    assert sorted(r.status for r in replies) == [204, 403], [r.raw_body for r in replies]
    assert len(owners()) == 1
    assert actions().count("staff.removed") == 1


@pytest.mark.usefixtures("both_read_before_either_writes")
def test_two_owners_demoting_each_other_at_once_leave_one_owner(call: Call, demo: dict[str, Any]):
    # Given two owners, both about to make the other a manager
    second_id, second_token = another_owner(call)

    # When each demotes the other at the same moment
    replies = at_the_same_moment(
        lambda: change_role(call, second_id, "manager"),
        lambda: change_role(call, demo["owner"]["id"], "manager", token=second_token),
    )

    # Then one wins; the other, a manager by then, may no longer: one owner remains
    assert sorted(r.status for r in replies) == [200, 403], [r.raw_body for r in replies]
    assert len(owners()) == 1
    assert actions().count("staff.role_changed") == 1


@pytest.mark.usefixtures("both_read_before_either_writes")
def test_an_admin_and_an_owner_removing_the_two_owners_at_once_leave_one(
    call: Call, demo: dict[str, Any]
):
    # Given two owners; the admin removes one while that one removes the other
    second_id, second_token = another_owner(call)

    # When both removals are sent at the same moment
    replies = at_the_same_moment(
        lambda: remove(call, second_id, token=ADMIN_TOKEN),
        lambda: remove(call, demo["owner"]["id"], token=second_token),
    )

    # Then one owner remains whichever wins: the second removal finds the last owner (409),
    # or its sender removed (403)
    statuses = sorted(r.status for r in replies)
    assert statuses in ([204, 403], [204, 409]), [r.raw_body for r in replies]
    assert len(owners()) == 1


def test_many_owners_removing_each_other_never_leave_none(call: Call, demo: dict[str, Any]):
    # Given four owners
    team = [(demo["owner"]["id"], OWNER_TOKEN)]
    team += [another_owner(call, f"owner{i}@example.com") for i in range(3)]

    # When each removes the next one, all at the same moment
    replies = at_the_same_moment(
        *(
            (lambda i=i: remove(call, team[(i + 1) % len(team)][0], token=team[i][1]))
            for i in range(len(team))
        )
    )

    # Then no answer is an error of ours, and at least one owner remains
    assert all(r.status in (204, 403, 409) for r in replies), [r.raw_body for r in replies]
    assert len(owners()) >= 1
    assert actions().count("staff.removed") == sum(r.status == 204 for r in replies)
