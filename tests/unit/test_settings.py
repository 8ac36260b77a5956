"""Settings: read from the environment and checked when made (a dataclass, not a pydantic
model, so that handlers which validate no input never load pydantic)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from booking_core.settings import Settings, get_settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("TABLE_NAME", "bookings")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_numbers_are_read_from_the_environment(environment: pytest.MonkeyPatch) -> None:
    # Given a hold length and a rate limit window in the environment, with blanks around one
    environment.setenv("HOLD_MINUTES", " 5 ")
    environment.setenv("RATE_LIMIT_WINDOW_SECONDS", "30")

    # When the settings are made
    settings = get_settings()

    # Then they hold those numbers as integers
    assert (settings.hold_minutes, settings.rate_limit_window_seconds) == (5, 30)


def test_unset_numbers_keep_their_defaults(environment: pytest.MonkeyPatch) -> None:
    # Given no hold length in the environment
    environment.delenv("HOLD_MINUTES", raising=False)

    # When the settings are made
    settings = get_settings()

    # Then the hold lasts 15 minutes
    assert settings.hold_minutes == 15


@pytest.mark.parametrize("value", ["0", "1441"])
def test_a_number_out_of_its_bounds_is_refused(environment: pytest.MonkeyPatch, value: str) -> None:
    # Given a hold length outside 1 to 1440 minutes
    environment.setenv("HOLD_MINUTES", value)

    # When the settings are made, then they refuse it
    with pytest.raises(ValueError, match="hold_minutes must be at least 1, at most 1440"):
        get_settings()


@pytest.mark.parametrize("value", ["ten", "1.5", "1e3", "5.", "nan"])
def test_a_number_that_is_not_a_whole_number_is_refused(
    environment: pytest.MonkeyPatch, value: str
) -> None:
    # Given a rate limit that is not written as a whole number
    environment.setenv("RATE_LIMIT_REQUESTS", value)

    # When the settings are made, then they refuse it
    with pytest.raises(ValueError, match="RATE_LIMIT_REQUESTS must be a whole number"):
        get_settings()


def test_a_missing_table_name_is_refused(environment: pytest.MonkeyPatch) -> None:
    # Given no table name
    environment.setenv("TABLE_NAME", "")

    # When the settings are made, then they refuse to guess one
    with pytest.raises(ValueError, match="TABLE_NAME"):
        get_settings()


def test_secret_values_stay_out_of_the_settings_repr() -> None:
    # Given settings holding secret values
    settings = Settings(
        table_name="bookings",
        stripe_secret_key_value="sk_test_value",
        stripe_webhook_secret_value="whsec_value",
        mailgun_api_key_value="key-value",
    )

    # When they are printed
    shown = repr(settings)

    # Then none of the values shows
    assert not any(value in shown for value in ("sk_test_value", "whsec_value", "key-value"))


@pytest.mark.parametrize(
    ("written", "read"), [("+5", 5), ("+0015", 15), ("1_000", 1000), ("15.0", 15), ("05", 5)]
)
def test_numbers_read_as_the_pydantic_settings_read_them_keep_their_meaning(
    environment: pytest.MonkeyPatch, written: str, read: int
) -> None:
    # Given a number written as a deployment may pass it (CloudFormation passes Number
    # parameters on as written)
    environment.setenv("RATE_LIMIT_REQUESTS", written)
    # When the settings are made, then it is read as that whole number
    assert get_settings().rate_limit_requests == read


def test_settings_made_in_code_refuse_a_number_of_another_type() -> None:
    # When settings are made with a hold length given as text, then they are refused
    with pytest.raises(TypeError, match="hold_minutes must be a whole number"):
        Settings(table_name="bookings", hold_minutes="5")  # type: ignore[arg-type]
