"""Every sample event in events/ is handled by its function against the demo data."""

from __future__ import annotations

import pytest

from tests.integration.conftest import EVENT_FUNCTIONS, Call


@pytest.mark.parametrize(
    ("name", "status", "field"),
    [
        ("obtain_token", 200, "token"),
        ("logout", 200, "detail"),
        ("logout_all", 200, "revoked"),
        ("list_clients", 200, "results"),
        ("create_client", 201, "token"),
        # The client samples of the admin name a client the demo data does not have.
        ("get_client", 404, "detail"),
        ("update_client", 404, "detail"),
        ("list_admin_client_tokens", 404, "detail"),
        ("create_admin_client_token", 404, "detail"),
        ("revoke_admin_client_token", 404, "detail"),
        ("list_client_tokens", 200, "results"),
        ("create_client_token", 201, "token"),
        # The sample names a token the demo partner app does not have.
        ("revoke_client_token", 404, "detail"),
        ("register", 202, "detail"),
        # The sample's token was never sent (tokens are made when their email is sent).
        ("confirm_email", 400, "token"),
        ("resend_confirmation", 202, "detail"),
        ("password_reset", 202, "detail"),
        ("password_reset_confirm", 400, "token"),
        ("change_password", 200, "detail"),
        ("list_venues", 200, "results"),
        ("get_venue", 200, "opening_hours"),
        ("create_venue", 201, "version"),
        ("update_venue", 200, "special_days"),
        # Fresh demo data: nothing has been changed at the demo venue through the API yet.
        ("get_venue_audit", 200, "results"),
        ("list_resources", 200, "results"),
        ("get_resource", 200, "booking_interval_minutes"),
        ("create_resource", 201, "weekly_windows"),
        ("update_resource", 200, "version"),
        ("list_resource_closures", 200, "results"),
        ("create_resource_closure", 201, "cancelled_bookings"),
        # The sample names a closure the demo data does not have.
        ("delete_resource_closure", 404, "detail"),
        ("list_venue_closures", 200, "results"),
        ("create_venue_closure", 201, "group_id"),
        ("get_availability", 200, "available_ranges"),
        ("get_availability_by_path", 200, "booked_slots"),
        ("create_booking", 201, "reference_code"),
        ("list_bookings", 200, "results"),
        ("get_booking", 200, "reference_code"),
        ("cancel_booking", 200, "cancelled_at"),
        ("list_venue_bookings", 200, "results"),
        ("create_venue_booking", 201, "customer_name"),
        ("cancel_venue_booking", 200, "cancellation_reason"),
        # The demo booking is still to come: it cannot be a no-show yet.
        ("mark_no_show", 400, "non_field_errors"),
        ("create_payment_intent", 200, "client_secret"),
        ("pay_booking", 200, "links"),
        ("stripe_webhook", 200, "received"),
        ("register_client_user", 201, "mapping_created"),
        # The sample names the user the register sample creates; on fresh demo data: unknown.
        ("lookup_client_user", 404, "detail"),
        ("list_client_user_mappings", 200, "results"),
        ("register_client_resource", 201, "resource_name"),
        ("lookup_client_resource", 200, "external_data"),
        ("register_client_venue", 201, "venue_name"),
        ("lookup_client_venue", 200, "external_data"),
        ("list_venue_resources", 200, "resources"),
        ("list_commission_statements", 200, "results"),
        # Fresh demo data has no statement, and last month was never aggregated.
        ("get_commission_statement", 404, "detail"),
        ("export_commission_statements", 404, "detail"),
        # The sample names a client the demo data does not have.
        ("mark_statement_paid", 404, "detail"),
        ("list_venue_staff", 200, "results"),
        ("invite_venue_staff", 201, "expires_at"),
        # The samples name a user who is not staff of the demo venue.
        ("change_venue_staff_role", 404, "detail"),
        ("remove_venue_staff", 404, "detail"),
        # An admin connects the demo's second venue, which has no Stripe account yet (the
        # first keeps taking payments through the platform's account for the other samples).
        ("start_stripe_onboarding", 201, "url"),
        ("export_account", 200, "bookings"),
        # The sample is the demo venue's owner: their account and that venue.
        ("get_account", 200, "staff"),
        # The sample is the demo venue's owner, its last owner: refused, nothing deleted.
        ("delete_account", 409, "detail"),
        # The reference page's OpenAPI document (the page itself, HTML: test_api_docs.py).
        ("get_api_docs_file", 200, "paths"),
    ],
)
@pytest.mark.usefixtures("payments_env")
def test_sample_event_is_answered_by_its_function(call: Call, name: str, status: int, field: str):
    # Given the demo data and the sample event as it is in events/
    # When its function handles it
    reply = call(name)
    # Then the answer has the documented status and carries the field clients read
    assert reply.status == status, reply.raw_body
    assert field in reply.json


def test_every_sample_event_is_covered_and_names_a_known_function():
    # Given the events folder
    from local.template import REPO_ROOT, load_template

    names = {path.stem for path in (REPO_ROOT / "events").glob("*.json")}
    functions = set(load_template().functions)
    # Then every event is mapped to a function of the template, and every function has an event
    assert names == set(EVENT_FUNCTIONS)
    assert set(EVENT_FUNCTIONS.values()) == functions


@pytest.mark.usefixtures("payments_env")
def test_the_outbox_sample_events_run_the_outbox(invoke, load_event):
    # Given the schedule's and the stream's sample events (the stream's names no real task)
    for name in ("process_outbox_schedule", "process_outbox_stream"):
        # When the outbox function handles each
        summary = invoke("OutboxFunction", load_event(name))
        # Then it reports what it did: nothing was pending
        assert summary["done"] == 0
        assert set(summary) == {"done", "retrying", "given_up", "skipped"}


def test_the_aggregation_sample_events_aggregate_last_month(invoke, load_event):
    # Given the schedule's sample event (due this month) and the by-hand one (last month)
    for name in ("aggregate_commissions_schedule", "aggregate_commissions_by_hand"):
        # When the aggregation function handles each
        summary = invoke("AggregateCommissionsFunction", load_event(name))
        # Then both aggregated last month, which had no commission lines in the demo data
        assert summary["lines"] == 0
        assert summary["statements_created"] == []


def test_the_hold_sweep_sample_event_runs_the_sweep(invoke, load_event):
    # Given the schedule's sample event, and no pending booking in the demo data
    # When the hold sweep handles it
    summary = invoke("ExpireHoldsFunction", load_event("expire_holds_schedule"))
    # Then it reports that no hold had run out
    assert summary == {"expired": []}
