"""Capturing emails as files: the local stand-in for Mailgun, and `send` choosing it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from booking_core.notifications.capture import capture, list_captured
from booking_core.notifications.delivery import send
from booking_core.notifications.messages import Email, booking_confirmation
from booking_core.settings import get_settings
from tests.unit.notifications.builders import a_booking, a_user, a_venue

SENDER = "Court Booking <bookings@example.com>"


def confirmation() -> Email:
    return booking_confirmation(a_booking(), a_venue(), a_user())


def test_a_captured_email_reads_back_with_every_field(tmp_path: Path) -> None:
    # Given a confirmation with its calendar attachment
    email = confirmation()

    # When it is captured and the folder is listed
    path = capture(email, tmp_path, "bk-0001-confirmation", SENDER)
    (record,) = list_captured(tmp_path)

    # Then the file holds the email as sent, with its id, sender and capture time
    assert path.parent == tmp_path
    assert path.name.endswith("-bk-0001-confirmation.json")
    assert record["id"] == "bk-0001-confirmation"
    assert record["from"] == SENDER
    assert record["to"] == email.to
    assert record["subject"] == email.subject
    assert record["text"] == email.text
    assert record["html"] == email.html
    assert record["attachments"] == [
        {
            "filename": "booking-CB7K2Q.ics",
            "content_type": "text/calendar; method=REQUEST; charset=utf-8",
            "content": email.attachments[0].content,
        }
    ]
    assert datetime.fromisoformat(record["captured_at"]).tzinfo is not None


def test_a_capture_is_named_after_its_utc_time_with_microseconds(tmp_path: Path) -> None:
    # Given a moment in Berlin's winter time (UTC+1)
    moment = datetime(2026, 11, 21, 18, 0, 0, 123456, tzinfo=ZoneInfo("Europe/Berlin"))

    # When an email is captured at that moment
    path = capture(confirmation(), tmp_path, "mail-1", SENDER, captured_at=moment)

    # Then the file is named after the UTC time, microseconds included
    assert path.name == "20261121T170000.123456Z-mail-1.json"
    captured_at = json.loads(path.read_text(encoding="utf-8"))["captured_at"]
    assert captured_at == "2026-11-21T17:00:00.123456+00:00"


def test_the_capture_folder_is_created_when_missing(tmp_path: Path) -> None:
    # Given a folder that does not exist yet
    directory = tmp_path / "mail" / "outbox"

    # When an email is captured there
    path = capture(confirmation(), directory, "mail-1", SENDER)

    # Then the folder exists and holds the email, and no partial file is left behind
    assert path.exists()
    assert [entry.name for entry in directory.iterdir()] == [path.name]


def test_captured_emails_are_listed_oldest_first(tmp_path: Path) -> None:
    # Given two emails captured in an order their ids do not sort in
    first = datetime(2026, 11, 21, 17, 0, 0, 1, tzinfo=UTC)
    second = datetime(2026, 11, 21, 17, 0, 0, 2, tzinfo=UTC)
    capture(confirmation(), tmp_path, "zz-first", SENDER, captured_at=first)
    capture(confirmation(), tmp_path, "aa-second", SENDER, captured_at=second)

    # When the folder is listed
    records = list_captured(tmp_path)

    # Then the older capture comes first
    assert [record["id"] for record in records] == ["zz-first", "aa-second"]


def test_unfinished_partial_files_are_not_listed(tmp_path: Path) -> None:
    # Given one captured email and a partial file still being written
    capture(confirmation(), tmp_path, "done", SENDER)
    (tmp_path / "20990101T000000.000000Z-busy.json.partial").write_text("{", encoding="utf-8")

    # When the folder is listed
    records = list_captured(tmp_path)

    # Then only the complete email is there
    assert [record["id"] for record in records] == ["done"]


def test_a_missing_capture_folder_lists_no_emails(tmp_path: Path) -> None:
    # Given a folder that does not exist / When it is listed / Then there are no emails
    assert list_captured(tmp_path / "nowhere") == []


def test_an_id_cannot_place_the_file_outside_the_capture_folder(tmp_path: Path) -> None:
    # Given an id with path separators
    email_id = "../../etc/passwd"

    # When an email is captured under it
    path = capture(confirmation(), tmp_path / "mail", email_id, SENDER)

    # Then the file is inside the folder, and the record keeps the id as given
    assert path.parent == tmp_path / "mail"
    assert list_captured(tmp_path / "mail")[0]["id"] == email_id


@pytest.fixture
def local_mode_capturing_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The process's settings in local mode with a capture folder."""
    directory = tmp_path / "captured"
    monkeypatch.setenv("TABLE_NAME", "bookings")
    monkeypatch.setenv("BOOKING_LOCAL_MODE", "true")
    monkeypatch.setenv("MAIL_CAPTURE_DIR", str(directory))
    monkeypatch.setenv("EMAIL_SENDER", SENDER)
    monkeypatch.delenv("MAILGUN_API_KEY", raising=False)
    get_settings.cache_clear()
    yield directory
    get_settings.cache_clear()


def test_send_in_local_mode_captures_the_email_instead_of_mailing_it(
    local_mode_capturing_to: Path,
) -> None:
    # Given local mode with a capture folder and no Mailgun configured
    email = confirmation()

    # When the email is sent
    send(email, "bk-0001-confirmation")

    # Then it is in the capture folder, from the configured sender
    (record,) = list_captured(local_mode_capturing_to)
    assert record["id"] == "bk-0001-confirmation"
    assert record["from"] == SENDER
    assert record["subject"] == email.subject
