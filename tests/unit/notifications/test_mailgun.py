"""Sending through Mailgun's HTTP API, against a fake Mailgun on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import socket
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from booking_core.notifications.delivery import send
from booking_core.notifications.mailgun import DeliveryFailed, send_via_mailgun
from booking_core.notifications.messages import Email, booking_confirmation
from booking_core.settings import get_settings
from tests.unit.notifications.builders import a_booking, a_user, a_venue

API_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
DOMAIN = "mg.example.com"
SENDER = "Court Booking <bookings@mg.example.com>"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> list[Message]:
        """The multipart/form-data parts, read by the standard library's own MIME parser."""
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + self.body)
        assert message.is_multipart()
        return list(message.iter_parts())

    def field(self, name: str) -> str:
        (value,) = [
            octets(part).decode("utf-8")  # form fields are UTF-8
            for part in self.form()
            if part.get_param("name", header="content-disposition") == name
        ]
        return value


def octets(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


@dataclass
class FakeMailgun:
    """Answers every request with `status` and `answer`, and remembers what it was sent."""

    base_url: str = ""
    status: int = 200
    answer: dict[str, Any] = field(
        default_factory=lambda: {"id": "<20261121.1@mg.example.com>", "message": "Queued."}
    )
    requests: list[RecordedRequest] = field(default_factory=list)
    # Set to make the server hang until the test ends, like an unresponsive Mailgun.
    hang: threading.Event | None = None


@pytest.fixture
def mailgun() -> Iterator[FakeMailgun]:
    fake = FakeMailgun()
    released = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            fake.requests.append(
                RecordedRequest("POST", self.path, dict(self.headers.items()), body)
            )
            if fake.hang is not None:
                released.wait(timeout=5)
            payload = json.dumps(fake.answer).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    released.set()
    server.shutdown()
    server.server_close()


def confirmation() -> Email:
    return booking_confirmation(a_booking(), a_venue(), a_user())


def deliver(email: Email, api_base: str, *, timeout: float = 5.0) -> str:
    return send_via_mailgun(
        email, api_base=api_base, domain=DOMAIN, api_key=API_KEY, sender=SENDER, timeout=timeout
    )


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_sent_email_returns_the_message_id_mailgun_gives_it(mailgun: FakeMailgun) -> None:
    # Given a Mailgun that queues the message
    email = confirmation()

    # When the email is sent
    message_id = deliver(email, mailgun.base_url)

    # Then Mailgun's id comes back, from one POST to the domain's messages endpoint
    assert message_id == "<20261121.1@mg.example.com>"
    (request,) = mailgun.requests
    assert request.method == "POST"
    assert request.path == "/v3/mg.example.com/messages"


def test_the_request_authenticates_as_api_with_the_key(mailgun: FakeMailgun) -> None:
    # Given an API key / When an email is sent
    deliver(confirmation(), mailgun.base_url)

    # Then HTTP Basic auth carries the user "api" and the key
    (request,) = mailgun.requests
    scheme, credentials = request.headers["Authorization"].split(" ", 1)
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == f"api:{API_KEY}"


def test_the_request_carries_the_email_as_multipart_form_fields(mailgun: FakeMailgun) -> None:
    # Given a confirmation with HTML, a reply-to address and non-ASCII text
    email = confirmation()

    # When it is sent
    deliver(email, mailgun.base_url)

    # Then each field arrives intact
    (request,) = mailgun.requests
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert request.field("from") == SENDER
    assert request.field("to") == "Anna Berg <anna@example.com>"
    assert request.field("subject") == email.subject
    assert request.field("text") == email.text
    assert "Hauptstraße 1" in request.field("text")
    assert request.field("html") == email.html
    assert request.field("h:Reply-To") == "desk@sports-center.example"


def test_the_calendar_is_sent_as_an_attachment_file_part(mailgun: FakeMailgun) -> None:
    # Given a confirmation with its .ics
    email = confirmation()

    # When it is sent
    deliver(email, mailgun.base_url)

    # Then one "attachment" part carries the file name, type and exact content
    (request,) = mailgun.requests
    (part,) = [
        part
        for part in request.form()
        if part.get_param("name", header="content-disposition") == "attachment"
    ]
    assert part.get_filename() == "booking-CB7K2Q.ics"
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert octets(part) == email.attachments[0].content.encode()


def test_an_email_without_html_or_reply_to_sends_neither_field(mailgun: FakeMailgun) -> None:
    # Given a plain-text email
    email = Email(to="anna@example.com", subject="Hello", text="Just text.")

    # When it is sent
    deliver(email, mailgun.base_url)

    # Then only from, to, subject and text are posted
    (request,) = mailgun.requests
    names = [part.get_param("name", header="content-disposition") for part in request.form()]
    assert names == ["from", "to", "subject", "text"]


def test_a_server_error_is_a_retryable_failure(mailgun: FakeMailgun) -> None:
    # Given a Mailgun that fails with 500
    mailgun.status, mailgun.answer = 500, {"message": "Internal error"}

    # When an email is sent / Then the failure may be retried
    with pytest.raises(DeliveryFailed) as failure:
        deliver(confirmation(), mailgun.base_url)
    assert failure.value.retryable is True
    assert failure.value.status == 500


def test_too_many_requests_is_a_retryable_failure(mailgun: FakeMailgun) -> None:
    # Given a Mailgun that rate-limits
    mailgun.status, mailgun.answer = 429, {"message": "Too many requests"}

    # When an email is sent / Then the failure may be retried
    with pytest.raises(DeliveryFailed) as failure:
        deliver(confirmation(), mailgun.base_url)
    assert failure.value.retryable is True


def test_a_rejected_request_is_not_retryable_and_says_why(mailgun: FakeMailgun) -> None:
    # Given a Mailgun that rejects the message
    mailgun.status, mailgun.answer = 400, {"message": "'to' parameter is not a valid address"}

    # When an email is sent / Then retrying is pointless, and Mailgun's reason is kept
    with pytest.raises(DeliveryFailed, match="not a valid address") as failure:
        deliver(confirmation(), mailgun.base_url)
    assert failure.value.retryable is False
    assert failure.value.status == 400


def test_an_unreachable_mailgun_is_a_retryable_failure() -> None:
    # Given nothing listening on the port
    api_base = closed_port_url()

    # When an email is sent / Then the failure may be retried
    with pytest.raises(DeliveryFailed, match="could not be reached") as failure:
        deliver(confirmation(), api_base)
    assert failure.value.retryable is True
    assert failure.value.status is None


def test_a_mailgun_that_does_not_answer_in_time_is_a_retryable_failure(
    mailgun: FakeMailgun,
) -> None:
    # Given a Mailgun that hangs
    mailgun.hang = threading.Event()

    # When an email is sent with a short timeout / Then the failure may be retried
    with pytest.raises(DeliveryFailed) as failure:
        deliver(confirmation(), mailgun.base_url, timeout=0.2)
    assert failure.value.retryable is True


def test_the_api_key_never_appears_in_a_failure(mailgun: FakeMailgun) -> None:
    # Given a Mailgun that echoes the key back in its error
    mailgun.status, mailgun.answer = 401, {"message": f"Invalid private key {API_KEY}"}

    # When an email is sent
    with pytest.raises(DeliveryFailed) as failure:
        deliver(confirmation(), mailgun.base_url)

    # Then neither the message, the representation nor the traceback shows the key
    assert failure.value.retryable is False
    assert API_KEY not in str(failure.value)
    assert API_KEY not in repr(failure.value)
    assert API_KEY not in "".join(traceback.format_exception(failure.value))
    assert "Invalid private key" in str(failure.value)


def test_the_api_key_never_appears_when_mailgun_is_unreachable() -> None:
    # Given nothing listening on the port
    api_base = closed_port_url()

    # When an email is sent
    with pytest.raises(DeliveryFailed) as failure:
        deliver(confirmation(), api_base)

    # Then the failure and its traceback do not show the key
    assert API_KEY not in "".join(traceback.format_exception(failure.value))


def test_an_answer_without_a_message_id_is_not_retried(mailgun: FakeMailgun) -> None:
    # Given a Mailgun that accepts the request but answers without an id
    mailgun.answer = {"message": "Queued."}

    # When an email is sent / Then it is not retried, since it may have gone out
    with pytest.raises(DeliveryFailed) as failure:
        deliver(confirmation(), mailgun.base_url)
    assert failure.value.retryable is False


def test_only_an_http_api_base_is_accepted() -> None:
    # Given an API base that is a local file
    api_base = "file:///etc"

    # When / Then the email is not sent
    with pytest.raises(ValueError, match="http"):
        deliver(confirmation(), api_base)


@pytest.fixture
def configured_for(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The process's settings outside local mode; the test sets the Mailgun variables."""
    monkeypatch.setenv("TABLE_NAME", "bookings")
    monkeypatch.setenv("EMAIL_SENDER", SENDER)
    for name in ("BOOKING_LOCAL_MODE", "MAIL_CAPTURE_DIR", "MAILGUN_API_KEY", "MAILGUN_DOMAIN"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_send_posts_to_the_configured_mailgun(
    configured_for: pytest.MonkeyPatch, mailgun: FakeMailgun
) -> None:
    # Given settings that point at Mailgun
    configured_for.setenv("MAILGUN_API_KEY", API_KEY)
    configured_for.setenv("MAILGUN_DOMAIN", DOMAIN)
    configured_for.setenv("MAILGUN_API_BASE", mailgun.base_url)
    get_settings.cache_clear()

    # When an email is sent
    send(confirmation(), "bk-0001-confirmation")

    # Then Mailgun received it from the configured sender
    (request,) = mailgun.requests
    assert request.path == f"/v3/{DOMAIN}/messages"
    assert request.field("from") == SENDER


def test_send_without_mailgun_configured_is_a_retryable_failure(
    configured_for: pytest.MonkeyPatch,
) -> None:
    # Given settings without a Mailgun key or domain, outside local mode

    # When an email is sent / Then it fails in a way that can be retried once configured
    with pytest.raises(DeliveryFailed, match="not configured") as failure:
        send(confirmation(), "bk-0001-confirmation")
    assert failure.value.retryable is True


def test_a_capture_folder_is_ignored_outside_local_mode(
    configured_for: pytest.MonkeyPatch, mailgun: FakeMailgun, tmp_path: Any
) -> None:
    # Given a capture folder set, but not local mode, and Mailgun configured
    configured_for.setenv("MAIL_CAPTURE_DIR", str(tmp_path / "captured"))
    configured_for.setenv("MAILGUN_API_KEY", API_KEY)
    configured_for.setenv("MAILGUN_DOMAIN", DOMAIN)
    configured_for.setenv("MAILGUN_API_BASE", mailgun.base_url)
    get_settings.cache_clear()

    # When an email is sent
    send(confirmation(), "bk-0001-confirmation")

    # Then it goes to Mailgun, and nothing is captured
    assert len(mailgun.requests) == 1
    assert not (tmp_path / "captured").exists()
