"""Time zone names and offsets as people type them."""

import datetime as dt

import pytest

from config.timezones import parse_timezone, suggestions, zone


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
