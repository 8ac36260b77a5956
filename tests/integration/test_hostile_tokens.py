"""A hostile review of the token model, logout, partner-app administration and client token
rotation: each test is an attack. The first section guards the defects the review found,
as fixed; the others, attacks that held from the start."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import PrincipalKind
from booking_core.errors import Unauthenticated
from booking_core.services import accounts, tokens
from booking_core.settings import get_settings
from booking_core.store import table
from booking_core.store import tokens as token_store
from booking_core.store.timestamps import epoch_seconds
from tests.integration.conftest import Call

INVALID = "Invalid token."
IDLE = timedelta(days=90)


# ---- helpers ------------------------------------------------------------------------------


def login(call: Call, user: dict[str, Any]) -> str:
    reply = call("obtain_token", body={"username": user["email"], "password": user["password"]})
    assert reply.status == 200, reply.raw_body
    token: str = reply.json["token"]
    return token


def works(call: Call, token: str) -> bool:
    reply = call("list_bookings", token=token, query=None)
    assert reply.status in (200, 401), reply.raw_body
    return reply.status == 200


def client_works(call: Call, token: str) -> bool:
    reply = call("list_client_user_mappings", token=token)
    assert reply.status in (200, 401), reply.raw_body
    return reply.status == 200


def put_legacy_token(token: str, user_id: str, *, client_id: str | None = None) -> None:
    """A token item as the code before this issue stored it: hash, kind and owner only."""
    item: dict[str, Any] = {
        "pk": f"TOKEN#{tokens.token_hash(token)}",
        "sk": "TOKEN",
        "token_hash": tokens.token_hash(token),
        "kind": (PrincipalKind.CLIENT if client_id else PrincipalKind.USER).value,
        "user_id": user_id,
    }
    if client_id:
        item["client_id"] = client_id
    table.put_item(item)


def ttl_sweep() -> int:
    """What DynamoDB's TTL does, some time after an item's `expires_at`: delete it."""
    now = epoch_seconds(clock.now())
    client = table.client()
    deleted = 0
    kwargs: dict[str, Any] = {"TableName": table.table_name()}
    while True:
        page = client.scan(**kwargs)
        for raw in page.get("Items", []):
            item = table.from_dynamo(raw)
            expires = item.get("expires_at")
            if expires is not None and int(expires) <= now:
                client.delete_item(
                    TableName=table.table_name(),
                    Key=table.to_dynamo({"pk": item["pk"], "sk": item["sk"]}),
                )
                deleted += 1
        if "LastEvaluatedKey" not in page:
            return deleted
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def person(demo: dict[str, Any]) -> dict[str, Any]:
    user: dict[str, Any] = demo["users"][0]
    return user


@pytest.fixture
def partner(demo: dict[str, Any]) -> dict[str, Any]:
    client: dict[str, Any] = demo["clients"][0]
    return client


@pytest.fixture
def admin(demo: dict[str, Any]) -> str:
    token: str = demo["admin"]["token"]
    return token


def throttled_token_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every transaction that writes a token item (adopting it, recording its use) is
    refused as DynamoDB refuses one under throttling."""
    real = table.transact

    def refusing(operations: list[dict[str, Any]]) -> None:
        for operation in operations:
            for kind, spec in operation.items():
                if kind == "Update" and str(spec["Key"]["pk"]["S"]).startswith("TOKEN#"):
                    raise table.TransactionCancelled(["ThrottlingError"] * len(operations))
        real(operations)

    monkeypatch.setattr(table, "transact", refusing)


def reference_of(token: str) -> dict[str, Any] | None:
    stored = token_store.find(tokens.token_hash(token), consistent=True)
    if stored is None or stored.token_id is None:
        return None
    return table.get_item(stored.owner_pk, f"TOKEN#{stored.token_id}", consistent=True)


# ---- regressions: the defects the review found, fixed -------------------------------------


def test_logout_everywhere_revokes_a_token_from_before_tokens_had_ids_once_the_backfill_ran(
    call: Call, person: dict[str, Any]
):
    # Given a token stored by the previous code (say, a thief's, from before the deploy),
    # not used since the deploy, and the deploy's backfill run
    stolen = "legacy-stolen-token-00000000000000000000"
    user_id = accounts.principal_for_token(person["token"]).user_id
    put_legacy_token(stolen, user_id)
    assert token_store.backfill(clock.now(), idle=IDLE) == 1
    # When the person logs out everywhere (or resets the password, or deletes the account:
    # all go through revoke_all)
    reply = call("logout_all", token=person["token"])
    assert reply.status == 200
    # Then the stolen token no longer works
    assert not works(call, stolen)


def test_the_backfill_gives_each_legacy_token_an_id_and_its_owners_reference(
    call: Call, person: dict[str, Any], partner: dict[str, Any]
):
    # Given a person's and a partner app's tokens from before tokens had ids
    user_id = accounts.principal_for_token(person["token"]).user_id
    client = accounts.principal_for_token(partner["token"]).client
    assert client is not None
    put_legacy_token("legacy-person-token-00000000000000000000", user_id)
    put_legacy_token(
        "legacy-client-token-00000000000000000000", client.service_user_id, client_id=client.id
    )
    # When the backfill runs
    adopted = token_store.backfill(clock.now(), idle=IDLE)
    # Then both have an id and are listed under their owner, with an expiry for the TTL
    assert adopted == 2
    for token in ("legacy-person-token-00000000000000000000",
                  "legacy-client-token-00000000000000000000"):  # fmt: skip
        reference = reference_of(token)
        assert reference is not None
        assert reference["token_hash"] == tokens.token_hash(token)
        assert int(reference["expires_at"]) > epoch_seconds(clock.now() + IDLE)
    assert not list(token_store.legacy_tokens())


def test_the_deploy_script_runs_the_backfill(
    call: Call, person: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    # Given a legacy token
    token = "legacy-script-token-00000000000000000000"
    put_legacy_token(token, accounts.principal_for_token(person["token"]).user_id)
    script = Path(__file__).resolve().parents[2] / "scripts" / "adopt-legacy-tokens.py"
    spec = importlib.util.spec_from_file_location("adopt_legacy_tokens", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # When the script run at deploy runs
    assert module.main() == 0
    # Then it adopted the token, and said so
    assert reference_of(token) is not None
    assert capsys.readouterr().out == "1 legacy token(s) adopted\n"


def test_running_the_backfill_again_adopts_nothing_more(call: Call, person: dict[str, Any]):
    # Given a legacy token, adopted by a first run of the backfill
    token = "legacy-twice-token-000000000000000000000"
    put_legacy_token(token, accounts.principal_for_token(person["token"]).user_id)
    token_store.backfill(clock.now(), idle=IDLE)
    first = reference_of(token)
    # When it runs again
    adopted = token_store.backfill(clock.now(), idle=IDLE)
    # Then nothing changed
    assert adopted == 0
    assert reference_of(token) == first


def test_the_backfill_keeps_a_legacy_tokens_creation_as_its_last_use(
    call: Call, person: dict[str, Any]
):
    # Given a legacy token created 80 days ago and never marked used
    token = "legacy-dated-token-000000000000000000000"
    put_legacy_token(token, accounts.principal_for_token(person["token"]).user_id)
    created = clock.now() - timedelta(days=80)
    table.client().update_item(
        TableName=table.table_name(),
        Key=table.to_dynamo({"pk": f"TOKEN#{tokens.token_hash(token)}", "sk": "TOKEN"}),
        UpdateExpression="SET created_at = :created",
        ExpressionAttributeValues=table.to_dynamo({":created": created.isoformat()}),
    )
    # When the backfill adopts it (which is not a use)
    token_store.backfill(clock.now(), idle=IDLE)
    # Then it still goes idle 90 days after its creation
    stored = token_store.find(tokens.token_hash(token))
    assert stored is not None
    assert stored.last_used_at == created
    clock.advance(timedelta(days=10))
    assert not works(call, token)


def test_a_legacy_token_without_a_recorded_use_is_idle_from_its_creation(
    call: Call, person: dict[str, Any]
):
    # Given a legacy token created 90 days ago, never marked used, and not backfilled
    token = "legacy-idle-token-0000000000000000000000"
    put_legacy_token(token, accounts.principal_for_token(person["token"]).user_id)
    table.client().update_item(
        TableName=table.table_name(),
        Key=table.to_dynamo({"pk": f"TOKEN#{tokens.token_hash(token)}", "sk": "TOKEN"}),
        UpdateExpression="SET created_at = :created",
        ExpressionAttributeValues=table.to_dynamo({":created": (clock.now() - IDLE).isoformat()}),
    )
    # When it is used
    reply = call("list_bookings", token=token, query=None)
    # Then it has expired
    assert reply.status == 401
    assert reply.json["detail"] == INVALID


def test_the_first_use_of_a_legacy_token_writes_its_id_and_reference_together(
    call: Call, person: dict[str, Any]
):
    # Given a legacy token
    token = "legacy-first-use-token-00000000000000000"
    put_legacy_token(token, accounts.principal_for_token(person["token"]).user_id)
    # When it is used
    assert works(call, token)
    # Then its owner's list has it, with the id its item carries
    reference = reference_of(token)
    assert reference is not None
    stored = token_store.find(tokens.token_hash(token))
    assert stored is not None
    assert reference["token_id"] == stored.token_id


def test_a_logout_racing_the_first_use_of_a_legacy_token_really_logs_it_out(
    call: Call, person: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # Given a token from before tokens had ids, used by two requests at once after the deploy:
    # a logout runs just before the first request's adoption transaction is written
    legacy = "legacy-racing-token-00000000000000000000"
    user_id = accounts.principal_for_token(person["token"]).user_id
    put_legacy_token(legacy, user_id)
    real_adopt = token_store.adopt
    logouts: list[str] = []

    def racing(token: Any, *, idle: timedelta) -> bool:
        if not logouts:
            # Marked first: the logout's own use of the token adopts it too, through here.
            logouts.append("done")
            tokens.logout(accounts.principal_for_token(legacy))  # itself adopts it
        return real_adopt(token, idle=idle)

    monkeypatch.setattr(token_store, "adopt", racing)
    # When both have run (the first request began before the logout, so it is served)
    call("list_bookings", token=legacy, query=None)
    assert logouts == ["done"]
    monkeypatch.undo()
    # Then the token that was "Logged out." does not work any more, and is listed nowhere
    assert not works(call, legacy)
    owned = token_store.owned(f"TOKENS#USER#{user_id}")
    assert all(t.token_hash != tokens.token_hash(legacy) for t in owned)


def test_a_logout_that_read_a_legacy_token_before_its_adoption_still_revokes_it(
    call: Call, person: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # Given a legacy token, whose first use gives it an id and reference just after a logout
    # has read it (without an id)
    legacy = "legacy-adopted-meanwhile-00000000000000"
    user_id = accounts.principal_for_token(person["token"]).user_id
    put_legacy_token(legacy, user_id)
    throttled_token_writes(monkeypatch)
    principal = accounts.principal_for_token(legacy)  # adoption refused: still without id
    monkeypatch.undo()
    real_delete = token_store.delete_exact
    adopted: list[str] = []

    def racing(token: Any) -> bool:
        if not adopted:
            accounts.principal_for_token(legacy)  # the concurrent first use adopts it
            adopted.append("done")
        return real_delete(token)

    monkeypatch.setattr(token_store, "delete_exact", racing)
    # When the logout deletes it
    tokens.logout(principal)
    monkeypatch.undo()
    # Then neither the token nor its new reference is left
    assert adopted == ["done"]
    assert not works(call, legacy)
    owned = token_store.owned(f"TOKENS#USER#{user_id}")
    assert all(t.token_hash != tokens.token_hash(legacy) for t in owned)


def test_a_logout_revokes_a_legacy_token_whose_adoption_failed(
    call: Call, person: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # Given a legacy token whose adoption was refused (throttled): no id, no reference
    legacy = "legacy-half-adopted-0000000000000000000"
    user_id = accounts.principal_for_token(person["token"]).user_id
    put_legacy_token(legacy, user_id)
    throttled_token_writes(monkeypatch)
    assert works(call, legacy)  # the request goes on; "Token use not recorded"
    assert reference_of(legacy) is None
    # When the person logs out with it (its adoption refused again)
    reply = call("logout", token=legacy)
    monkeypatch.undo()
    # Then the logout revoked it by its hash
    assert reply.status == 200
    assert not works(call, legacy)


def test_a_logout_whose_write_fails_answers_503_and_claims_nothing(
    call: Call, person: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # Given a token, and the table refusing the logout's transaction
    token = login(call, person)
    real = table.transact

    def refusing(operations: list[dict[str, Any]]) -> None:
        if any("Delete" in operation for operation in operations):
            raise table.TransactionCancelled(["ThrottlingError"] * len(operations))
        real(operations)

    monkeypatch.setattr(table, "transact", refusing)
    # When the person logs out
    reply = call("logout", token=token)
    monkeypatch.undo()
    # Then the answer says it failed, and (truthfully) the token still works
    assert reply.status == 503
    assert works(call, token)


def test_a_logout_of_a_token_revoked_meanwhile_answers_401(call: Call, person: dict[str, Any]):
    # Given a person's principal, whose token another request revokes before the logout
    token = login(call, person)
    principal = accounts.principal_for_token(token)
    assert call("logout_all", token=person["token"]).status == 200
    # When the logout runs, Then it claims nothing: the token is invalid
    with pytest.raises(Unauthenticated):
        tokens.logout(principal)


def test_a_reference_ttl_never_outruns_its_live_token(call: Call, person: dict[str, Any]):
    # Given a token used on day 89, and not used again for 10 days
    token = login(call, person)
    clock.advance(IDLE - timedelta(days=1))
    assert works(call, token)
    clock.advance(timedelta(days=10))
    # When DynamoDB's TTL deletes what has expired, and the person logs out everywhere
    ttl_sweep()
    fresh = login(call, person)
    assert call("logout_all", token=fresh).status == 200
    # Then the token (idle 10 days only, so alive) was revoked with the others
    assert not works(call, token)


def test_a_refused_use_record_moves_neither_the_token_nor_its_reference(
    call: Call, person: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # Given a token used on day 89, when the table refuses (throttles) the record of its use
    token = login(call, person)
    clock.advance(IDLE - timedelta(days=1))
    throttled_token_writes(monkeypatch)
    assert works(call, token)  # the request goes on; "Token use not recorded"
    monkeypatch.undo()
    # Then the reference still expires a week after the token item does
    item = table.get_item(f"TOKEN#{tokens.token_hash(token)}", "TOKEN", consistent=True)
    reference = reference_of(token)
    assert item is not None
    assert reference is not None
    assert int(reference["expires_at"]) - int(item["expires_at"]) == 7 * 24 * 3600


def test_a_deactivated_clients_token_is_not_marked_used(
    call: Call, admin: str, partner: dict[str, Any]
):
    # Given a partner app deactivated two hours after its token was last marked used
    principal = accounts.principal_for_token(partner["token"])
    assert principal.client is not None
    before = token_store.find(tokens.token_hash(partner["token"]), consistent=True)
    assert before is not None
    clock.advance(timedelta(hours=2))
    reply = call(
        "update_client",
        token=admin,
        path={"client_id": principal.client.id},
        body={"is_active": False},
    )
    assert reply.status == 200
    # When its token is used
    assert not client_works(call, partner["token"])
    # Then its last use is the one before
    after = token_store.find(tokens.token_hash(partner["token"]), consistent=True)
    assert after is not None
    assert after.last_used_at == before.last_used_at


def test_the_ten_token_cap_holds_under_two_concurrent_creations(
    call: Call, partner: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # Given a partner app with 9 working tokens
    for _ in range(8):
        clock.advance(timedelta(seconds=1))
        assert call("create_client_token", token=partner["token"]).status == 201
    client = accounts.principal_for_token(partner["token"]).client
    assert client is not None
    assert len(tokens.client_tokens(client, clock.now())) == 9
    # When two creations run at once (both count 9 before either writes)
    real_store = tokens.store_token
    raced: list[int] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        if not raced:
            raced.append(1)
            tokens.create_client_token(client, clock.now())
        return real_store(*args, **kwargs)

    monkeypatch.setattr(tokens, "store_token", racing)
    reply = call("create_client_token", token=partner["token"])
    monkeypatch.undo()
    # Then 10 tokens work, and the second creation got 409
    assert raced == [1]
    assert len(tokens.client_tokens(client, clock.now())) == tokens.MAX_CLIENT_TOKENS
    assert reply.status == 409, reply.raw_body


def test_the_token_answer_of_a_login_is_not_cached(call: Call, person: dict[str, Any]):
    # Given a login, whose body is a token (as the client and token creations are)
    reply = call("obtain_token", body={"username": person["email"], "password": person["password"]})
    # Then no cache may keep it
    assert reply.status == 200
    assert reply.headers.get("Cache-Control") == "no-store"


def test_every_answer_that_carries_a_token_is_not_cached(
    call: Call, admin: str, partner: dict[str, Any]
):
    # Given the other answers with a token: a new client, and a new token (by itself, by admin)
    body = {"name": "Cached", "contact_email": "c@app.example", "commission_percent": "5"}
    created = call("create_client", token=admin, body=body)
    path = {"client_id": created.json["id"]}
    answers = [
        created,
        call("create_client_token", token=partner["token"]),
        call("create_admin_client_token", token=admin, path=path),
    ]
    # Then no cache may keep any of them
    assert [reply.status for reply in answers] == [201, 201, 201]
    assert all(reply.headers.get("Cache-Control") == "no-store" for reply in answers)


@pytest.mark.parametrize("value", ["no", "0", "false", 0, 1, None, [], {}])
def test_odd_is_active_values_are_refused_on_a_change(
    call: Call, admin: str, partner: dict[str, Any], value: Any
):
    client_id = accounts.principal_for_token(partner["token"]).client.id  # type: ignore[union-attr]
    reply = call(
        "update_client", token=admin, path={"client_id": client_id}, body={"is_active": value}
    )
    assert reply.status == 400, reply.raw_body
    assert client_works(call, partner["token"])


# ---- attacks that held --------------------------------------------------------------------


def test_two_revocations_at_once_never_leave_a_client_without_a_token(
    call: Call, partner: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # Given a partner app with two tokens, A (the demo one) and B
    clock.advance(timedelta(minutes=1))
    created = call("create_client_token", token=partner["token"])
    assert created.status == 201
    client = accounts.principal_for_token(partner["token"]).client
    assert client is not None
    first, second = tokens.client_tokens(client, clock.now())
    # When the app revokes A and, at the same moment, B
    real = token_store.delete_unless_last
    outcomes: list[str] = []

    def racing(token: Any, other: Any) -> bool:
        if not outcomes:
            outcomes.append("inner")
            tokens.revoke_client_token(client, str(second.token_id), clock.now(), by_admin=False)
        return real(token, other)

    monkeypatch.setattr(token_store, "delete_unless_last", racing)
    from booking_core.errors import Conflict

    with pytest.raises(Conflict):
        tokens.revoke_client_token(client, str(first.token_id), clock.now(), by_admin=False)
    monkeypatch.undo()
    # Then one of them still works
    assert len(tokens.client_tokens(client, clock.now())) == 1
    assert client_works(call, partner["token"])


def test_the_hourly_use_record_does_not_resurrect_a_token_revoked_meanwhile(
    call: Call, person: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # Given a token read by a request an hour after its last recorded use, then revoked by a
    # logout before that request records the use
    token = login(call, person)
    clock.advance(timedelta(hours=2))
    real_touch = token_store.touch

    def racing(record: Any, now: Any, *, idle: Any) -> bool:
        token_store.delete(record)
        return real_touch(record, now, idle=idle)

    monkeypatch.setattr(token_store, "touch", racing)
    call("get_venue", token=token)
    monkeypatch.undo()
    # Then neither of its items is back
    hashed = tokens.token_hash(token)
    assert token_store.find(hashed) is None
    owner = accounts.principal_for_token(person["token"]).user_id
    assert all(t.token_hash != hashed for t in token_store.owned(f"TOKENS#USER#{owner}"))
    assert not works(call, token)


@pytest.mark.parametrize(
    ("after", "working"),
    [(IDLE - timedelta(microseconds=1), True), (IDLE, False)],
)
def test_idle_expiry_at_the_boundary(
    call: Call, person: dict[str, Any], after: timedelta, working: bool
):
    clock.freeze()  # to the microsecond: no wall-clock time passes between the requests
    token = login(call, person)
    clock.advance(after)
    assert works(call, token) is working


def test_the_clock_moving_back_does_not_extend_a_token(call: Call, person: dict[str, Any]):
    # Given a token used, then the clock set back a day (another host), and used there
    token = login(call, person)
    start = clock.now()
    clock.travel(start - timedelta(days=1))
    assert works(call, token)
    # When the clock reaches 90 days after the real last use
    clock.travel(start + IDLE)
    # Then it has expired: the earlier clock did not record a later use
    assert not works(call, token)


def test_a_reactivated_client_does_not_get_a_revoked_token_back(
    call: Call, admin: str, partner: dict[str, Any]
):
    clock.advance(timedelta(minutes=1))
    spare = call("create_client_token", token=partner["token"]).json
    client_id = accounts.principal_for_token(partner["token"]).client.id  # type: ignore[union-attr]
    assert call("update_client", token=admin, path={"client_id": client_id},
                body={"is_active": False}).status == 200  # fmt: skip
    revoked = call(
        "revoke_admin_client_token",
        token=admin,
        path={"client_id": client_id, "token_id": spare["token_id"]},
    )
    assert revoked.status == 204
    assert call("update_client", token=admin, path={"client_id": client_id},
                body={"is_active": True}).status == 200  # fmt: skip
    assert client_works(call, partner["token"])
    assert not client_works(call, spare["token"])


@pytest.mark.parametrize(
    "percent",
    ["1e2", "100.001", "100.01", "-1", "-0", "+5", " 10", "10 ", "NaN", "Infinity", "１０",
     "10.", ".5", "0x10", "1_0", 10, 10.5, True, None, [], {}],
)  # fmt: skip
def test_odd_percents_are_refused_on_a_change(
    call: Call, admin: str, partner: dict[str, Any], percent: Any
):
    client_id = accounts.principal_for_token(partner["token"]).client.id  # type: ignore[union-attr]
    before = call("get_client", token=admin, path={"client_id": client_id}).json
    reply = call(
        "update_client",
        token=admin,
        path={"client_id": client_id},
        body={"commission_percent": percent},
    )
    assert reply.status == 400, reply.raw_body
    after = call("get_client", token=admin, path={"client_id": client_id}).json
    assert after == before


@pytest.mark.parametrize("limit", [0, -1, 100_001, 10**30, 1.5, "600x", True, [], {}])
def test_odd_rate_limits_are_refused_on_a_change(
    call: Call, admin: str, partner: dict[str, Any], limit: Any
):
    client_id = accounts.principal_for_token(partner["token"]).client.id  # type: ignore[union-attr]
    reply = call(
        "update_client",
        token=admin,
        path={"client_id": client_id},
        body={"rate_limit_requests": limit},
    )
    assert reply.status == 400, reply.raw_body


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "n" * 201), ("contact_email", "a" * 250 + "@b.example"), ("name", "x" * 100_000)],
)
def test_huge_client_fields_are_refused(call: Call, admin: str, field: str, value: str):
    body = {"name": "Huge", "contact_email": "huge@app.example", "commission_percent": "5"}
    reply = call("create_client", token=admin, body={**body, field: value})
    assert reply.status == 400


@pytest.mark.parametrize("page_size", ["101", "1000000000", "-1", "0"])
def test_huge_token_page_sizes_are_refused(call: Call, partner: dict[str, Any], page_size: str):
    reply = call("list_client_tokens", token=partner["token"], query={"page_size": page_size})
    assert reply.status in (400, 404)


def test_a_client_cannot_revoke_a_token_of_another_client_even_with_its_id(
    call: Call, demo: dict[str, Any]
):
    partner, rival = demo["clients"][0], demo["clients"][1]
    rival_id = accounts.principal_for_token(rival["token"]).token_id
    reply = call("revoke_client_token", token=partner["token"], path={"token_id": str(rival_id)})
    assert reply.status == 404
    assert client_works(call, rival["token"])


def test_a_deleted_accounts_token_answers_401(call: Call, person: dict[str, Any]):
    token = login(call, person)
    assert call("delete_account", token=person["token"]).status in (200, 202, 204)
    reply = call("list_bookings", token=token, query=None)
    assert reply.status == 401


def test_the_idle_setting_is_read_where_it_is_used(call: Call) -> None:
    # (a sanity check on the tests above: the default idle limit is 90 days)
    assert get_settings().token_idle_days == 90


# ---- the client read with each request -----------------------------------------------------


def test_the_client_read_with_its_token_is_strongly_consistent(call: Call, partner: dict[str, Any]):
    # The client item is read with each request (percent, rate limit, is_active). PATCH's
    # docstring promises "from the next request"; an eventually consistent read lets a
    # booking made just after a percent change copy the old percent, and a just-deactivated
    # client's token through (DynamoDB Local never shows the lag, hence this check).
    reads: list[dict[str, Any]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        key = str(params.get("Key", {}).get("pk", {}).get("S", ""))
        if model.name == "GetItem" and key.startswith("CLIENT#"):
            reads.append(params)

    events = table.client().meta.events
    events.register("before-parameter-build.dynamodb", record)
    try:
        assert client_works(call, partner["token"])
    finally:
        events.unregister("before-parameter-build.dynamodb", record)
    assert reads
    assert all(read.get("ConsistentRead") for read in reads)
