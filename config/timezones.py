"""Time zone names: parsing what people type, and turning a stored name into a tzinfo."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import zoneinfo
from importlib import resources

_UTC_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_CANONICAL_OFFSET = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")


def parse_timezone(text: str) -> str:
    """An IANA name (any case), ``UTC``, or an offset ``UTC±H[:MM]`` → the name Herald stores.

    Offsets are stored as ``UTC+05:45``: zoneinfo has no zones for offsets that aren't whole
    hours, and a fixed offset is what the person asked for. Raises ValueError otherwise.
    """
    name = text.strip()
    if name.upper() in {"UTC", "GMT", "Z", "UTC+0", "UTC-0", "GMT+0"}:
        return "UTC"
    offset = _UTC_OFFSET.match(name)
    if offset is not None:
        sign, hours, minutes = offset[1], int(offset[2]), int(offset[3] or 0)
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            raise ValueError(f"{text!r} is not an offset between UTC-14 and UTC+14")
        if hours == minutes == 0:
            return "UTC"
        return f"UTC{sign}{hours:02d}:{minutes:02d}"
    if not name or ".." in name or name.startswith("/") or "\x00" in name:
        raise ValueError(f"{text!r} is not a time zone")
    exact = _names_by_folded().get(name.casefold())
    if exact is None:
        raise ValueError(f"{text!r} is not a time zone")
    return exact


def zone(name: str) -> dt.tzinfo:
    """The tzinfo for a stored name; UTC if the name is unknown (it was checked when stored)."""
    offset = _CANONICAL_OFFSET.match(name)
    if offset is not None:
        minutes = int(offset[2]) * 60 + int(offset[3])
        return dt.timezone(dt.timedelta(minutes=minutes if offset[1] == "+" else -minutes), name)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


# What people type for a zone that isn't one, and the city whose clock they mean.
_ABBREVIATIONS = {
    "est": "America/New_York",
    "edt": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "gmt": "Europe/London",
    "bst": "Europe/London",
    "cet": "Europe/Paris",
    "cest": "Europe/Paris",
    "eet": "Europe/Athens",
    "msk": "Europe/Moscow",
    "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "aest": "Australia/Sydney",
}


def suggestions(text: str, *, count: int = 3) -> list[str]:
    """Zone names close to ``text``, for a helpful refusal: Europe/Londn → Europe/London.

    Only current names are offered (the tz database's zone1970.tab), never an old alias
    such as Asia/Katmandu; an abbreviation (EST, CET) suggests the city it is usually meant
    for.
    """
    folded = text.strip().casefold().replace(" ", "_")
    names = _current_by_folded()
    cities = {key.rsplit("/", 1)[-1]: value for key, value in names.items()}
    found = difflib.get_close_matches(folded, list(names), n=count, cutoff=0.8)
    found += difflib.get_close_matches(folded, list(cities), n=count, cutoff=0.75)
    result = [names.get(key) or cities[key] for key in found]
    if folded in _ABBREVIATIONS:
        result.insert(0, _ABBREVIATIONS[folded])
    return list(dict.fromkeys(result))[:count]


def without_daylight_saving(name: str) -> bool:
    """Whether ``name`` is a fixed offset or an old alias where a city is likely meant.

    EST, MST and the like keep one offset all year, so someone in New York who picks EST
    gets digests an hour off for half the year.
    """
    # UTC and an offset typed as UTC±H are what the person asked for.
    return not name.startswith("UTC") and name not in _current_names()


@functools.cache
def _current_names() -> frozenset[str]:
    # tzdata ships zone1970.tab: one line per current zone, its name in the third column.
    table = resources.files("tzdata.zoneinfo").joinpath("zone1970.tab").read_text("utf-8")
    return frozenset(
        line.split("\t")[2] for line in table.splitlines() if line and not line.startswith("#")
    )


@functools.cache
def _current_by_folded() -> dict[str, str]:
    return {name.casefold(): name for name in _current_names()}


@functools.cache
def _names_by_folded() -> dict[str, str]:
    # tzdata (a dependency) provides the names even on machines without system zone files.
    return {name.casefold(): name for name in zoneinfo.available_timezones()}
