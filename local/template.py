"""template.yaml as the local stack sees it: functions, routes, tables and their environment.

The template is the single source of truth: the local API routes, the tables it creates and the
environment the handlers get are all read from it, never written down a second time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

# Local stand-ins for CloudFormation's pseudo parameters; AWS::NoValue removes the property.
PSEUDO_PARAMETERS: dict[str, str | None] = {
    "AWS::AccountId": "123456789012",
    "AWS::NoValue": None,
    "AWS::Partition": "aws",
    "AWS::Region": "eu-central-1",
    "AWS::StackName": "local",
    "AWS::URLSuffix": "amazonaws.com",
}

# Short tags whose long form is not simply "Fn::<Tag>".
_LONG_FORM_OF_TAG = {"Ref": "Ref", "Condition": "Condition"}


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that reads CloudFormation short tags (`!Ref X`) as their long form."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    key = _LONG_FORM_OF_TAG.get(tag_suffix, f"Fn::{tag_suffix}")
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            # `!GetAtt Table.Arn` is the short form of `Fn::GetAtt: [Table, Arn]`.
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


@dataclass(frozen=True)
class Route:
    """One `Type: Api` event: an HTTP method on a path template, served by one function."""

    method: str  # upper case; "ANY" matches every method, as in API Gateway
    path: str  # API Gateway resource path: no trailing slash, `{param}` segments
    function_id: str


@dataclass(frozen=True)
class StreamSource:
    """One `Type: DynamoDB` event: the function reads a table's stream."""

    table_id: str  # logical id of the table, from `!GetAtt <Table>.StreamArn`
    starting_position: str = "LATEST"  # or TRIM_HORIZON
    batch_size: int = 100  # Lambda's default for DynamoDB streams
    # None: Lambda's default, retried until the records expire from the stream.
    maximum_retry_attempts: int | None = None
    # FilterCriteria.Filters[].Pattern, parsed; a record is delivered if any matches (or if none).
    filter_patterns: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class FunctionSpec:
    """An `AWS::Serverless::Function` and where its handler lives in this repository."""

    logical_id: str
    module: str  # e.g. "functions.bookings.create_booking"
    handler_name: str  # e.g. "handler"
    routes: tuple[Route, ...]
    memory_size: int
    timeout_seconds: int
    environment: dict[str, str] = field(default_factory=dict)
    stream_sources: tuple[StreamSource, ...] = ()
    schedules: tuple[str, ...] = ()  # `Type: Schedule` expressions, e.g. "rate(5 minutes)"


@dataclass(frozen=True)
class Template:
    """What the local stack needs from template.yaml."""

    functions: dict[str, FunctionSpec]
    tables: dict[str, dict[str, Any]]  # logical id -> AWS::DynamoDB::Table Properties
    environment: dict[str, str]  # Globals.Function.Environment.Variables, resolved
    parameters: dict[str, str]  # parameter name -> Default
    stage: str = "Prod"  # the API's StageName (SAM's default when none is set)
    # The API's MISSING_AUTHENTICATION_TOKEN gateway response (no route for the request), as
    # (status, content type, body); None when the template keeps API Gateway's default.
    missing_route_response: tuple[int, str, str] | None = None

    @property
    def routes(self) -> list[Route]:
        return [route for function in self.functions.values() for route in function.routes]

    def table_name(self, logical_id: str) -> str:
        """The table's name: its `TableName` if the template sets one, else its logical id."""
        return str(self.tables[logical_id].get("TableName", logical_id))


def load_yaml(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """template.yaml as plain data, short tags turned into their long form."""
    with path.open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return document


@cache
def load_template(path: Path = TEMPLATE_PATH) -> Template:
    """Read template.yaml once: functions and their routes, tables, the resolved environment."""
    document = load_yaml(path)
    resources: dict[str, Any] = document.get("Resources", {})
    parameters = {
        name: str(spec["Default"])
        for name, spec in document.get("Parameters", {}).items()
        if "Default" in spec
    }
    tables = {
        logical_id: dict(resource.get("Properties", {}))
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    }
    resolver = _Resolver(parameters, resources, tables, document.get("Conditions", {}))
    globals_function = document.get("Globals", {}).get("Function", {})
    environment = resolver.environment(globals_function)
    functions = {
        logical_id: _function_spec(
            logical_id, resource.get("Properties", {}), globals_function, resolver
        )
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }
    stages = [
        resolver.resolve(resource["Properties"]["StageName"])
        for resource in resources.values()
        if resource.get("Type") == "AWS::Serverless::Api"
        and "StageName" in resource.get("Properties", {})
    ]
    return Template(
        functions=functions,
        tables=tables,
        environment=environment,
        parameters=parameters,
        stage=stages[0] or "Prod" if stages else "Prod",
        missing_route_response=_missing_route_response(resources),
    )


def _missing_route_response(resources: dict[str, Any]) -> tuple[int, str, str] | None:
    for resource in resources.values():
        if resource.get("Type") != "AWS::Serverless::Api":
            continue
        responses = resource.get("Properties", {}).get("GatewayResponses", {})
        response = responses.get("MISSING_AUTHENTICATION_TOKEN")
        if not response or "ResponseTemplates" not in response:
            continue
        [body, *_] = response["ResponseTemplates"].values()
        headers = response.get("ResponseParameters", {}).get("Headers", {})
        # Header values are mapping expressions: a literal is quoted, "'application/json'".
        content_type = str(headers.get("Content-Type", "'application/json'")).strip("'")
        return int(response.get("StatusCode", 403)), content_type, str(body)
    return None


def _function_spec(
    logical_id: str,
    properties: dict[str, Any],
    globals_function: dict[str, Any],
    resolver: _Resolver,
) -> FunctionSpec:
    code_uri = str(properties["CodeUri"]).strip("/")
    module_name, _, handler_name = str(properties["Handler"]).rpartition(".")
    package = code_uri.replace("/", ".")
    events: dict[str, Any] = properties.get("Events", {})
    routes = tuple(
        Route(
            method=str(event["Properties"]["Method"]).upper(),
            path=str(event["Properties"]["Path"]).rstrip("/") or "/",
            function_id=logical_id,
        )
        for event in events.values()
        if event.get("Type") == "Api"
    )
    return FunctionSpec(
        logical_id=logical_id,
        module=f"{package}.{module_name}" if package else module_name,
        handler_name=handler_name,
        routes=routes,
        memory_size=int(properties.get("MemorySize", globals_function.get("MemorySize", 128))),
        timeout_seconds=int(properties.get("Timeout", globals_function.get("Timeout", 3))),
        environment=resolver.environment(properties),
        stream_sources=tuple(
            _stream_source(logical_id, event.get("Properties", {}))
            for event in events.values()
            if event.get("Type") == "DynamoDB"
        ),
        schedules=tuple(
            str(event["Properties"]["Schedule"])
            for event in events.values()
            if event.get("Type") == "Schedule"
            and event["Properties"].get("Enabled", True) is not False
        ),
    )


def _stream_source(function_id: str, properties: dict[str, Any]) -> StreamSource:
    stream = properties.get("Stream")
    attribute = stream.get("Fn::GetAtt") if isinstance(stream, dict) else None
    if isinstance(attribute, str):
        attribute = attribute.split(".", 1)
    if not isinstance(attribute, list) or len(attribute) != 2 or attribute[1] != "StreamArn":
        raise ValueError(
            f"{function_id}: the local stack reads only streams named as"
            f" !GetAtt <Table>.StreamArn, not {stream!r}"
        )
    retries = properties.get("MaximumRetryAttempts")
    filters = properties.get("FilterCriteria", {}).get("Filters", [])
    return StreamSource(
        table_id=str(attribute[0]),
        starting_position=str(properties.get("StartingPosition", "LATEST")),
        batch_size=int(properties.get("BatchSize", 100)),
        # -1 is how CloudFormation spells Lambda's default: retry until the record expires.
        maximum_retry_attempts=None if retries is None or int(retries) < 0 else int(retries),
        filter_patterns=tuple(
            json.loads(spec["Pattern"]) if isinstance(spec["Pattern"], str) else spec["Pattern"]
            for spec in filters
        ),
    )


class _Resolver:
    """Resolves the intrinsics a variable or stage name may use, with local values.

    Parameters take their Default, a table (or any resource) its logical id, pseudo parameters
    a local stand-in; conditions are evaluated on those values.
    """

    def __init__(
        self,
        parameters: dict[str, str],
        resources: dict[str, Any],
        tables: dict[str, dict[str, Any]],
        conditions: dict[str, Any],
    ) -> None:
        self._parameters = parameters
        self._resources = resources
        self._tables = tables
        self._conditions = conditions

    def environment(self, function_properties: dict[str, Any]) -> dict[str, str]:
        variables = function_properties.get("Environment", {}).get("Variables", {})
        resolved = {name: self.resolve(value) for name, value in variables.items()}
        # A variable set to AWS::NoValue (say by an !If) is not set at all.
        return {name: value for name, value in resolved.items() if value is not None}

    def resolve(self, value: Any) -> str | None:
        if isinstance(value, dict) and len(value) == 1:
            [(function, argument)] = value.items()
            if function == "Ref":
                return self._ref(str(argument))
            if function == "Fn::If":
                condition, if_true, if_false = argument
                return self.resolve(if_true if self._condition(condition) else if_false)
            if function == "Fn::Sub":
                return self._sub(argument)
            if function == "Fn::Join":
                delimiter, parts = argument
                return str(delimiter).join(str(self.resolve(part)) for part in parts)
            raise ValueError(f"the local stack cannot resolve {function} in {value!r}")
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def _ref(self, name: str) -> str | None:
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self._tables:
            # Locally a table is named after its logical id (unless it sets TableName).
            return str(self._tables[name].get("TableName", name))
        if name in self._resources:
            return name
        raise ValueError(f"!Ref {name}: no parameter with a Default and no resource of that name")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                raise ValueError(f"the local stack cannot resolve ${{{name}}} in !Sub {text!r}")
            return str(self._ref(name))

        return re.sub(r"\$\{([^!}][^}]*)\}", replace, str(text))

    def _condition(self, condition: Any) -> bool:
        if isinstance(condition, str):
            return self._condition(self._conditions[condition])
        [(function, argument)] = condition.items()
        if function == "Condition":
            return self._condition(self._conditions[argument])
        if function == "Fn::Equals":
            left, right = (self.resolve(operand) for operand in argument)
            return left == right
        if function == "Fn::Not":
            return not self._condition(argument[0])
        if function == "Fn::And":
            return all(self._condition(operand) for operand in argument)
        if function == "Fn::Or":
            return any(self._condition(operand) for operand in argument)
        raise ValueError(f"the local stack cannot evaluate the condition {condition!r}")
