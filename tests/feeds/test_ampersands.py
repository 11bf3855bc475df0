"""An "&" XML can't read (bare, or an HTML entity name) still reads as the publisher wrote."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.feeds import parse_feed

NOW = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)


def rss(title: str, link: str = "https://ms.example/1", channel: str = "M&S News") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{channel}</title><link>https://ms.example/?a=1&b=2</link>"
        f"<item><title>{title}</title><link>{link}</link>"
        "<description><![CDATA[<p>Tom & Jerry &amp; co</p>]]></description></item>"
        "</channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("AT&T buys Q&A site; R&D up", "AT&T buys Q&A site; R&D up"),
        ("Fish &amp; chips", "Fish & chips"),
        ("Caf&eacute; &copy; 2026&nbsp;news", "Café © 2026 news"),
        ("Ampersand & alone", "Ampersand & alone"),
        ("An &unknown; name", "An &unknown; name"),
        ("Numeric &#169; and &#xA9;", "Numeric © and ©"),
    ],
)
def test_titles_keep_every_ampersand_as_written(written: str, shown: str) -> None:
    feed = parse_feed(rss(written), url="https://ms.example/rss", content_type=None, now=NOW)

    [entry] = feed.entries
    assert entry.title == shown
    assert entry.summary == "Tom & Jerry & co"
    assert feed.title == "M&S News"


def test_links_with_bare_ampersands_keep_their_query_strings() -> None:
    feed = parse_feed(
        rss("R&D &copy;", link="https://ms.example/story?id=1&ref=rss"),
        url="https://ms.example/rss",
        content_type=None,
        now=NOW,
    )

    assert feed.entries[0].link == "https://ms.example/story?id=1&ref=rss"
    assert feed.link == "https://ms.example/?a=1&b=2"
