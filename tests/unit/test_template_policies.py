"""Least privilege in template.yaml: each function's DynamoDB actions and secrets, as written.

tests/integration/test_function_permissions.py checks the other way round: that what the
functions call is allowed here.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from local.template import load_yaml

TABLES = ("BookingTable", "RateLimitTable", "IdempotencyTable")
# Functions allowed to Scan a table, and why. None: every read goes by key or index.
SCANNING: dict[str, str] = {}
# What a public login may do: read the user, write its token's hash, count the request.
LOGIN = "ObtainTokenFunction"
# Functions behind the API that read no token and count no request: Stripe's webhook (signed
# by Stripe) and the API reference page's (the same fixed files for everyone).
UNCOUNTED = {"StripeWebhookFunction", "ApiDocsFunction", "BookingPageFunction"}
# Secret variables the functions once had as plain values; now only their names are given.
SECRET_VALUE_VARIABLES = {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "MAILGUN_API_KEY"}
SECRET_ARN = re.compile(
    r"^arn:\$\{AWS::Partition\}:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}"
    r":secret:\$\{(?P<parameter>\w+)\}-\?\?\?\?\?\?$"
)
# The checks that may be skipped, each for a reason written beside the skip.
SKIPPABLE_CHECKS = {
    "CKV_AWS_115",  # reserved concurrency
    "CKV_AWS_116",  # a dead-letter queue for functions API Gateway calls synchronously
    "CKV_AWS_117",  # a VPC
    "CKV_AWS_173",  # a customer managed key for environment variables
    "CKV_AWS_119",  # a customer managed key for DynamoDB
    "CKV_AWS_28",  # point-in-time recovery of tables whose items live minutes or hours
    "CKV_AWS_27",  # SQS encryption (SSE-SQS is not recognised)
    "CKV_AWS_120",  # API caching
    "CKV_AWS_76",  # API access logs
}


@cache
def template() -> dict[str, Any]:
    """template.yaml, read once: the tests only read it."""
    document: dict[str, Any] = load_yaml()
    return document


def resources() -> dict[str, Any]:
    found: dict[str, Any] = template()["Resources"]
    return found


def functions() -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in resources().items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(properties: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline statements of a function's Policies."""
    return [
        statement
        for policy in properties.get("Policies", [])
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
    ]


def table_resource(resource: Any) -> tuple[str, bool]:
    """(table logical id, whether it is the table's indexes) of `!GetAtt T.Arn` or
    `!Sub "${T.Arn}/index/*"`."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        name, attribute = resource["Fn::GetAtt"]
        assert attribute == "Arn", resource
        return str(name), False
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        match = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/\*", str(resource["Fn::Sub"]))
        assert match, resource
        return match.group(1), True
    raise AssertionError(f"not a table: {resource!r}")


@cache
def sam_policy_templates() -> dict[str, Any]:
    """SAM's own policy templates (DynamoDBCrudPolicy, ...), as the translator expands them."""
    spec = importlib.util.find_spec("samtranslator")
    assert spec is not None
    assert spec.origin is not None
    path = Path(spec.origin).parent / "policy_templates_data" / "policy_templates.json"
    templates: dict[str, Any] = json.loads(path.read_text())["Templates"]
    return templates


def template_grants(policy: dict[str, Any]) -> set[tuple[str, str, bool]]:
    """What a SAM DynamoDB policy template (`- DynamoDBCrudPolicy: {TableName: !Ref T}`) grants."""
    grants: set[tuple[str, str, bool]] = set()
    for name, arguments in policy.items():
        if not name.startswith("DynamoDB"):
            continue
        table = str(arguments["TableName"]["Ref"])
        for statement in sam_policy_templates()[name]["Definition"]["Statement"]:
            for resource in as_list(statement["Resource"]):
                on_indexes = "/index/" in json.dumps(resource)
                grants |= {
                    (action.removeprefix("dynamodb:"), table, on_indexes)
                    for action in as_list(statement["Action"])
                }
    return grants


# The one write authenticating makes: marking the caller's token used, on token items only.
TOKEN_USE = {
    "Sid": "TokenLastUsed",
    "Effect": "Allow",
    "Action": "dynamodb:UpdateItem",
    "Resource": {"Fn::GetAtt": ["BookingTable", "Arn"]},
    "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TOKEN*"]}},
}


def is_token_use(statement: dict[str, Any]) -> bool:
    return statement.get("Sid") == TOKEN_USE["Sid"]


def dynamodb_grants(
    properties: dict[str, Any], *, token_use: bool = True
) -> set[tuple[str, str, bool]]:
    """(action, table, on its indexes) for every DynamoDB action the function may take;
    `token_use=False` leaves out marking a token used (allowed on token items only)."""
    grants: set[tuple[str, str, bool]] = set()
    for policy in properties.get("Policies", []):
        if isinstance(policy, dict) and "Statement" not in policy:
            grants |= template_grants(policy)
    for statement in statements(properties):
        if not token_use and is_token_use(statement):
            continue
        actions = [a for a in as_list(statement["Action"]) if a.startswith("dynamodb:")]
        if not actions:
            continue
        assert statement["Effect"] == "Allow"
        for resource in as_list(statement["Resource"]):
            table, on_indexes = table_resource(resource)
            grants |= {(action.removeprefix("dynamodb:"), table, on_indexes) for action in actions}
    return grants


def table_actions(properties: dict[str, Any], table: str, *, token_use: bool = True) -> set[str]:
    return {
        action
        for action, name, _ in dynamodb_grants(properties, token_use=token_use)
        if name == table
    }


def routes_methods(properties: dict[str, Any]) -> set[str]:
    return {
        str(event["Properties"]["Method"]).upper()
        for event in (properties.get("Events") or {}).values()
        if event["Type"] == "Api"
    }


# ---- DynamoDB ----------------------------------------------------------------------------


def test_no_function_has_a_sam_policy_template_for_dynamodb():
    # Given every function's policies
    for name, properties in functions().items():
        # Then none is DynamoDBCrudPolicy, -ReadPolicy or -WritePolicy: their actions are wider
        # than any one function needs (Scan, BatchWriteItem, DeleteItem, ...)
        templates = {
            key
            for policy in properties.get("Policies", [])
            if isinstance(policy, dict)
            for key in policy
            if key.startswith("DynamoDB")
        }
        assert not templates, (name, templates)


def test_the_public_login_reads_users_and_writes_tokens_and_nothing_else():
    # Given the token login's policy
    login = functions()[LOGIN]

    # Then it reads and puts on the table, checking that the account is still active as it
    # stores the token (besides marking a token used and counting failed logins), and counts
    # its request
    counting = [s for s in statements(login) if s.get("Sid") == "LoginFailureCounters"]
    assert table_actions(
        {"Policies": [{"Statement": [s for s in statements(login) if s not in counting]}]},
        "BookingTable",
        token_use=False,
    ) == {"GetItem", "PutItem", "ConditionCheckItem"}
    assert table_actions(login, "RateLimitTable") == {"UpdateItem"}
    # And it may update the failed-login counters' items only
    assert counting == [
        {
            "Sid": "LoginFailureCounters",
            "Effect": "Allow",
            "Action": "dynamodb:UpdateItem",
            "Resource": {"Fn::GetAtt": ["BookingTable", "Arn"]},
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LOGINS#*"]}},
        }
    ]
    assert table_actions(login, "IdempotencyTable") == set()
    # And in particular it can neither delete nor batch-write nor scan
    actions = {action for action, _, _ in dynamodb_grants(login)}
    assert not actions & {"DeleteItem", "BatchWriteItem", "Scan"}


def test_every_api_function_but_the_uncounted_may_mark_a_token_used_and_only_a_token():
    # Given the functions behind the API (each resolves the caller's token, if one is sent,
    # for its rate limit at least)
    for name, properties in functions().items():
        if not routes_methods(properties):
            continue
        marking = [statement for statement in statements(properties) if is_token_use(statement)]
        # Then each has the one statement that lets it update token items (keys "TOKEN..."),
        # exactly as written; the webhook and the reference page take no token
        expected = [] if name in UNCOUNTED else [TOKEN_USE]
        assert marking == expected, name


def test_no_function_scans_unless_it_is_listed_with_its_reason():
    # Given every function's DynamoDB actions
    scanning = {
        name
        for name, properties in functions().items()
        if any(action == "Scan" for action, _, _ in dynamodb_grants(properties))
    }

    # Then only the listed ones may scan
    assert scanning == set(SCANNING)


def test_no_function_may_batch_write():
    # Given every function's DynamoDB actions
    # Then none writes in batches: every write of ours is a conditional one
    for name, properties in functions().items():
        assert "BatchWriteItem" not in {a for a, _, _ in dynamodb_grants(properties)}, name


def test_read_only_endpoints_cannot_change_a_booking_a_venue_or_an_account():
    # Given the functions that serve only GET routes
    readers = {
        name: properties
        for name, properties in functions().items()
        if routes_methods(properties) == {"GET"}
    }
    assert len(readers) >= 15

    # Then each only reads the booking table (but marks its caller's token used), and counts
    # its request (the reference page's function: neither)
    for name, properties in readers.items():
        assert table_actions(properties, "BookingTable", token_use=False) <= {
            "GetItem",
            "Query",
            "BatchGetItem",
        }, name
        counting = set() if name in UNCOUNTED else {"UpdateItem"}
        assert table_actions(properties, "RateLimitTable") == counting, name
        assert table_actions(properties, "IdempotencyTable") == set(), name


@pytest.mark.parametrize("name", ["ApiDocsFunction", "BookingPageFunction"])
def test_the_pages_may_touch_no_table_and_read_no_secret(name: str):
    # Given a page's function (the API reference, the booking page: fixed files of its own)
    page = functions()[name]
    # Then its role gets no statement at all: no DynamoDB action, no secret
    assert page.get("Policies", []) == []
    assert dynamodb_grants(page) == set()
    assert secret_parameters_read(page) == set()


def test_only_the_functions_that_take_an_idempotency_key_touch_its_table():
    # Given the functions with Idempotency-Key (their handlers say endpoint(..., idempotent=True))
    idempotent = {
        "CreateBookingFunction",
        "CancelBookingFunction",
        "CreatePaymentIntentFunction",
        "PayBookingFunction",
        "RegisterClientUserFunction",
        "CreateResourceClosureFunction",
        "CreateVenueClosureFunction",
        "CreateResourceFunction",
        "InviteVenueStaffFunction",
        "CreateVenueFunction",
        "StartStripeOnboardingFunction",
        "CreateVenueBookingFunction",
        "CancelVenueBookingFunction",
        "MarkNoShowFunction",
    }

    # Then they, and only they, may read and write its records (Powertools deletes a record
    # when the request fails)
    for name, properties in functions().items():
        expected = (
            {"GetItem", "PutItem", "UpdateItem", "DeleteItem"} if name in idempotent else set()
        )
        assert table_actions(properties, "IdempotencyTable") == expected, name


def test_every_api_function_but_the_uncounted_counts_its_requests_and_nothing_more():
    # Given the functions behind the API
    for name, properties in functions().items():
        if not routes_methods(properties):
            continue
        # Then each may only update its caller's counter; the webhook and the reference page
        # are not rate limited
        expected = set() if name in UNCOUNTED else {"UpdateItem"}
        assert table_actions(properties, "RateLimitTable") == expected, name


def test_every_dynamodb_permission_names_a_table_of_the_template():
    # Given every function's DynamoDB permissions
    for name, properties in functions().items():
        for _, table, _ in dynamodb_grants(properties):
            # Then it is on one of the stack's tables (never "*")
            assert table in TABLES, (name, table)


# ---- secrets -----------------------------------------------------------------------------


def secret_parameters_read(properties: dict[str, Any]) -> set[str]:
    """The parameters naming the secrets a function may read (from its GetSecretValue ARNs)."""
    names = set()
    for statement in statements(properties):
        actions = set(as_list(statement["Action"]))
        if not any(action.startswith("secretsmanager:") for action in actions):
            continue
        assert actions == {"secretsmanager:GetSecretValue"}, statement
        for resource in as_list(statement["Resource"]):
            match = SECRET_ARN.fullmatch(str(resource.get("Fn::Sub", "")))
            assert match, resource
            names.add(match.group("parameter"))
    return names


def test_each_function_may_read_exactly_the_secrets_it_is_given_the_names_of():
    # Given each function's variables that name a secret
    for name, properties in functions().items():
        variables = properties.get("Environment", {}).get("Variables", {})
        named = {
            value["Ref"]
            for variable, value in variables.items()
            if variable.endswith("_SECRET_NAME")
        }
        # Then its role may read those secrets, and no other
        assert secret_parameters_read(properties) == named, name


def test_the_secrets_go_where_they_are_used():
    # Given the functions' secret names
    readers = {name: secret_parameters_read(properties) for name, properties in functions().items()}

    # Then Stripe's key is read by the functions that call Stripe, the webhook's signing
    # secrets only by the webhook, and Mailgun's key only by the outbox
    assert {n for n, s in readers.items() if "StripeSecretKeySecretName" in s} == {
        "CancelBookingFunction",
        "CreatePaymentIntentFunction",
        "PayBookingFunction",
        "OutboxFunction",
        # Deleting an account cancels its future paid bookings with a refund.
        "DeleteAccountFunction",
        # A closure with "cancel_bookings": true refunds the paid bookings in its way.
        "CreateResourceClosureFunction",
        "CreateVenueClosureFunction",
        # Deactivating a resource may cancel its paid bookings with a refund.
        "UpdateResourceFunction",
        # The venue cancelling a paid booking refunds it in full.
        "CancelVenueBookingFunction",
        # A venue's connected account and its onboarding link; two account.updated events
        # of one second that disagree are settled by asking Stripe.
        "StartStripeOnboardingFunction",
        "StripeWebhookFunction",
    }
    assert {n for n, s in readers.items() if "StripeWebhookSecretName" in s} == {
        "StripeWebhookFunction"
    }
    assert {n for n, s in readers.items() if "MailgunApiKeySecretName" in s} == {"OutboxFunction"}


def test_no_secret_is_a_plain_environment_variable_or_parameter():
    # Given the template
    document = template()
    environments = [document["Globals"]["Function"]["Environment"]["Variables"]] + [
        properties.get("Environment", {}).get("Variables", {})
        for properties in functions().values()
    ]

    # Then no function is given a secret's value, and no parameter carries one
    for variables in environments:
        assert not set(variables) & SECRET_VALUE_VARIABLES, variables
    assert not [name for name, spec in document["Parameters"].items() if spec.get("NoEcho")], (
        "a NoEcho parameter is a secret passed through the template"
    )


# ---- checkov -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(resources()))
def test_every_skipped_check_says_why(name: str):
    # Given the resource's checkov skips, if any
    skips = resources()[name].get("Metadata", {}).get("checkov", {}).get("skip", [])

    # Then each names a check known not to apply here, with the reason beside it
    for skip in skips:
        assert skip["id"] in SKIPPABLE_CHECKS, (name, skip)
        assert len(str(skip.get("comment", "")).split()) >= 5, (name, skip)
