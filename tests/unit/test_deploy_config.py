"""samconfig.toml: a dev and a prod environment that sam deploy can use as they are."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from samcli.cli.types import CfnParameterOverridesType  # type: ignore[import-untyped]

from local.template import REPO_ROOT, load_yaml

ENVIRONMENTS = ("dev", "prod")


def deploy_settings(environment: str) -> dict[str, Any]:
    with (REPO_ROOT / "samconfig.toml").open("rb") as stream:
        config = tomllib.load(stream)
    settings: dict[str, Any] = config[environment]["deploy"]["parameters"]
    return settings


def parameter_overrides(environment: str) -> dict[str, str]:
    """The overrides as sam deploy reads them."""
    given = deploy_settings(environment)["parameter_overrides"]
    parsed: dict[str, str] = CfnParameterOverridesType().convert(tuple(given), None, None)
    return parsed


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_an_environment_deploys_its_own_stack_without_questions(environment: str):
    # Given the environment's deploy settings
    settings = deploy_settings(environment)

    # Then it names its stack and region, lets SAM make the functions' roles and its bucket
    assert settings["stack_name"] == f"booking-api-{environment}"
    assert settings["region"]
    assert settings["capabilities"] == "CAPABILITY_IAM"
    assert settings["resolve_s3"] is True


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_override_names_a_parameter_of_the_template(environment: str):
    # Given the template's parameters and the environment's overrides
    parameters = load_yaml()["Parameters"]
    overrides = parameter_overrides(environment)

    # Then each override is a parameter the template has, with a value it allows
    for name, value in overrides.items():
        assert name in parameters, name
        assert value in map(str, parameters[name].get("AllowedValues", [value])), name


def test_each_environment_reads_its_own_secrets():
    # Given both environments' overrides
    dev, prod = (parameter_overrides(environment) for environment in ENVIRONMENTS)
    secrets = [name for name in load_yaml()["Parameters"] if name.endswith("SecretName")]

    # Then each names every secret, and no secret is shared between them
    assert len(secrets) == 3
    for name in secrets:
        assert dev[name] != prod[name], name
        assert dev[name].startswith("booking-api-dev/"), name
        assert prod[name].startswith("booking-api-prod/"), name


def test_production_changes_are_confirmed_before_they_are_made():
    # Given the deploy settings
    # Then prod shows its change set and waits; dev deploys at once
    assert deploy_settings("prod")["confirm_changeset"] is True
    assert deploy_settings("dev")["confirm_changeset"] is False


def test_production_alarms_reach_someone():
    # Given prod's overrides
    # Then an address is subscribed to the alarm topic
    assert "@" in parameter_overrides("prod")["AlarmEmail"]
