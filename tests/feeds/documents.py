"""Small feed documents for parser tests, built from the parts a test cares about."""

from __future__ import annotations

import json

from bot.domain import ParsedFeed
from bot.feeds.parser import parse_feed
from tests.feeds.conftest import NOW

URL = "https://shop.example/feed.xml"
HOME = "https://shop.example/"


def parse(body: bytes, *, content_type: str | None = "application/rss+xml") -> ParsedFeed:
    return parse_feed(body, url=URL, content_type=content_type, now=NOW)


def rss(*items: str, encoding: str = "utf-8") -> bytes:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>Shop</title><link>{HOME}</link>{''.join(items)}</channel></rss>"
    ).encode(encoding)


def item(title: str, *, guid: str | None = None, link: str | None = None, extra: str = "") -> str:
    parts = [f"<title>{title}</title>"]
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if link is not None:
        parts.append(f"<link>{link}</link>")
    return "<item>" + "".join(parts) + extra + "</item>"


def atom(*entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>Shop</title><link href="{HOME}"/><id>{URL}</id>{"".join(entries)}</feed>'
    ).encode()


def json_feed(*items: dict[str, object]) -> bytes:
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "home_page_url": HOME, "items": items}
    ).encode()
