"""Secrets (Stripe's keys, Mailgun's key) as AWS Secrets Manager holds them.

In AWS the template gives a function only the name of each secret it uses, and its role may
read just those. The value is read when first needed, through Powertools Parameters, and kept
for SECRET_MAX_AGE_SECONDS, so a changed webhook secret or Mailgun key reaches warm functions
without a deployment (Stripe's client is made once per instance, with the key of that moment).
Locally and in the tests the values themselves are in the environment (see `settings`), and
nothing here runs.
"""

from __future__ import annotations

from booking_core.observability import logger

# How long a warm function keeps a secret before reading it again.
SECRET_MAX_AGE_SECONDS = 300


def secret_value(name: str) -> str | None:
    """The value of the secret called `name`, or None (logged) if it cannot be read.

    A secret that cannot be read is treated as missing configuration: payments answer 503,
    emails are retried, and webhooks are refused until it can be read.
    """
    # Imported here: only the functions that use a secret load the parameters utility.
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(name, max_age=SECRET_MAX_AGE_SECONDS)
    except parameters.GetParameterError as error:
        # The error names the secret and the reason (say AccessDenied), never its value.
        logger.error("A secret could not be read", extra={"secret_name": name, "error": str(error)})
        return None
    if isinstance(value, bytes):
        value = value.decode()
    return value.strip() or None
