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
    exact = _names_by_folded().get(name.casefold()) or city_zone(name)
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
    """Whether ``name`` is an abbreviation or Etc/ zone that keeps one offset all year.

    EST, MST and the like keep one offset all year, so someone in New York who picks EST
    gets digests an hour off for half the year. A city's zone is what it is, daylight
    saving or not (Asia/Tokyo has none); UTC and offsets typed as UTC±H are what the
    person asked for.
    """
    if name.startswith("UTC") or ("/" in name and not name.startswith("Etc/")):
        return False
    tz = zone(name)
    year = dt.datetime.now(dt.UTC).year
    january, july = (dt.datetime(year, month, 1, tzinfo=dt.UTC) for month in (1, 7))
    return january.astimezone(tz).utcoffset() == july.astimezone(tz).utcoffset()


@functools.cache
def _current_names() -> frozenset[str]:
    # tzdata's zone.tab and zone1970.tab list the current names (a city per country, and
    # per region since 1970), never an old spelling such as Asia/Katmandu; the name is
    # the third column.
    names: set[str] = set()
    for table in ("zone.tab", "zone1970.tab"):
        text = resources.files("tzdata.zoneinfo").joinpath(table).read_text("utf-8")
        names.update(
            line.split("\t")[2] for line in text.splitlines() if line and not line.startswith("#")
        )
    return frozenset(names)


# Cities people name whose zone is named after another city.
_CITIES = {
    "beijing": "Asia/Shanghai",
    "peking": "Asia/Shanghai",
    "delhi": "Asia/Kolkata",
    "new_delhi": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "washington": "America/New_York",
    "boston": "America/New_York",
    "miami": "America/New_York",
    "san_francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "las_vegas": "America/Los_Angeles",
    "houston": "America/Chicago",
    "dallas": "America/Chicago",
    "montreal": "America/Toronto",
    "rio": "America/Sao_Paulo",
    "rio_de_janeiro": "America/Sao_Paulo",
    "geneva": "Europe/Zurich",
    "barcelona": "Europe/Madrid",
    "milan": "Europe/Rome",
    "munich": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "st_petersburg": "Europe/Moscow",
    "saint_petersburg": "Europe/Moscow",
    "kiev": "Europe/Kyiv",
    "москва": "Europe/Moscow",
    "санкт-петербург": "Europe/Moscow",
    "київ": "Europe/Kyiv",
    "киев": "Europe/Kyiv",
    "tel_aviv": "Asia/Jerusalem",
    "abu_dhabi": "Asia/Dubai",
    "doha": "Asia/Qatar",
    "osaka": "Asia/Tokyo",
    "kyoto": "Asia/Tokyo",
    "hanoi": "Asia/Bangkok",
    "ho_chi_minh_city": "Asia/Ho_Chi_Minh",
    "saigon": "Asia/Ho_Chi_Minh",
    "pyongyang": "Asia/Pyongyang",
    "melbourne": "Australia/Melbourne",
    "canberra": "Australia/Sydney",
    "wellington": "Pacific/Auckland",
}


def city_zone(text: str) -> str | None:
    """The current zone of a city typed on its own (``Lisbon``, ``new york``, ``Москва``)."""
    folded = text.strip().casefold().replace(" ", "_")
    if not folded:
        return None
    if folded in _CITIES:
        return _CITIES[folded]
    by_city = {name.rsplit("/", 1)[-1].casefold(): name for name in sorted(_current_names())}
    return by_city.get(folded)


@functools.cache
def _current_by_folded() -> dict[str, str]:
    return {name.casefold(): name for name in _current_names()}


@functools.cache
def _names_by_folded() -> dict[str, str]:
    # tzdata (a dependency) provides the names even on machines without system zone files.
    return {name.casefold(): name for name in zoneinfo.available_timezones()}
