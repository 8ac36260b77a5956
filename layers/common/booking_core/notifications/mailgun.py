"""Sending an email through Mailgun's HTTP API, with the standard library only."""

from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
from http.client import HTTPException
from urllib.parse import quote

from booking_core.notifications.messages import Email


class DeliveryFailed(Exception):
    """Mailgun did not take the email. `retryable` says whether sending it again may work."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


def send_via_mailgun(
    email: Email,
    *,
    api_base: str,
    domain: str,
    api_key: str,
    sender: str,
    timeout: float = 10.0,
) -> str:
    """Post `email` to Mailgun's messages endpoint and return the message id Mailgun gives it.

    Raises DeliveryFailed: retryable for connection errors, timeouts, 429 and 5xx; not
    retryable for other 4xx and for an answer without a message id (it may have been sent).
    """
    if not api_base.startswith(("https://", "http://")):
        raise ValueError("the Mailgun API base must be an http(s) URL")
    fields = [("from", sender), ("to", email.to), ("subject", email.subject), ("text", email.text)]
    if email.html is not None:
        fields.append(("html", email.html))
    if email.reply_to:
        fields.append(("h:Reply-To", email.reply_to))
    files = [
        ("attachment", attachment.filename, attachment.content_type, attachment.content.encode())
        for attachment in email.attachments
    ]
    body, content_type = _multipart(fields, files)
    credentials = base64.b64encode(f"api:{api_key}".encode()).decode("ascii")
    request = urllib.request.Request(  # noqa: S310 -- the scheme is checked above
        f"{api_base.rstrip('/')}/v3/{quote(domain, safe='')}/messages",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Basic {credentials}",
            "Content-Type": content_type,
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = response.read()
    except urllib.error.HTTPError as error:
        status = error.code
        detail = _error_detail(error)
        # The key never reaches the message, even if an answer were to echo it.
        detail = detail.replace(api_key, "[redacted]") if api_key else detail
        raise DeliveryFailed(
            f"Mailgun answered {status}: {detail}",
            retryable=status == 429 or status >= 500,
            status=status,
        ) from None
    except (OSError, HTTPException) as error:  # refused, reset, DNS, TLS, timed out
        reason = f"{type(error).__name__}: {error}"
        reason = reason.replace(api_key, "[redacted]") if api_key else reason
        raise DeliveryFailed(f"Mailgun could not be reached ({reason})", retryable=True) from None
    try:
        message_id = json.loads(answer)["id"]
    except (ValueError, KeyError, TypeError):
        raise DeliveryFailed(
            "Mailgun accepted the request but gave no message id", retryable=False
        ) from None
    return str(message_id)


def _multipart(
    fields: list[tuple[str, str]], files: list[tuple[str, str, str, bytes]]
) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) and its content type."""
    boundary = f"booking-api-{secrets.token_hex(16)}"
    parts: list[bytes] = []
    for name, value in fields:
        header = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'
        parts.append(header.encode() + value.encode() + b"\r\n")
    for name, filename, content_type, content in files:
        parts.append(
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="{_quoted(name)}"; '
                f'filename="{_quoted(filename)}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _quoted(value: str) -> str:
    """A name or filename inside the quotes of Content-Disposition, as browsers escape it."""
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _error_detail(error: urllib.error.HTTPError) -> str:
    """Mailgun's own explanation (its JSON `message`), shortened; else the reason phrase."""
    try:
        raw = error.read(2048)
    except (OSError, HTTPException):
        raw = b""
    try:
        detail = str(json.loads(raw)["message"])
    except (ValueError, KeyError, TypeError):
        detail = str(error.reason)
    return " ".join(detail.split())[:200]
