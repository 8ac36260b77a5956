"""Reading template.yaml: short tags, functions and routes, tables, the handlers' environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from local.template import CloudFormationLoader, load_template

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: v2}
  LogLevel: {Type: String, Default: DEBUG}
Globals:
  Function:
    MemorySize: 256
    Environment:
      Variables:
        TABLE_NAME: !Ref Things
        LOG_LEVEL: !Ref LogLevel
        CAPTURE: false
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: !Ref Stage}
  Things:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  ThingFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/things/
      Handler: get_thing.handler
      Timeout: 5
      Environment:
        Variables:
          GREETING: !Sub "hello ${Stage}"
      Events:
        Get:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /things/{thing_id}/
            Method: get
        Queue:
          Type: SQS
          Properties: {Queue: !GetAtt Queue.Arn}
"""


@pytest.fixture
def template_path(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return path


def test_short_tags_load_as_their_long_form() -> None:
    # Given CloudFormation short tags in scalar and sequence form
    text = "a: !Ref Table\nb: !GetAtt Table.Arn\nc: !Sub 'x-${Stage}'\nd: !Join [',', [a, b]]"

    # When the YAML is loaded
    document = yaml.load(text, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader

    # Then each tag is its intrinsic function
    assert document == {
        "a": {"Ref": "Table"},
        "b": {"Fn::GetAtt": ["Table", "Arn"]},
        "c": {"Fn::Sub": "x-${Stage}"},
        "d": {"Fn::Join": [",", ["a", "b"]]},
    }


def test_a_function_is_found_with_its_module_handler_and_api_routes(template_path: Path) -> None:
    # Given a template with one function behind an API event and an SQS event
    # When it is loaded
    template = load_template(template_path)

    # Then the function's module, handler, sizes and only its API route are known
    function = template.functions["ThingFunction"]
    assert function.module == "functions.things.get_thing"
    assert function.handler_name == "handler"
    assert function.memory_size == 256
    assert function.timeout_seconds == 5
    assert [(r.method, r.path) for r in function.routes] == [("GET", "/things/{thing_id}")]


def test_the_environment_resolves_refs_to_local_names_and_parameter_defaults(
    template_path: Path,
) -> None:
    # Given Globals referring to a table and a parameter
    # When the template is loaded
    template = load_template(template_path)

    # Then the table is named by its logical id and the parameter by its default
    assert template.environment == {
        "TABLE_NAME": "Things",
        "LOG_LEVEL": "DEBUG",
        "CAPTURE": "false",
    }
    assert template.functions["ThingFunction"].environment == {"GREETING": "hello v2"}
    assert template.stage == "v2"


def test_the_project_template_routes_every_endpoint_to_its_function() -> None:
    # Given the project's template.yaml
    # When it is loaded
    template = load_template()

    # Then availability has both its paths, and bookings its list and create
    routes = {(route.method, route.path): route.function_id for route in template.routes}
    assert routes[("GET", "/api/v1/resources/availability")] == "GetAvailabilityFunction"
    assert routes[("GET", "/api/v1/resources/{resource_id}/availability")] == (
        "GetAvailabilityFunction"
    )
    assert routes[("POST", "/api/v1/bookings")] == "CreateBookingFunction"
    assert routes[("GET", "/api/v1/bookings")] == "ListBookingsFunction"
    assert template.functions["CreateBookingFunction"].module == "functions.bookings.create_booking"


def test_the_project_template_gives_handlers_its_table_and_powertools_settings() -> None:
    # Given the project's template.yaml
    # When it is loaded
    template = load_template()

    # Then the Globals resolve to local values
    assert template.environment["TABLE_NAME"] == "BookingTable"
    assert template.environment["POWERTOOLS_SERVICE_NAME"] == "booking-api"
    assert template.environment["POWERTOOLS_METRICS_NAMESPACE"] == "BookingApi"
    assert template.environment["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert template.stage == "v1"
    assert set(template.tables) == {"BookingTable", "IdempotencyTable", "RateLimitTable"}
    assert template.environment["IDEMPOTENCY_TABLE_NAME"] == "IdempotencyTable"
    assert template.environment["RATE_LIMIT_TABLE_NAME"] == "RateLimitTable"
    assert template.environment["HOLD_MINUTES"] == "15"


def test_conditions_pseudo_parameters_and_no_value_resolve_locally(tmp_path: Path) -> None:
    # Given variables that depend on a condition, a pseudo parameter and AWS::NoValue
    path = tmp_path / "template.yaml"
    path.write_text(
        """
Parameters:
  Tracing: {Type: String, Default: "off"}
Conditions:
  TracingOn: !Equals [!Ref Tracing, "on"]
Globals:
  Function:
    Environment:
      Variables:
        TRACE_DISABLED: !If [TracingOn, "false", "true"]
        SAMPLING: !If [TracingOn, "0.1", !Ref AWS::NoValue]
        QUEUE_URL: !Sub "https://sqs.${AWS::Region}.amazonaws.com/${AWS::AccountId}/jobs"
        NAMES: !Join [",", [a, !Ref Tracing]]
Resources: {}
"""
    )

    # When the template is loaded
    template = load_template(path)

    # Then the condition is false with the parameter's default, and NoValue drops the variable
    assert template.environment == {
        "TRACE_DISABLED": "true",
        "QUEUE_URL": "https://sqs.eu-central-1.amazonaws.com/123456789012/jobs",
        "NAMES": "a,off",
    }
