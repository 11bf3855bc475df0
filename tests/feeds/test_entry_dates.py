"""Entry dates: none from the future, and a day without a time stays a day."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.feeds.documents import item, json_feed, parse, rss


def test_a_date_more_than_ten_minutes_ahead_is_no_date() -> None:
    feed = parse(
        rss(
            item("Soon", guid="1", extra="<pubDate>Sat, 01 Mar 2025 12:09:00 GMT</pubDate>"),
            item("Later", guid="2", extra="<pubDate>Sat, 01 Mar 2025 12:11:00 GMT</pubDate>"),
        )
    )

    assert [entry.published for entry in feed.entries] == [
        dt.datetime(2025, 3, 1, 12, 9, tzinfo=dt.UTC),
        None,
    ]


@pytest.mark.parametrize(
    ("written", "date_only"),
    [
        ("2025-02-27", True),
        ("Thu, 27 Feb 2025", True),
        ("27 Feb 2025", True),
        ("Thu, 27 Feb 2025 00:00:00 GMT", False),
        ("2025-02-27T00:00:00Z", False),
    ],
)
def test_a_date_without_a_time_is_marked_date_only(written: str, date_only: bool) -> None:
    feed = parse(rss(item("Dated", guid="1", extra=f"<pubDate>{written}</pubDate>")))

    entry = feed.entries[0]
    assert entry.published == dt.datetime(2025, 2, 27, tzinfo=dt.UTC)
    assert entry.date_only is date_only


def test_a_json_feed_date_without_a_time_is_marked_date_only() -> None:
    feed = parse(
        json_feed(
            {"id": "1", "title": "a", "date_published": "2025-02-27"},
            {"id": "2", "title": "b", "date_published": "2025-02-27T08:00:00Z"},
        ),
        content_type="application/feed+json",
    )

    assert [(entry.published, entry.date_only) for entry in feed.entries] == [
        (dt.datetime(2025, 2, 27, tzinfo=dt.UTC), True),
        (dt.datetime(2025, 2, 27, 8, tzinfo=dt.UTC), False),
    ]


def test_a_future_date_only_entry_has_neither_date_nor_flag() -> None:
    feed = parse(rss(item("Tomorrow", guid="1", extra="<pubDate>2025-03-02</pubDate>")))

    assert (feed.entries[0].published, feed.entries[0].date_only) == (None, False)
