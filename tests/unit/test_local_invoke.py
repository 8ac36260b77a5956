"""`make invoke`'s answers to mistakes, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.invoke import main, readable


def test_an_unknown_function_exits_non_zero_and_lists_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a function id the template does not have
    # When invoke is run with it
    exit_code = main(["NoSuchFunction", "events/get_booking.json"])

    # Then it fails and says which ids exist
    assert exit_code == 2
    error = capsys.readouterr().err
    assert "NoSuchFunction" in error
    assert "CreateBookingFunction" in error
    assert "GetBookingFunction" in error


def test_a_missing_event_file_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an event path that does not exist
    # When invoke is run with it
    exit_code = main(["GetBookingFunction", str(tmp_path / "missing.json")])

    # Then it fails and names the file
    assert exit_code == 2
    assert "missing.json" in capsys.readouterr().err


def test_an_event_that_is_not_json_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an event file that is not JSON
    event = tmp_path / "broken.json"
    event.write_text("{not json")

    # When invoke is run with it
    exit_code = main(["GetBookingFunction", str(event)])

    # Then it fails and says why
    assert exit_code == 2
    assert "broken.json" in capsys.readouterr().err


def test_a_json_body_is_shown_parsed_and_other_bodies_as_they_are() -> None:
    # Given responses with a JSON body, a text body and a binary body
    json_response = {"statusCode": 200, "body": '{"id": 1}'}
    text_response = {"statusCode": 200, "body": "plain words"}
    binary_response = {"statusCode": 200, "body": "eyJpZCI6IDF9", "isBase64Encoded": True}

    # When they are made readable
    # Then only the JSON body is parsed
    assert readable(json_response)["body"] == {"id": 1}
    assert readable(text_response) == text_response
    assert readable(binary_response) == binary_response
