"""Time zone names and offsets as people type them."""

import datetime as dt

import pytest

from config.timezones import parse_timezone, suggestions, without_daylight_saving, zone


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("Europe/London", "Europe/London"),
        ("europe/london", "Europe/London"),
        ("Asia/Kathmandu", "Asia/Kathmandu"),
        ("UTC+3", "UTC+03:00"),
        ("UTC-5", "UTC-05:00"),
        ("+2", "UTC+02:00"),
        ("UTC+5:30", "UTC+05:30"),
        ("UTC-03:30", "UTC-03:30"),
        ("GMT+0545", "UTC+05:45"),
        ("UTC+0", "UTC"),
    ],
)
def test_zones_are_iana_names_or_offsets(given: str, stored: str) -> None:
    assert parse_timezone(given) == stored


@pytest.mark.parametrize("given", ["Mars/Base", "", "UTC+15", "UTC+5:75", "../etc/passwd", "\x00"])
def test_unknown_zones_are_refused(given: str) -> None:
    with pytest.raises(ValueError, match="not"):
        parse_timezone(given)


def test_a_fractional_offset_is_a_fixed_zone() -> None:
    moment = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

    assert moment.astimezone(zone("UTC+05:45")).strftime("%H:%M") == "17:45"
    assert moment.astimezone(zone("UTC-03:30")).strftime("%H:%M") == "08:30"


def test_a_misspelt_zone_gets_suggestions() -> None:
    assert "Europe/London" in suggestions("Europe/Londn")
    assert "America/St_Johns" in suggestions("St Johns")
    assert suggestions("qqqqqqq") == []


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("Asia/Katmandu", "Asia/Kathmandu"),
        ("EST", "America/New_York"),
        ("PST", "America/Los_Angeles"),
        ("Europe/Londn", "Europe/London"),
    ],
)
def test_suggestions_offer_current_names_only(typed: str, offered: str) -> None:
    found = suggestions(typed)

    assert found[0] == offered
    assert "Asia/Katmandu" not in found


@pytest.mark.parametrize(
    ("name", "fixed"),
    [
        ("EST", True),
        ("HST", True),
        ("Etc/GMT+5", True),
        ("US/Eastern", False),
        ("Europe/Amsterdam", False),
        ("Europe/Oslo", False),
        ("Asia/Tokyo", False),
        ("America/New_York", False),
        ("UTC", False),
        ("UTC+05:45", False),
    ],
)
def test_only_zones_that_keep_one_offset_where_a_city_is_meant_get_the_warning(
    name: str, fixed: bool
) -> None:
    assert without_daylight_saving(name) is fixed


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Lisbon", "Europe/Lisbon"),
        ("new york", "America/New_York"),
        ("Tokyo", "Asia/Tokyo"),
        ("Beijing", "Asia/Shanghai"),
        ("Mumbai", "Asia/Kolkata"),
        ("San Francisco", "America/Los_Angeles"),
        ("Москва", "Europe/Moscow"),
        ("Oslo", "Europe/Oslo"),
    ],
)
def test_a_city_typed_on_its_own_is_its_zone(typed: str, stored: str) -> None:
    assert parse_timezone(typed) == stored
