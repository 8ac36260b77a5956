"""Secrets: by name from Secrets Manager in AWS, as plain values locally and in the tests."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from booking_core.observability import logger
from booking_core.settings import get_settings
from local.lambda_runtime import DUMMY_CREDENTIALS, lambda_environment
from local.template import REPO_ROOT, load_template

SECRET_VARIABLES = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "MAILGUN_API_KEY")


@pytest.fixture
def secrets_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A Secrets Manager of moto's, settings outside local mode, no secret in the environment."""
    for name in SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_SECRET_NAME", raising=False)
    monkeypatch.delenv("BOOKING_LOCAL_MODE", raising=False)
    monkeypatch.setenv("TABLE_NAME", "bookings")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    parameters.clear_caches()
    get_settings.cache_clear()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="eu-central-1")
    parameters.clear_caches()
    get_settings.cache_clear()


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_a_secret_is_read_from_secrets_manager_by_the_name_the_template_gives(
    secrets_manager: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a secret in Secrets Manager, and only its name in the environment
    client = boto3.client("secretsmanager", region_name="eu-central-1")
    client.create_secret(Name="booking-api/stripe-secret-key", SecretString="sk_test_from_aws")
    monkeypatch.setenv("STRIPE_SECRET_KEY_SECRET_NAME", "booking-api/stripe-secret-key")

    # When the settings are asked for Stripe's key
    key = get_settings().stripe_secret_key

    # Then it is the secret's value
    assert key == "sk_test_from_aws"


def test_a_secret_read_once_is_kept_while_the_function_is_warm(
    secrets_manager: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Mailgun's key read once
    client = boto3.client("secretsmanager", region_name="eu-central-1")
    client.create_secret(Name="booking-api/mailgun-api-key", SecretString="key-first")
    monkeypatch.setenv("MAILGUN_API_KEY_SECRET_NAME", "booking-api/mailgun-api-key")
    assert get_settings().mailgun_api_key == "key-first"

    # When the secret changes at once
    client.put_secret_value(SecretId="booking-api/mailgun-api-key", SecretString="key-second")

    # Then the function keeps the value it read (for five minutes) without asking again
    assert get_settings().mailgun_api_key == "key-first"
    parameters.clear_caches()
    assert get_settings().mailgun_api_key == "key-second"


def test_the_webhook_secret_holds_every_endpoints_signing_secret(
    secrets_manager: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the platform's and the Connect endpoint's signing secrets in one secret
    client = boto3.client("secretsmanager", region_name="eu-central-1")
    client.create_secret(
        Name="booking-api/stripe-webhook-secret", SecretString="whsec_platform, whsec_connect"
    )
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET_SECRET_NAME", "booking-api/stripe-webhook-secret")

    # When the settings are asked for them
    secrets = get_settings().stripe_webhook_secrets

    # Then both are tried
    assert secrets == ("whsec_platform", "whsec_connect")


def test_a_value_in_the_environment_is_used_without_asking_secrets_manager(
    secrets_manager: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a key in the environment, and a name of a secret that does not exist
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_local")
    monkeypatch.setenv("STRIPE_SECRET_KEY_SECRET_NAME", "no-such-secret")

    # When the settings are asked for Stripe's key
    key = get_settings().stripe_secret_key

    # Then the environment's value is used, as locally and in the tests
    assert key == "sk_test_local"


def test_a_secret_that_cannot_be_read_is_missing_configuration_and_logged_by_name(
    secrets_manager: object, monkeypatch: pytest.MonkeyPatch, logged: io.StringIO
) -> None:
    # Given the name of a secret that was never created
    monkeypatch.setenv("STRIPE_SECRET_KEY_SECRET_NAME", "booking-api/never-created")

    # When the settings are asked for Stripe's key
    key = get_settings().stripe_secret_key

    # Then there is none (payments answer 503), and the log names the secret
    assert key is None
    [line] = [json.loads(text) for text in logged.getvalue().splitlines() if "secret_name" in text]
    assert line["level"] == "ERROR"
    assert line["secret_name"] == "booking-api/never-created"


def test_without_names_or_values_nothing_is_configured(secrets_manager: object) -> None:
    # Given neither values nor names of secrets
    # When the settings are read
    settings = get_settings()

    # Then there are no secrets, and Secrets Manager was not asked
    assert settings.stripe_secret_key is None
    assert settings.stripe_webhook_secrets == ()
    assert settings.mailgun_api_key is None


def test_the_settings_never_show_a_secrets_value(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given secrets in the environment
    monkeypatch.setenv("TABLE_NAME", "bookings")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_do_not_print")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_do_not_print")
    monkeypatch.setenv("MAILGUN_API_KEY", "key-do-not-print")
    get_settings.cache_clear()

    # When the settings are printed (say in a log line)
    text = repr(get_settings())
    get_settings.cache_clear()

    # Then no value appears
    assert "do_not_print" not in text
    assert "do-not-print" not in text


def test_the_local_stack_gets_no_names_of_secrets() -> None:
    # Given the template, whose functions get the names of their secrets
    template = load_template()
    assert template.functions["OutboxFunction"].environment["MAILGUN_API_KEY_SECRET_NAME"]

    # When the local environment is made from it
    environment = lambda_environment(template, dynamodb_endpoint_url=None, region="eu-central-1")

    # Then no name of a secret is in it: locally the values themselves are given
    assert not [name for name in environment if name.endswith("_SECRET_NAME")]


def test_no_handler_loads_the_parameters_utility_when_it_is_imported() -> None:
    # Given every handler module of the template
    modules = sorted({function.module for function in load_template().functions.values()})

    # When each is imported in a fresh interpreter
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print('aws_lambda_powertools.utilities.parameters' in sys.modules)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": f"{REPO_ROOT / 'layers' / 'common'}:{REPO_ROOT}", "TABLE_NAME": "t"},
        capture_output=True,
        text=True,
        check=True,
    )

    # Then none loaded it: only a function that reads a secret does, on first use
    assert result.stdout.strip() == "False", result.stderr
