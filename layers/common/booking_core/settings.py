"""Configuration, read once from the environment and cached."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """What a function needs to know about its surroundings.

    In AWS these come from `template.yaml`; the local stack and the tests set the same names.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    table_name: str = Field(min_length=1)
    aws_region: str = "eu-central-1"
    # Any DynamoDB endpoint: moto's server locally, DynamoDB Local, or None for AWS itself.
    dynamodb_endpoint_url: str | None = None
    # Base URL used to build `next`/`previous` links when the request does not say its own host.
    public_base_url: str | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process. Raises if required configuration is missing."""
    return Settings(
        table_name=os.environ.get("TABLE_NAME", ""),
        aws_region=os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "eu-central-1",
        dynamodb_endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL") or None,
        public_base_url=os.environ.get("PUBLIC_BASE_URL") or None,
    )
